"""The catalog says the truth about webCRM: every field exists in its API description, typed alike."""

from __future__ import annotations

import pytest

from integrations.systems.catalog import Entity, FieldType
from integrations.systems.webcrm import provider
from mappings.defaults import PAIR_ROWS

from ..contract import (  # noqa: F401 - spec_source runs each test against the digest and, when at hand, the description
    load_spec,
    spec_source,
)

SPEC = "webcrm-swagger.json"
DTO = {Entity.ORGANISATION: "OrganisationDto", Entity.PERSON: "PersonDto",
       Entity.ITEM: "QuotationLineLinkedDataItemDto", Entity.DELIVERY: "DeliveryDto",
       Entity.DELIVERY_LINE: "QuotationLineUpdateDto", Entity.USER: "UserDto"}
SWAGGER_TYPES = {
    FieldType.INTEGER: ("integer", None), FieldType.REFERENCE: ("integer", None), FieldType.DECIMAL: ("number", None),
    FieldType.BOOLEAN: ("boolean", None), FieldType.DATETIME: ("string", "date-time"),
}
CATALOG = provider.catalog()


def test_the_entities_webcrm_offers():
    assert {spec.entity for spec in CATALOG.entities} == set(DTO)
    assert {spec.vendor_name for spec in CATALOG.entities} == {
        "Organisations", "Persons", "QuotationLines/LinkedData", "Deliveries", "QuotationLines", "Users"}


@pytest.mark.parametrize("entity", list(DTO))
def test_every_field_is_in_the_api_description_with_its_type_and_length(entity):
    properties = load_spec(SPEC)["definitions"][DTO[entity]]["properties"]
    spec = CATALOG.entity(entity)
    for field in spec.fields:
        assert field.name in properties, f"{field.name} is not a field of {DTO[entity]}"
        documented = properties[field.name]
        swagger_type, swagger_format = SWAGGER_TYPES.get(field.type, ("string", None))
        assert documented["type"] == swagger_type, field.name
        if swagger_format:
            assert documented.get("format") == swagger_format, field.name
        assert field.max_length == documented.get("maxLength"), field.name
        if "enum" in documented:
            assert field.choices == tuple(documented["enum"]), field.name
    assert spec.field(spec.id_field).read_only
    if entity == Entity.ITEM:  # the item register keeps no change stamp
        assert spec.modified_field is None and not any(name.endswith("UpdatedAt") for name in properties)
        return
    assert spec.field(spec.modified_field).type == FieldType.DATETIME
    assert spec.field(spec.modified_field).read_only


def test_custom_slots_are_numbered_and_marked():
    organisation = CATALOG.entity(Entity.ORGANISATION)
    extra = [f for f in organisation.fields if f.name.startswith("OrganisationExtraCustom")]
    assert [f.name for f in extra] == [f"OrganisationExtraCustom{n}" for n in range(1, 9)]
    assert all(f.custom and f.max_length == 50 for f in extra)
    assert len([f for f in organisation.fields if f.name.startswith("OrganisationCustom")]) == 15
    assert CATALOG.field(Entity.ORGANISATION, "OrganisationXDate2").type == FieldType.DATETIME
    checks = [f for f in CATALOG.entity(Entity.PERSON).fields if f.name.startswith("PersonCheckMark")]
    assert len(checks) == 10 and all(f.type == FieldType.BOOLEAN and f.custom for f in checks)


def test_numbers_stamps_and_required_fields():
    assert CATALOG.entity(Entity.DELIVERY).number_field == "DeliveryNumber"
    assert CATALOG.entity(Entity.ORGANISATION).number_field is None  # webCRM has no customer number
    assert CATALOG.field(Entity.ORGANISATION, "OrganisationName").required
    assert CATALOG.field(Entity.PERSON, "PersonOrganisationId").required
    assert CATALOG.field(Entity.ORGANISATION, "OrganisationUpdatedBy").read_only
    assert not CATALOG.field(Entity.ORGANISATION, "OrganisationType").read_only


def test_field_roles_name_real_fields():
    roles = {(spec.entity, role): spec.role(role) for spec in CATALOG.entities for role, _ in spec.field_roles}
    assert all(CATALOG.field(entity, name) for (entity, _), name in roles.items())
    assert roles[(Entity.PERSON, "relevant")] == "PersonCheckMark1"
    assert roles[(Entity.ORGANISATION, "vat")] == "OrganisationVatNumber"
    assert roles[(Entity.USER, "email")] == "UserEmail"


def test_items_are_the_quotation_line_register_that_lines_copy_their_columns_from():
    """erp ``QuotationLineDto``: register column ``QuotationLineLinkedDataItemData<n>`` is ``QuotationLineData<n>``."""
    item, line = CATALOG.entity(Entity.ITEM), CATALOG.entity(Entity.DELIVERY_LINE)
    assert item.vendor_name == "QuotationLines/LinkedData"
    assert item.role("number").replace("LinkedDataItem", "") == line.role("item") == "QuotationLineData1"
    assert item.role("name").replace("LinkedDataItem", "") == line.role("text") == "QuotationLineData2"
    assert "QuotationLineLinkedDataId" in load_spec(SPEC)["definitions"]["QuotationLineUpdateDto"]["properties"]
    assert not CATALOG.field(Entity.DELIVERY_LINE, "QuotationLineLinkedDataId").read_only


def test_the_webcrm_fields_named_by_the_default_mappings():
    """Every default row names a real, writable webCRM field (ProductId, webCRM's own id, is not one)."""
    named = {(entity, row[1]) for (front, _), entities in PAIR_ROWS.items() if front == "webcrm"
             for entity, rows in entities.items() for row in rows}
    missing = sorted(name for entity, name in named if CATALOG.field(entity, name) is None)
    read_only = sorted(name for entity, name in named if (f := CATALOG.field(entity, name)) and f.read_only)
    assert missing == []
    assert read_only == []
