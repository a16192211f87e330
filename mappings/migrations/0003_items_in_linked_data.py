"""webCRM items moved from ``/Products`` to the quotation-line item register: rewrite the item mapping rows.

Integrations set up before the move keep item rows whose webCRM field is a ``Product*`` field the catalog no longer
knows. Each one with an equivalent in the register (``QuotationLineLinkedDataItem*``, the fields
``mappings.defaults.PAIR_ROWS`` maps now) is rewritten to it; the rest are deleted, since webCRM's register has no
such field (comments, discounts, quantities, stock status, custom and plus fields, change stamps). Every rewrite and
delete is written to the integration's configuration audit trail, so support can see why a row changed.

Reversing maps the register's fields back to their ``Product*`` names; deleted rows cannot come back.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

REGISTER = "QuotationLineLinkedDataItem"
#: Old ``/Products`` field → its equivalent in the register, as ``mappings.defaults`` maps them now (item number in
#: data column 1, name in 2, unit in 3; cost price; the list price is the register's price). Earlier entries win:
#: ``ProductPrice`` (the price one organisation's product was sold at) stands in for the list price only where the
#: entity maps no list price.
EQUIVALENTS: tuple[tuple[str, str], ...] = (
    ("ProductId", f"{REGISTER}Id"),
    ("ProductCustom1", f"{REGISTER}Data1"),
    ("ProductCombined", f"{REGISTER}Data2"),
    ("ProductCustom2", f"{REGISTER}Data3"),
    ("ProductMemo", f"{REGISTER}DataMemo"),
    ("ProductListPrice", f"{REGISTER}Price"),
    ("ProductPrice", f"{REGISTER}Price"),
    ("ProductCostPrice", f"{REGISTER}CostPrice"),
    ("ProductVatCode", f"{REGISTER}VatCode"),
)
#: The way back: each register field to the first ``Product*`` field that maps to it.
BACK: dict[str, str] = {}
for _old, _new in EQUIVALENTS:
    BACK.setdefault(_new, _old)
WHY = "webCRM items moved to the quotation-line register"


def _item_rows(apps, prefix: str):
    """The item rows of webCRM integrations whose webCRM field starts with ``prefix`` (case counts, also on SQLite)."""
    FieldMapping = apps.get_model("mappings", "FieldMapping")
    rows = (FieldMapping.objects
            .filter(entity_sync__entity="item", entity_sync__integration__crm_connection__system="webcrm",
                    crm_field__startswith=prefix)
            .select_related("entity_sync__integration")
            .order_by("entity_sync_id", "position", "pk"))
    return [row for row in rows if row.crm_field.startswith(prefix)]


def _record(apps, row: Any, action: str, changes: dict[str, list[Any]]) -> None:
    ConfigChange = apps.get_model("mappings", "ConfigChange")
    integration = row.entity_sync.integration
    ConfigChange.objects.create(tenant_id=integration.tenant_id, integration=integration, user=None, action=action,
                                subject=f"Items mapping {row.erp_field} ↔ {row.crm_field} ({WHY})"[:200],
                                changes=changes)


def _rewrite(apps, rows: list[Any], target_of) -> None:
    """Give each row the field ``target_of(crm_field)`` names (None: delete it). A row whose target another row of
    the same entity already maps is deleted too: one webCRM field is fed by one row."""
    FieldMapping = apps.get_model("mappings", "FieldMapping")
    taken: dict[int, set[str]] = {}
    for row in rows:
        if row.entity_sync_id not in taken:
            taken[row.entity_sync_id] = set(
                FieldMapping.objects.filter(entity_sync_id=row.entity_sync_id).values_list("crm_field", flat=True))
    ordered = sorted(rows, key=lambda row: (row.entity_sync_id, _rank(row.crm_field), row.position, row.pk))
    for row in ordered:
        target = target_of(row.crm_field)
        if target is None or target in taken[row.entity_sync_id]:
            _record(apps, row, "deleted", {"erp_field": [row.erp_field, None], "crm_field": [row.crm_field, None],
                                           "direction": [row.direction, None], "required": [row.required, None]})
            row.delete()
            continue
        taken[row.entity_sync_id].add(target)
        _record(apps, row, "updated", {"crm_field": [row.crm_field, target]})
        row.crm_field = target
        row.save(update_fields=["crm_field"])


def _rank(field: str) -> int:
    """A field's place in ``EQUIVALENTS`` (earlier wins a shared target); those without one come last."""
    for index, (old, new) in enumerate(EQUIVALENTS):
        if field in (old, new):
            return index
    return len(EQUIVALENTS)


def items_to_register(apps, schema_editor) -> None:
    """``Product*`` item rows of webCRM integrations → the register's fields; rows without an equivalent deleted."""
    _rewrite(apps, _item_rows(apps, "Product"), dict(EQUIVALENTS).get)


def items_to_products(apps, schema_editor) -> None:
    """The register's fields of webCRM item rows → their ``Product*`` names (rows deleted going forward stay gone)."""
    _rewrite(apps, [row for row in _item_rows(apps, REGISTER) if row.crm_field in BACK], BACK.get)


class Migration(migrations.Migration):

    dependencies = [
        ('mappings', '0002_field_limits'),
    ]

    operations = [
        migrations.RunPython(items_to_register, items_to_products),
    ]
