"""Item mapping rows made before webCRM items moved to the quotation-line register are rewritten by 0003."""

from __future__ import annotations

import importlib

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from integrations.models import Integration
from integrations.systems.catalog import Entity
from integrations.systems.webcrm.catalog import webcrm_catalog
from mappings.defaults import PAIR_ROWS
from mappings.models import SyncEntity
from tests.factories import ConnectionFactory, IntegrationFactory, TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("mappings", "0002_field_limits")]
AFTER = [("mappings", "0003_items_in_linked_data")]
REGISTER = "QuotationLineLinkedDataItem"
#: The item rows the defaults wrote before the move (``git log -p mappings/defaults.py``).
OLD_DEFAULT_ITEM_ROWS = {
    "uniconta": [("Item", "ProductCustom1", True), ("Name", "ProductCombined", True), ("Unit", "ProductCustom2", False),
                 ("CostPrice", "ProductCostPrice", False), ("SalesPrice1", "ProductListPrice", False)],
    "fortnox": [("ArticleNumber", "ProductCustom1", True), ("Description", "ProductCombined", True),
                ("Unit", "ProductCustom2", False), ("PurchasePrice", "ProductCostPrice", False),
                ("SalesPrice", "ProductListPrice", False)],
    "vismanet": [("inventoryNumber", "ProductCustom1", True), ("description", "ProductCombined", True),
                 ("baseUnit", "ProductCustom2", False), ("defaultPrice", "ProductListPrice", False)],
}


def migrate(targets):
    """Move the database to ``targets``; the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.fixture
def old_apps():
    """The database as it was before 0003, put back to the newest state afterwards."""
    apps = migrate(BEFORE)
    yield apps
    call_command("migrate", verbosity=0)


def integration_as_then(integration: Integration) -> Integration:
    """Store an unsaved integration in the columns its table had then: later migrations' columns are not there yet."""
    with connection.cursor() as cursor:
        present = {c.name for c in connection.introspection.get_table_description(cursor, Integration._meta.db_table)}
        fields = [f for f in Integration._meta.concrete_fields if f.column in present and not f.primary_key]
        quote = connection.ops.quote_name
        cursor.execute(
            f"INSERT INTO {quote(Integration._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote('id')}",
            [f.get_db_prep_save(f.pre_save(integration, add=True), connection) for f in fields])
        integration.pk = cursor.fetchone()[0]
    return integration


def item_sync(apps, erp: str = "uniconta", front: str = "webcrm"):
    tenant = TenantFactory()
    integration = integration_as_then(IntegrationFactory.build(
        tenant=tenant, crm_connection=ConnectionFactory(tenant=tenant, system=front),
        erp_connection=ConnectionFactory(tenant=tenant, system=erp)))
    EntitySync = apps.get_model("mappings", "EntitySync")
    return EntitySync.objects.create(tenant_id=tenant.pk, integration_id=integration.pk, entity="item",
                                     direction="to_crm")


def add_rows(apps, entity_sync, rows) -> None:
    FieldMapping = apps.get_model("mappings", "FieldMapping")
    for position, (erp_field, crm_field, required) in enumerate(rows):
        FieldMapping.objects.create(tenant_id=entity_sync.tenant_id, entity_sync_id=entity_sync.pk,
                                    erp_field=erp_field, crm_field=crm_field, required=required, position=position)


def rows_of(apps, entity_sync_id: int) -> list[tuple[str, str, bool]]:
    FieldMapping = apps.get_model("mappings", "FieldMapping")
    return [(m.erp_field, m.crm_field, m.required)
            for m in FieldMapping.objects.filter(entity_sync_id=entity_sync_id).order_by("position", "pk")]


@pytest.mark.parametrize("erp", sorted(OLD_DEFAULT_ITEM_ROWS))
def test_rows_of_the_old_defaults_become_the_rows_the_defaults_make_now(old_apps, erp):
    entity_sync = item_sync(old_apps, erp)
    add_rows(old_apps, entity_sync, OLD_DEFAULT_ITEM_ROWS[erp])

    apps = migrate(AFTER)

    now = [(erp_field, crm_field, required)
           for erp_field, crm_field, _direction, required in PAIR_ROWS[("webcrm", erp)][SyncEntity.ITEM]]
    assert rows_of(apps, entity_sync.pk) == now


def test_fields_without_an_equivalent_are_deleted_and_the_audit_trail_says_why(old_apps):
    entity_sync = item_sync(old_apps)
    add_rows(old_apps, entity_sync, [("Item", "ProductCustom1", True), ("Group", "ProductCustom7", False),
                                     ("Name", "ProductCombined", True), ("Note", "ProductComment", False),
                                     ("Qty", "ProductQuantity", False), ("Vat", "ProductVatCode", False)])

    apps = migrate(AFTER)

    assert rows_of(apps, entity_sync.pk) == [("Item", f"{REGISTER}Data1", True), ("Name", f"{REGISTER}Data2", True),
                                             ("Vat", f"{REGISTER}VatCode", False)]
    changes = apps.get_model("mappings", "ConfigChange").objects.filter(integration_id=entity_sync.integration_id)
    deleted = {c.changes["crm_field"][0] for c in changes if c.action == "deleted"}
    assert deleted == {"ProductCustom7", "ProductComment", "ProductQuantity"}
    assert all("quotation-line register" in c.subject and c.user_id is None for c in changes)
    updated = {tuple(c.changes["crm_field"]) for c in changes if c.action == "updated"}
    assert ("ProductCustom1", f"{REGISTER}Data1") in updated and len(updated) == 3


def test_the_list_price_wins_the_register_price_and_the_sold_price_stands_in_only_alone(old_apps):
    both = item_sync(old_apps)
    add_rows(old_apps, both, [("SalesPrice2", "ProductPrice", False), ("SalesPrice1", "ProductListPrice", False)])
    alone = item_sync(old_apps)
    add_rows(old_apps, alone, [("SalesPrice1", "ProductPrice", False)])

    apps = migrate(AFTER)

    assert rows_of(apps, both.pk) == [("SalesPrice1", f"{REGISTER}Price", False)]
    assert rows_of(apps, alone.pk) == [("SalesPrice1", f"{REGISTER}Price", False)]


def test_a_register_field_already_mapped_keeps_its_row_and_the_old_one_goes(old_apps):
    entity_sync = item_sync(old_apps)
    add_rows(old_apps, entity_sync, [("Item", f"{REGISTER}Data1", True), ("Number", "ProductCustom1", True)])

    apps = migrate(AFTER)

    assert rows_of(apps, entity_sync.pk) == [("Item", f"{REGISTER}Data1", True)]


def test_other_entities_and_other_front_systems_are_left_alone(old_apps):
    webcrm_items = item_sync(old_apps)
    EntitySync = old_apps.get_model("mappings", "EntitySync")
    organisations = EntitySync.objects.create(tenant_id=webcrm_items.tenant_id,
                                              integration_id=webcrm_items.integration_id, entity="organisation")
    add_rows(old_apps, organisations, [("Name", "OrganisationName", True), ("Product", "ProductCustom1", False)])
    pos_items = item_sync(old_apps, front="customers1st")
    add_rows(old_apps, pos_items, [("Item", "productno", True), ("Name", "ProductCombined", False)])

    apps = migrate(AFTER)

    assert rows_of(apps, organisations.pk) == [("Name", "OrganisationName", True), ("Product", "ProductCustom1", False)]
    assert rows_of(apps, pos_items.pk) == [("Item", "productno", True), ("Name", "ProductCombined", False)]


def test_reversing_maps_the_register_fields_back(old_apps):
    entity_sync = item_sync(old_apps)
    add_rows(old_apps, entity_sync, OLD_DEFAULT_ITEM_ROWS["uniconta"] + [("Note", "ProductComment", False)])
    migrate(AFTER)

    apps = migrate(BEFORE)

    assert rows_of(apps, entity_sync.pk) == OLD_DEFAULT_ITEM_ROWS["uniconta"]


def test_every_equivalent_is_a_field_of_the_register():
    migration = importlib.import_module("mappings.migrations.0003_items_in_linked_data")
    register = webcrm_catalog().entity(Entity.ITEM)
    assert register.vendor_name == "QuotationLines/LinkedData"
    for _old, new in migration.EQUIVALENTS:
        assert register.field(new) is not None, new
