"""Settings versions: each configuration change keeps the integration's whole configuration as it stood after it.

Changes recorded before keep none, except each integration's newest one: nothing has changed since, so today's
configuration is exactly what it left, and log entries written from now on can show it. The snapshot is built here
with the fields as they are at this migration (``mappings.provenance.integration_settings`` builds later ones).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

ENTITY_SETTINGS_FIELDS = [
    "direction", "conflict_owner", "trigger_field", "trigger_values", "erp_created_type", "type_lock",
    "number_authority", "relevant_flag_field", "delivery_target", "outgoing_order_type", "accepted_order_types",
    "polling_interval_seconds", "polling_offset_seconds", "reconcile_interval_hours",
]
MAPPING_FIELDS = ["erp_field", "crm_field", "direction", "value_map", "required", "conflict_owner", "overflow",
                  "position"]
POS_FIELDS = [
    "default_debtor_group", "default_pos_debtor", "default_item_group", "auto_invoice_cash_sales",
    "auto_invoice_debtor_sales", "pos_journal", "cash_gl_account", "difference_gl_account", "cash_payment_name",
    "debtor_payment_name", "daily_report_time", "variant_fields",
]


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _settings(apps, integration_id: int) -> dict[str, Any]:
    Integration = apps.get_model("integrations", "Integration")
    EntitySync = apps.get_model("mappings", "EntitySync")
    FieldMapping = apps.get_model("mappings", "FieldMapping")
    WebhookToggle = apps.get_model("mappings", "WebhookToggle")
    PosSettings = apps.get_model("mappings", "PosSettings")
    PosRegister = apps.get_model("mappings", "PosRegister")
    entities: dict[str, dict[str, Any]] = {}
    for values in EntitySync.objects.filter(integration_id=integration_id).values("entity", *ENTITY_SETTINGS_FIELDS):
        entity = values.pop("entity")
        entities[entity] = {"settings": {k: _jsonable(v) for k, v in values.items()}, "rows": [], "webhooks": []}
    for values in (FieldMapping.objects.filter(entity_sync__integration_id=integration_id).order_by("position", "pk")
                   .values("id", "entity_sync__entity", *MAPPING_FIELDS)):
        entity = values.pop("entity_sync__entity")
        entities[entity]["rows"].append({k: _jsonable(v) for k, v in values.items()})
    for values in (WebhookToggle.objects.filter(integration_id=integration_id).order_by("system", "entity", "action")
                   .values("system", "entity", "action", "enabled")):
        entity = values.pop("entity")
        entities.setdefault(entity, {"settings": {}, "rows": [], "webhooks": []})["webhooks"].append(values)
    pos = None
    pos_values = PosSettings.objects.filter(integration_id=integration_id).values("id", *POS_FIELDS).first()
    if pos_values is not None:
        pos_id = pos_values.pop("id")
        pos = {k: _jsonable(v) for k, v in pos_values.items()}
        pos["registers"] = list(PosRegister.objects.filter(pos_settings_id=pos_id).order_by("name", "pk")
                                .values("register_id", "name", "cash_gl_account"))
    active = Integration.objects.filter(pk=integration_id).values_list("active", flat=True).first()
    return {"shape": 1, "active": active, "entities": entities, "pos": pos}


def snapshot_newest_changes(apps, schema_editor) -> None:
    ConfigChange = apps.get_model("mappings", "ConfigChange")
    newest = (ConfigChange.objects.values("integration_id").annotate(newest=models.Max("pk"))
              .values_list("integration_id", "newest"))
    for integration_id, change_id in list(newest):
        ConfigChange.objects.filter(pk=change_id).update(settings_after=_settings(apps, integration_id))


class Migration(migrations.Migration):

    dependencies = [
        ("mappings", "0003_items_in_linked_data"),
        ("integrations", "0014_link_pending"),
    ]

    operations = [
        migrations.AddField(
            model_name="configchange",
            name="settings_after",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.RunPython(snapshot_newest_changes, migrations.RunPython.noop),
    ]
