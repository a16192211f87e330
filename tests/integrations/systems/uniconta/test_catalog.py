"""The Uniconta catalog names real properties, with the right keys, types and flags."""

from __future__ import annotations

import pytest

from integrations.systems.catalog import Entity, FieldType
from integrations.systems.uniconta import provider
from integrations.systems.uniconta.catalog import CHANGE_TABLES, POS_VARIANT_USER_FIELDS

CATALOG = provider.catalog()


def test_every_entity_names_its_id_number_and_modified_fields_among_its_fields():
    for spec in CATALOG.entities:
        names = {f.name for f in spec.fields}
        assert spec.id_field in names, spec.vendor_name
        assert spec.number_field is None or spec.number_field in names
        assert spec.modified_field is None or spec.field(spec.modified_field).type == FieldType.DATETIME


@pytest.mark.parametrize("entity, vendor_name, id_field", [
    (Entity.ORGANISATION, "DebtorClient", "Account"), (Entity.PERSON, "ContactClient", "RowId"),
    (Entity.ITEM, "InvItemClient", "Item"), (Entity.DELIVERY, "DebtorOrderClient", "OrderNumber"),
    (Entity.DELIVERY_LINE, "DebtorOrderLineClient", "RowId"), (Entity.INVOICE, "DebtorInvoiceClient", "InvoiceNumber"),
    (Entity.INVOICE_LINE, "DebtorInvoiceLines", "RowId"), (Entity.USER, "EmployeeClient", "Number"),
    (Entity.JOURNAL_LINE, "GLDailyJournalLineClient", "RowId"), (Entity.POS_SALE, "DebtorOrderClient", "OrderNumber"),
    (Entity.DAILY_REPORT, "GLDailyJournalLineClient", "RowId"),
])
def test_entities_map_to_uniconta_client_classes(entity, vendor_name, id_field):
    spec = CATALOG.entity(entity)
    assert (spec.vendor_name, spec.id_field) == (vendor_name, id_field)


@pytest.mark.parametrize("entity, names", [
    (Entity.ORGANISATION, ["Account", "Name", "Address1", "Address2", "Address3", "ZipCode", "City", "Country",
                           "Phone", "MobilPhone", "ContactEmail", "InvoiceEmail", "ContactPerson", "CompanyRegNo",
                           "VatNumber", "Vat", "VatZone", "EAN", "Payment", "Group", "Currency", "Employee",
                           "PriceList", "CreditMax", "Blocked", "Www"]),
    (Entity.PERSON, ["Name", "Email", "Mobil", "Title", "DCType", "DCAccount", "ContactType"]),
    (Entity.ITEM, ["Item", "Name", "Group", "Unit", "CostPrice", "SalesPrice1", "SalesPrice2", "SalesPrice3", "EAN",
                   "Qty", "Blocked", "UseVariants"]),
    (Entity.DELIVERY_LINE, ["OrderNumber", "LineNumber", "Item", "Text", "Qty", "Price", "DiscountPct", "Discount",
                            "Unit", "Vat", "CostPrice", "Margin", "MarginRatio", "Total"]),
    (Entity.INVOICE, ["InvoiceNumber", "Date", "Account", "OrderNumber", "NetAmount", "VatAmount", "TotalAmount",
                      "CostValue", "Margin", "MarginRatio", "JournalPostedId"]),
    (Entity.USER, ["Number", "Name", "Email", "Mobil", "Title", "Group", "UserLoginId", "Blocked"]),
    (Entity.JOURNAL_LINE, ["Journal", "Date", "Account", "AccountType", "OffsetAccount", "Debit", "Credit", "Text",
                           "Voucher"]),
])
def test_documented_properties_are_offered(entity, names):
    spec = CATALOG.entity(entity)
    assert [n for n in names if spec.field(n) is None] == []


def test_what_only_uniconta_sets_is_read_only():
    assert CATALOG.field(Entity.DELIVERY, "OrderNumber").read_only
    assert CATALOG.field(Entity.DELIVERY_LINE, "Total").read_only
    assert CATALOG.field(Entity.ITEM, "Qty").read_only
    assert all(f.read_only for f in CATALOG.entity(Entity.INVOICE).fields)
    assert all(CATALOG.field(e, "RowId").read_only for e in (Entity.ORGANISATION, Entity.PERSON, Entity.ITEM))
    assert not CATALOG.field(Entity.ORGANISATION, "Name").read_only


def test_required_fields_are_the_ones_uniconta_refuses_blank():
    assert CATALOG.field(Entity.ORGANISATION, "Name").required
    assert not CATALOG.field(Entity.ORGANISATION, "Account").required  # the number series fills it
    assert CATALOG.field(Entity.ITEM, "Item").required
    assert CATALOG.field(Entity.DELIVERY, "Account").required
    assert CATALOG.field(Entity.JOURNAL_LINE, "Journal").required


def test_user_fields_are_open_where_uniconta_has_them():
    assert CATALOG.entity(Entity.ITEM).open_custom_fields
    assert CATALOG.entity(Entity.ORGANISATION).open_custom_fields
    assert not CATALOG.entity(Entity.PERSON).open_custom_fields
    assert all(name.startswith("x") for name in POS_VARIANT_USER_FIELDS)


def test_types_are_uniconta_types():
    assert CATALOG.field(Entity.ORGANISATION, "CreditMax").type == FieldType.DECIMAL
    assert CATALOG.field(Entity.ORGANISATION, "Blocked").type == FieldType.BOOLEAN
    assert CATALOG.field(Entity.ORGANISATION, "ContactEmail").type == FieldType.EMAIL
    assert CATALOG.field(Entity.ORGANISATION, "VatZone").choices == ("Domestic", "EU", "Abroad")
    assert CATALOG.field(Entity.DELIVERY, "lines").type == FieldType.LIST


def test_every_change_url_table_belongs_to_a_catalog_entity():
    assert set(CHANGE_TABLES) <= {spec.entity for spec in CATALOG.entities}
    assert CHANGE_TABLES[Entity.ORGANISATION] == "Debtor" and CHANGE_TABLES[Entity.ITEM] == "InvItem"


def test_default_field_mappings_name_real_uniconta_fields():
    from mappings.defaults import PAIR_ROWS

    missing = [(entity, erp_field) for (_front, erp), entities in PAIR_ROWS.items() if erp == "uniconta"
               for entity, rows in entities.items() for erp_field, *_rest in rows
               if CATALOG.field(entity, erp_field) is None]
    assert missing == []
