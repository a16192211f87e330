"""The catalog tells the truth about Visma.net: every field is in the vendor's DTOs under that name."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.systems.catalog import Entity, FieldType
from integrations.systems.vismanet import dto, provider
from tests.integrations.systems.contract import (  # noqa: F401 - spec_source: digest, and description
    load_spec,
    request_schema,
    response_schema,
    spec_source,
)

SPEC = "vismanet-legacy-swagger.json"
#: The Sales Order service's digest (docs/vendors/facts/vismanet-salesorders.json).
ORDERS = "vismanet-salesorders"
#: Sales orders are the Sales Order service's, checked against its hand-recorded digest (``ORDERS``).
READ_DTOS = {Entity.ORGANISATION: "CustomerDto", Entity.PERSON: "ContactDto", Entity.ITEM: "InventoryDto",
             Entity.INVOICE: "CustomerInvoiceDto", Entity.INVOICE_LINE: "CustomerInvoiceLineDto",
             Entity.USER: "EmployeeDto"}
UPDATE_DTOS = {Entity.ORGANISATION: "CustomerUpdateDto", Entity.PERSON: "ContactUpdateDto",
               Entity.ITEM: "InventoryUpdateDto", Entity.INVOICE: "CustomerInvoiceUpdateDto",
               Entity.INVOICE_LINE: "CustomerInvoiceLinesUpdateDto"}
#: Fields of the current API that the 2016 description lacks (see docs/vendors/vismanet.md).
NOT_IN_LEGACY_SPEC = {(Entity.ORGANISATION, "gln"), (Entity.ITEM, "baseUnit")}
LINES = {Entity.INVOICE: ("invoiceLines", Entity.INVOICE_LINE)}
SALES_ORDER_PARTS = {Entity.DELIVERY: "order", Entity.DELIVERY_LINE: "line"}


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    definitions = load_spec(SPEC)["definitions"]
    while "$ref" in node:
        node = definitions[node["$ref"].rsplit("/", 1)[-1]]
    return node


def read_property(definition: str, dotted: str) -> dict[str, Any] | None:
    node = resolve({"$ref": f"#/definitions/{definition}"})
    for part in dotted.split("."):
        prop = node.get("properties", {}).get(part)
        if prop is None:
            return None
        node = resolve(prop)
    return node


def write_property(definition: str, dotted: str) -> dict[str, Any] | None:
    node = resolve({"$ref": f"#/definitions/{definition}"})
    for part in dotted.split("."):
        prop = node.get("properties", {}).get(part)
        if prop is None:
            return None
        node = resolve(prop)
        if set(node.get("properties", {})) == {"value"}:
            node = resolve(node["properties"]["value"])
    return node


@pytest.fixture(scope="module")
def catalog():
    return provider.catalog()


def test_offers_the_entities_visma_has(catalog):
    assert {spec.entity for spec in catalog.entities} == set(READ_DTOS) | set(SALES_ORDER_PARTS)
    customer = catalog.entity(Entity.ORGANISATION)
    assert (customer.vendor_name, customer.id_field, customer.number_field, customer.modified_field) == (
        "customer", "number", "number", "lastModifiedDateTime")
    assert catalog.entity(Entity.PERSON).id_field == "contactId"
    assert catalog.entity(Entity.ITEM).number_field == "inventoryNumber"
    assert catalog.entity(Entity.DELIVERY).id_field == "orderId"
    assert catalog.entity(Entity.INVOICE).id_field == "referenceNumber"
    assert catalog.entity(Entity.USER).id_field == "employeeNumber"


@pytest.mark.parametrize("entity", list(READ_DTOS))
def test_every_field_is_in_the_read_dto(catalog, entity):
    for spec in catalog.entity(entity):
        if spec.name == "lines" or (entity, spec.name) in NOT_IN_LEGACY_SPEC:
            continue
        prop = read_property(READ_DTOS[entity], spec.name)
        assert prop is not None, f"{READ_DTOS[entity]} has no {spec.name}"
        if spec.type in (FieldType.DECIMAL,):
            assert prop["type"] == "number", spec.name
        if spec.type == FieldType.INTEGER:
            assert prop["type"] == "integer", spec.name
        if spec.type == FieldType.BOOLEAN:
            assert prop["type"] == "boolean", spec.name
        if spec.type == FieldType.CHOICE:
            assert set(spec.choices) == set(prop["enum"]), spec.name


@pytest.mark.parametrize("entity", list(UPDATE_DTOS))
def test_writable_fields_are_in_the_update_dto_and_the_rest_read_only(catalog, entity):
    line = entity in (Entity.DELIVERY_LINE, Entity.INVOICE_LINE)
    owner = {Entity.DELIVERY_LINE: Entity.DELIVERY, Entity.INVOICE_LINE: Entity.INVOICE}.get(entity, entity)
    for spec in catalog.entity(entity):
        if spec.name == "lines" or (entity, spec.name, "write") in NOT_IN_LEGACY_SPEC:
            continue
        written = write_property(UPDATE_DTOS[entity], dto.write_name(owner, spec.name, line=line))
        if spec.read_only:
            assert written is None or spec.name == "referenceNumber", \
                f"{spec.name} is writable in {UPDATE_DTOS[entity]}"
        else:
            assert written is not None, f"{UPDATE_DTOS[entity]} cannot write {spec.name}"


def test_employees_are_read_only_everywhere(catalog):
    assert all(spec.read_only for spec in catalog.entity(Entity.USER))


def test_documents_keep_lines_under_visma_names():
    for entity, (key, _line_entity) in LINES.items():
        assert read_property(READ_DTOS[entity], key)["type"] == "array"
        assert dto.LINE_LISTS[entity] == key


def test_required_fields_are_the_ones_visma_insists_on(catalog):
    required = {(spec.entity, f.name) for spec in catalog.entities for f in spec if f.required}
    assert {(Entity.ORGANISATION, "name"), (Entity.PERSON, "lastName"), (Entity.ITEM, "inventoryNumber"),
            (Entity.DELIVERY, "customer.id"), (Entity.DELIVERY_LINE, "inventory.id"),
            (Entity.INVOICE, "customer.number")} <= required


def _order_resolved(node: dict[str, Any]) -> dict[str, Any]:
    schemas = load_spec(ORDERS)["components"]["schemas"]
    while "$ref" in node:
        node = schemas[node["$ref"].rsplit("/", 1)[-1]]
    return node


def order_schema(part: str, *, write: bool) -> dict[str, Any]:
    """The Sales Order service's schema of an order (``part="order"``) or one of its lines (``"line"``): the DTO
    it is read as (``write=False``) or the command it is created with (``write=True``)."""
    if write:
        order = _order_resolved(request_schema(ORDERS, "/api/v3/SalesOrders", "POST"))
        return order if part == "order" else _order_resolved(order["properties"]["orderLines"]["items"])
    if part == "order":
        return _order_resolved(response_schema(ORDERS, "/api/v3/SalesOrders/{type}/{orderId}", "GET"))
    paged = _order_resolved(response_schema(ORDERS, "/api/v3/SalesOrders/{type}/{orderId}/lines", "GET"))
    return _order_resolved(paged["properties"]["value"]["items"])


def order_has_property(schema: dict[str, Any], dotted: str) -> bool:
    """Whether the (dotted) property is in the schema, following references down."""
    node: dict[str, Any] | None = schema
    for part in dotted.split("."):
        node = (_order_resolved(node).get("properties") or {}).get(part)
        if node is None:
            return False
    return True


def test_order_schemas_are_the_services_and_know_no_finance_fields():
    assert order_has_property(order_schema("order", write=False), "customer.refNo")
    assert order_has_property(order_schema("line", write=True), "inventoryId")
    assert not order_has_property(order_schema("order", write=True), "orderNumber")
    assert not order_has_property(order_schema("line", write=False), "inventoryNumber")


@pytest.mark.parametrize("entity", list(SALES_ORDER_PARTS))
def test_sales_order_fields_are_the_sales_order_services(catalog, entity):
    """Read from SalesOrderDto / SalesOrderLineDto; writable ones written with New…Command (salesorders.py names)."""
    from integrations.systems.vismanet import salesorders

    part = SALES_ORDER_PARTS[entity]
    writes = salesorders.HEADER_WRITES if part == "order" else salesorders.LINE_WRITES
    for spec in catalog.entity(entity):
        if spec.name == "lines":
            continue
        assert order_has_property(order_schema(part, write=False), spec.name), \
            f"the Sales Order service reads no {spec.name}"
        if spec.read_only or spec.name == "type":
            continue
        assert spec.name in writes, f"{spec.name} is writable but Synkro does not say where it is written"
        assert order_has_property(order_schema(part, write=True), writes[spec.name]), \
            f"no command takes {writes[spec.name]}"


def test_customer_offers_the_fields_synkro_maps_by_default(catalog):
    for name in ("number", "name", "mainAddress.addressLine1", "mainAddress.postalCode", "mainAddress.city",
                 "mainContact.phone1", "vatZone.id", "corporateId", "vatRegistrationId"):
        assert catalog.field(Entity.ORGANISATION, name) is not None, name
    for name in ("firstName", "lastName", "email", "phone1"):
        assert catalog.field(Entity.PERSON, name) is not None, name
    assert catalog.field(Entity.USER, "employeeName").read_only
