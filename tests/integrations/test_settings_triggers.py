"""The triggers that tell workers an integration's settings changed survive a table rebuilt by a later migration."""

from __future__ import annotations

from django.db import connection

from integrations.models import Integration
from integrations.settings_triggers import settings_triggers_ensure
from mappings.models import FieldMapping
from tests.factories import IntegrationFactory


def version(integration: Integration) -> int:
    return Integration.objects.values_list("settings_version", flat=True).get(pk=integration.pk)


def a_mapping_row(integration: Integration) -> FieldMapping:
    from mappings.defaults import integration_setup_defaults

    integration_setup_defaults(integration=integration)
    return FieldMapping.objects.filter(entity_sync__integration=integration).first()


def triggers() -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'synkro_sv%'")
        else:
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'synkro_sv'")
        return cursor.fetchone()[0]


def rebuild_mapping_table() -> None:
    """What a later migration altering the mapping rows leaves on SQLite: the table made anew, its update trigger gone
    with the old one (SQLite drops a table's triggers with it)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER synkro_sv_mappings_fieldmapping_update")
        else:
            cursor.execute("DROP TRIGGER synkro_sv ON mappings_fieldmapping")


def test_a_mapping_change_after_a_table_rebuild_raises_the_version_once_migrate_has_run(db):
    integration = IntegrationFactory()
    row = a_mapping_row(integration)
    rebuild_mapping_table()
    before = version(integration)
    FieldMapping.objects.filter(pk=row.pk).update(position=row.position + 1)
    assert version(integration) == before  # without its trigger a worker would keep the old rows

    assert settings_triggers_ensure() > 0  # what every ``migrate`` runs afterwards (post_migrate)
    FieldMapping.objects.filter(pk=row.pk).update(position=row.position + 2)
    assert version(integration) > before


def test_ensuring_again_adds_no_second_trigger(db):
    migrated = triggers()
    assert migrated > 0
    settings_triggers_ensure()
    settings_triggers_ensure()
    assert triggers() == migrated
