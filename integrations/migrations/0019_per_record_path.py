"""The integration's settings version, kept by database triggers (see ``Integration.settings_version``).

A worker keeps an integration's settings between events and reuses them only while this number is what the
claim of the next event reads (``engine/settings_cache.py``). Triggers, not signals or services: a change made
by any path (a form, the API, the admin, a shell ``update()``, a token refresh) must invalidate the settings.
"""

from django.db import migrations, models

#: Tables whose rows hold an ``integration_id`` column: any insert, update or delete bumps that integration.
BY_INTEGRATION = ("mappings_entitysync", "mappings_possettings", "mappings_configchange")
BUMP = "UPDATE integrations_integration SET settings_version = settings_version + 1 WHERE "

SQLITE_FORWARD = [
    *[f"CREATE TRIGGER synkro_sv_{table}_{op.lower()} AFTER {op} ON {table} BEGIN "
      f"{BUMP}id IN ({row}.integration_id); END;"
      for table in BY_INTEGRATION for op, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))],
    "CREATE TRIGGER synkro_sv_entitysync_moved AFTER UPDATE ON mappings_entitysync "
    f"WHEN NEW.integration_id IS NOT OLD.integration_id BEGIN {BUMP}id = OLD.integration_id; END;",
    *[f"CREATE TRIGGER synkro_sv_mappings_fieldmapping_{op.lower()} AFTER {op} ON mappings_fieldmapping BEGIN "  # noqa: S608
      f"{BUMP}id IN (SELECT integration_id FROM mappings_entitysync WHERE id IN ({rows})); END;"
      for op, rows in (("INSERT", "NEW.entity_sync_id"), ("UPDATE", "NEW.entity_sync_id, OLD.entity_sync_id"),
                       ("DELETE", "OLD.entity_sync_id"))],
    "CREATE TRIGGER synkro_sv_connection AFTER UPDATE ON integrations_connection "
    "WHEN NEW.credentials IS NOT OLD.credentials OR NEW.base_url IS NOT OLD.base_url "
    "OR NEW.system IS NOT OLD.system BEGIN "
    f"{BUMP}crm_connection_id = NEW.id OR erp_connection_id = NEW.id; END;",
    # Recursive triggers are off in SQLite by default; the WHEN clause keeps it so if they were switched on.
    "CREATE TRIGGER synkro_sv_integration AFTER UPDATE ON integrations_integration "
    f"WHEN NEW.settings_version = OLD.settings_version BEGIN {BUMP}id = NEW.id; END;",
]
SQLITE_BACKWARD = [
    *[f"DROP TRIGGER IF EXISTS synkro_sv_{table}_{op}" for table in (*BY_INTEGRATION, "mappings_fieldmapping")
      for op in ("insert", "update", "delete")],
    "DROP TRIGGER IF EXISTS synkro_sv_entitysync_moved",
    "DROP TRIGGER IF EXISTS synkro_sv_connection",
    "DROP TRIGGER IF EXISTS synkro_sv_integration",
]

POSTGRES_FORWARD = [
    """CREATE OR REPLACE FUNCTION synkro_sv_by_integration() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    UPDATE integrations_integration SET settings_version = settings_version + 1 WHERE id = OLD.integration_id;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    UPDATE integrations_integration SET settings_version = settings_version + 1 WHERE id = NEW.integration_id;
  END IF;
  RETURN NULL;
END $$""",
    """CREATE OR REPLACE FUNCTION synkro_sv_by_entity_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    UPDATE integrations_integration SET settings_version = settings_version + 1
     WHERE id IN (SELECT integration_id FROM mappings_entitysync WHERE id = OLD.entity_sync_id);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    UPDATE integrations_integration SET settings_version = settings_version + 1
     WHERE id IN (SELECT integration_id FROM mappings_entitysync WHERE id = NEW.entity_sync_id);
  END IF;
  RETURN NULL;
END $$""",
    """CREATE OR REPLACE FUNCTION synkro_sv_by_connection() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE integrations_integration SET settings_version = settings_version + 1
   WHERE crm_connection_id = NEW.id OR erp_connection_id = NEW.id;
  RETURN NULL;
END $$""",
    """CREATE OR REPLACE FUNCTION synkro_sv_own() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.settings_version = OLD.settings_version THEN
    NEW.settings_version := OLD.settings_version + 1;
  END IF;
  RETURN NEW;
END $$""",
    *[f"CREATE TRIGGER synkro_sv AFTER INSERT OR UPDATE OR DELETE ON {table} "
      "FOR EACH ROW EXECUTE FUNCTION synkro_sv_by_integration()" for table in BY_INTEGRATION],
    "CREATE TRIGGER synkro_sv AFTER INSERT OR UPDATE OR DELETE ON mappings_fieldmapping "
    "FOR EACH ROW EXECUTE FUNCTION synkro_sv_by_entity_sync()",
    "CREATE TRIGGER synkro_sv AFTER UPDATE ON integrations_connection FOR EACH ROW "
    "WHEN (NEW.credentials IS DISTINCT FROM OLD.credentials OR NEW.base_url IS DISTINCT FROM OLD.base_url "
    "OR NEW.system IS DISTINCT FROM OLD.system) EXECUTE FUNCTION synkro_sv_by_connection()",
    "CREATE TRIGGER synkro_sv BEFORE UPDATE ON integrations_integration FOR EACH ROW "
    "EXECUTE FUNCTION synkro_sv_own()",
]
POSTGRES_BACKWARD = [
    *[f"DROP TRIGGER IF EXISTS synkro_sv ON {table}" for table in
      (*BY_INTEGRATION, "mappings_fieldmapping", "integrations_connection", "integrations_integration")],
    "DROP FUNCTION IF EXISTS synkro_sv_by_integration()",
    "DROP FUNCTION IF EXISTS synkro_sv_by_entity_sync()",
    "DROP FUNCTION IF EXISTS synkro_sv_by_connection()",
    "DROP FUNCTION IF EXISTS synkro_sv_own()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0018_ingest_cost'),
        ('mappings', '0004_config_snapshots'),
    ]

    operations = [
        migrations.AddField(
            model_name='integration',
            name='settings_version',
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(_run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
                             _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD})),
    ]
