"""Mapping rows whose values change kind: accepted, with a note saying what is converted and what is refused."""

from integrations.systems.catalog import Entity, EntitySpec, FieldSpec, FieldType
from mappings.validation import EntityConfig, MappingRow, Side, conversion_notes, validate_entity_config

CRM = Side("webCRM", EntitySpec(Entity.ORGANISATION, "Organisations", "OrganisationId", (
    FieldSpec("OrganisationName"),
    FieldSpec("OrganisationCountry", value_kind="country_name"),
    FieldSpec("OrganisationCustom1"),
    FieldSpec("OrganisationType", type=FieldType.CHOICE),
)))
ERP = Side("Fortnox", EntitySpec(Entity.ORGANISATION, "Customer", "CustomerNumber", (
    FieldSpec("Name"),
    FieldSpec("CountryCode", max_length=2, value_kind="country_code"),
    FieldSpec("InvoiceDiscount", type=FieldType.DECIMAL),
    FieldSpec("Active", type=FieldType.BOOLEAN),
)))


def problems(*rows: MappingRow, direction: str = "two_way") -> list[str]:
    return [p.message for p in validate_entity_config(entity_label="organisations", config=EntityConfig(direction),
                                                      rows=list(rows), crm=CRM, erp=ERP)]


def notes(*rows: MappingRow, direction: str = "two_way") -> list[str]:
    return [p.message for p in conversion_notes(config=EntityConfig(direction), rows=list(rows), crm=CRM, erp=ERP)]


def test_a_country_name_mapped_to_a_code_is_accepted_and_explained_both_ways():
    row = MappingRow("CountryCode", "OrganisationCountry")
    assert problems(row) == []
    assert notes(row) == [
        "Fortnox's CountryCode → webCRM's OrganisationCountry: two-letter country codes (DK, SE) become country names "
        "(Danmark, Sverige); a value that names no country is refused and the record waits.",
        "webCRM's OrganisationCountry → Fortnox's CountryCode: country names (Danmark, Sverige) become two-letter "
        "country codes (DK, SE); a value that names no country is refused and the record waits.",
    ]


def test_a_number_into_text_is_noted_and_text_into_a_number_is_warned():
    row = MappingRow("InvoiceDiscount", "OrganisationCustom1")
    assert problems(row) == []
    assert notes(row, direction="to_crm") == [
        "Fortnox's InvoiceDiscount → webCRM's OrganisationCustom1: numbers are written as text (25000.50, without "
        "rounding)."]
    [warning] = notes(row, direction="to_erp")
    assert "the text must be a number (25.000,50" in warning and "anything else is refused" in warning


def test_text_into_a_yes_no_flag_is_warned_but_a_choice_still_needs_a_value_map():
    assert problems(MappingRow("Active", "OrganisationCustom1")) == []
    assert "ja/nej, yes/no, true/false or 1/0" in notes(MappingRow("Active", "OrganisationCustom1"),
                                                        direction="to_erp")[0]
    assert any("yes/no flag" in p for p in problems(MappingRow("Active", "OrganisationType")))


def test_rows_of_the_same_kind_have_no_note():
    assert notes(MappingRow("Name", "OrganisationName")) == []
