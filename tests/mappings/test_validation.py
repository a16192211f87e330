"""The configuration rules, each with the words an administrator reads."""

from integrations.systems.catalog import Entity, EntitySpec, FieldSpec, FieldType
from mappings.validation import EntityConfig, MappingRow, Side, row_directions, validate_entity_config

CRM = Side("webCRM", EntitySpec(Entity.ORGANISATION, "Organisations", "OrganisationId", (
    FieldSpec("OrganisationId", type=FieldType.INTEGER, read_only=True),
    FieldSpec("OrganisationName"),
    FieldSpec("OrganisationType", type=FieldType.CHOICE),
    FieldSpec("OrganisationExtraCustom1", custom=True, max_length=50),
    FieldSpec("OrganisationExtraCustom2", custom=True, max_length=50),
    FieldSpec("OrganisationXDate1", type=FieldType.DATE, custom=True),
    FieldSpec("OrganisationCreatedAt", type=FieldType.DATETIME, read_only=True),
)))
ERP = Side("Uniconta", EntitySpec(Entity.ORGANISATION, "DebtorClient", "RowId", (
    FieldSpec("Account", required=True),
    FieldSpec("Name", required=True),
    FieldSpec("CreditMax", type=FieldType.DECIMAL),
    FieldSpec("Blocked", type=FieldType.BOOLEAN),
    FieldSpec("EAN", read_only=True),
), number_field="Account", open_custom_fields=True))


def check(rows, **config):
    config = EntityConfig(**{"direction": "two_way", **config})
    return [p.message for p in validate_entity_config(entity_label="organisations", config=config, rows=rows,
                                                      crm=CRM, erp=ERP)]


def test_a_sound_configuration_has_no_problems():
    assert check([MappingRow("Name", "OrganisationName"), MappingRow("Account", "OrganisationExtraCustom1"),
                  MappingRow("xSegment", "OrganisationExtraCustom2")]) == []


def test_unknown_fields_are_named():
    messages = check([MappingRow("Nmae", "OrganisationNmae")])
    assert "Uniconta has no field “Nmae” on organisations." in messages
    assert "webCRM has no field “OrganisationNmae” on organisations." in messages


def test_user_fields_are_only_open_where_the_vendor_has_them():
    assert check([MappingRow("xStyleNo", "OrganisationExtraCustom1")]) == []
    # webCRM has fixed slots: an x-name there is unknown.
    assert check([MappingRow("Name", "xFoo")]) == ["webCRM has no field “xFoo” on organisations."]


def test_type_mismatch_is_explained():
    messages = check([MappingRow("CreditMax", "OrganisationXDate1")])
    assert any("webCRM's OrganisationXDate1 is a date but Uniconta's CreditMax is a number" in m for m in messages)


def test_writing_anything_into_text_is_fine_and_a_value_map_allows_the_rest():
    assert check([MappingRow("Name", "OrganisationXDate1", direction="to_erp")]) == []  # a date into text
    assert check([MappingRow("Blocked", "OrganisationType", value_map={"Spærret": "true"})]) == []
    assert any("yes/no flag" in m for m in check([MappingRow("Blocked", "OrganisationType")]))


def test_read_only_field_mapped_against_its_only_direction():
    messages = check([MappingRow("EAN", "OrganisationExtraCustom1")])
    assert messages == ["Uniconta's EAN is read-only, so this row can only flow webCRM ← ERP. "
                        "Narrow the row to webCRM ← ERP."]
    assert check([MappingRow("EAN", "OrganisationExtraCustom1", direction="to_crm")]) == []


def test_read_only_crm_field_cannot_be_written_from_the_erp():
    messages = check([MappingRow("Account", "OrganisationId")])
    assert any("webCRM's OrganisationId is read-only" in m for m in messages)


def test_two_rows_writing_the_same_target():
    messages = check([MappingRow("Name", "OrganisationName"), MappingRow("Name", "OrganisationExtraCustom2")],
                     direction="to_erp")
    assert messages == ["Two rows write Uniconta's Name (from “OrganisationName”, “OrganisationExtraCustom2”). "
                        "Keep one."]


def test_same_target_in_different_directions_is_fine():
    assert check([MappingRow("Name", "OrganisationName", direction="to_erp"),
                  MappingRow("Name", "OrganisationExtraCustom2", direction="to_crm")]) == []


def test_trigger_without_values():
    assert check([], trigger_field="type", trigger_values=[]) == [
        "Choose at least one Type value for “Sync only organisations of type”, or turn the trigger off."]
    assert check([], trigger_field="type", trigger_values=["  "]) != []
    assert check([], trigger_field="type", trigger_values=["Kunde"]) == []


def test_webcrm_numbering_needs_the_number_field_mapped():
    messages = check([MappingRow("Name", "OrganisationName")], number_authority="crm")
    assert messages == ["webCRM assigns the customer numbers, so Uniconta's Account must be mapped from a webCRM "
                        "field (webCRM → ERP)."]
    assert check([MappingRow("Account", "OrganisationExtraCustom1")], number_authority="crm") == []
    # Mapped only ERP → webCRM does not count.
    assert check([MappingRow("Account", "OrganisationExtraCustom1", direction="to_crm")], number_authority="crm")


def test_a_row_narrowed_against_the_entity_would_never_run():
    messages = check([MappingRow("Name", "OrganisationName", direction="to_crm")], direction="to_erp")
    assert messages == ["This row only flows webCRM ← ERP, but organisations sync the other way, so it would "
                        "never be used."]


def test_row_directions():
    assert row_directions("two_way", "") == {"to_erp", "to_crm"}
    assert row_directions("two_way", "to_crm") == {"to_crm"}
    assert row_directions("off", "") == set()
    assert row_directions("to_erp", "to_crm") == set()
