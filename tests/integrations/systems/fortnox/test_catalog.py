"""The Fortnox catalog tells the truth: every field, type and flag checked against Fortnox's description."""

from __future__ import annotations

import pytest

from integrations.systems.catalog import Entity, FieldType
from integrations.systems.fortnox import provider
from integrations.systems.fortnox.catalog import NUMBERS_SENT_AS_TEXT, fortnox_catalog

from ..contract import load_spec, spec_source  # noqa: F401 - each test per source: digest, description

SPEC = "fortnox-openapi.json"
SCHEMAS = {
    Entity.ORGANISATION: "fortnox_Customer", Entity.ITEM: "fortnox_Article", Entity.DELIVERY: "fortnox_Order",
    Entity.DELIVERY_LINE: "fortnox_Order_OrderRow", Entity.INVOICE: "fortnox_Invoice",
    Entity.INVOICE_LINE: "fortnox_Invoice_InvoiceRow", Entity.USER: "fortnox_Employee",
}
JSON_TYPES = {FieldType.DECIMAL: "number", FieldType.INTEGER: "integer", FieldType.BOOLEAN: "boolean"}


def schema_property(entity: Entity, name: str) -> dict:
    schemas = load_spec(SPEC)["components"]["schemas"]
    schema = schemas[SCHEMAS[entity]]
    if "." in name:
        outer, name = name.split(".", 1)
        schema = schemas[schema["properties"][outer]["$ref"].split("/")[-1]]
    return schema["properties"][name]


def test_entities_fortnox_offers_and_none_it_does_not():
    catalog = fortnox_catalog()

    assert {spec.entity for spec in catalog.entities} == set(SCHEMAS)
    assert not catalog.supports(Entity.PERSON)  # Fortnox keeps no contact persons
    assert provider.catalog() == catalog


@pytest.mark.parametrize("entity", list(SCHEMAS))
def test_every_field_exists_in_the_description_with_its_type_and_length(entity):
    spec = fortnox_catalog().entity(entity)
    assert spec is not None
    as_text = NUMBERS_SENT_AS_TEXT.get(entity, frozenset())
    for field in spec.fields:
        documented = schema_property(entity, field.name)
        expected = "string" if field.name in as_text else JSON_TYPES.get(field.type, "string")
        assert documented["type"] == expected, field.name
        assert field.max_length == documented.get("maxLength"), field.name
        if "enum" in documented:
            assert set(documented["enum"]) <= set(field.choices), field.name


@pytest.mark.parametrize("entity", list(SCHEMAS))
def test_required_fields_are_those_the_description_requires(entity):
    spec = fortnox_catalog().entity(entity)
    required = set(load_spec(SPEC)["components"]["schemas"][SCHEMAS[entity]].get("required", []))

    assert {f.name for f in spec.fields if f.required} == required


def test_ids_and_numbers():
    catalog = fortnox_catalog()
    ids = {spec.entity: (spec.id_field, spec.number_field, spec.modified_field) for spec in catalog.entities}

    assert ids[Entity.ORGANISATION] == ("CustomerNumber", "CustomerNumber", None)
    assert ids[Entity.ITEM] == ("ArticleNumber", "ArticleNumber", None)
    assert ids[Entity.DELIVERY] == ("DocumentNumber", "DocumentNumber", None)
    assert ids[Entity.INVOICE] == ("DocumentNumber", "DocumentNumber", None)
    assert ids[Entity.USER] == ("EmployeeId", "EmployeeId", None)
    assert not any(field.custom for spec in catalog.entities for field in spec.fields)


def test_invoice_read_only_fields_are_those_the_writable_shape_leaves_out():
    schemas = load_spec(SPEC)["components"]["schemas"]
    payload = schemas["fortnox_InvoicePayload"]["properties"]
    writable = {name for name, prop in payload.items() if prop.get("type") not in ("array", None)}
    spec = fortnox_catalog().entity(Entity.INVOICE)

    assert {f.name for f in spec.fields if not f.read_only} == writable
    assert spec.field("Booked").read_only and spec.field("Balance").read_only


@pytest.mark.parametrize(("entity", "name"), [
    (Entity.ORGANISATION, "@url"), (Entity.ORGANISATION, "Country"), (Entity.ITEM, "SalesPrice"),
    (Entity.ITEM, "DisposableQuantity"), (Entity.DELIVERY, "Total"), (Entity.DELIVERY, "InvoiceReference"),
    (Entity.DELIVERY_LINE, "RowId"), (Entity.INVOICE_LINE, "Total"), (Entity.USER, "FullName"),
])
def test_fields_fortnox_computes_are_read_only(entity, name):
    assert fortnox_catalog().field(entity, name).read_only


def test_the_default_mappings_name_real_fortnox_fields():
    from mappings.defaults import PAIR_ROWS

    catalog = fortnox_catalog()
    rows = PAIR_ROWS[("webcrm", "fortnox")]
    unknown = [(str(entity), erp_field) for entity, entity_rows in rows.items()
               for erp_field, _front, _direction, _required in entity_rows
               if catalog.field(str(entity), erp_field) is None]

    assert unknown == []
