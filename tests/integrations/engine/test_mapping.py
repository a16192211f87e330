from dataclasses import dataclass, field
from decimal import Decimal

from integrations.engine.mapping import changed_fields, map_record, payload_hash, rules_for


@dataclass
class Row:
    erp_field: str
    crm_field: str
    direction: str = ""
    value_map: dict = field(default_factory=dict)
    required: bool = False
    conflict_owner: str = ""


ROWS = [
    Row("Name", "OrganisationName", required=True),
    Row("Type", "OrganisationType", value_map={"Kund – Privat": "PRIVATE", "Kund – Företag": "COMPANY"}),
    Row("EAN", "OrganisationExtraCustom2", direction="to_crm"),
    Row("CreditMax", "OrganisationXInt1"),
]


def test_rows_flow_by_the_entity_direction_narrowed_by_the_row():
    to_erp = [r.target for r in rules_for(ROWS, flow="to_erp", entity_direction="two_way")]
    to_crm = [r.target for r in rules_for(ROWS, flow="to_crm", entity_direction="two_way")]
    assert to_erp == ["Name", "Type", "CreditMax"]
    assert to_crm == ["OrganisationName", "OrganisationType", "OrganisationExtraCustom2", "OrganisationXInt1"]
    assert rules_for(ROWS, flow="to_erp", entity_direction="to_crm") == []
    assert rules_for(ROWS, flow="to_crm", entity_direction="off") == []


def test_value_maps_apply_forwards_and_backwards():
    forwards = map_record({"OrganisationName": "Hagaby AB", "OrganisationType": "Kund – Privat"},
                          rules_for(ROWS, flow="to_erp", entity_direction="two_way"))
    assert forwards.values["Type"] == "PRIVATE"
    back = map_record({"Name": "Hagaby AB", "Type": "COMPANY"}, rules_for(ROWS, flow="to_crm",
                                                                          entity_direction="two_way"))
    assert back.values["OrganisationType"] == "Kund – Företag"
    unknown = map_record({"Type": "GOVERNMENT"}, rules_for(ROWS, flow="to_crm", entity_direction="two_way"))
    assert unknown.values["OrganisationType"] == "GOVERNMENT"


def test_missing_required_fields_are_named():
    result = map_record({"OrganisationName": "  "}, rules_for(ROWS, flow="to_erp", entity_direction="to_erp"))
    assert result.missing_required == ["OrganisationName"]


def test_floats_become_exact_decimals():
    result = map_record({"OrganisationXInt1": 0.1}, rules_for(ROWS, flow="to_erp", entity_direction="to_erp"))
    assert result.values["CreditMax"] == Decimal("0.1")
    assert result.values["CreditMax"] * 3 == Decimal("0.3")


def test_hash_ignores_order_number_spelling_and_blanks():
    assert payload_hash({"a": 1, "b": "x"}) == payload_hash({"b": "x ", "a": Decimal("1.00"), "c": ""})
    assert payload_hash({"a": 1.5}) == payload_hash({"a": Decimal("1.50")})
    assert payload_hash({"a": 1}) != payload_hash({"a": 2})
    assert payload_hash({"a": True}) != payload_hash({"a": "True"})


def test_changed_fields_reports_old_and_new():
    before = {"Name": "Hagaby AB", "CreditMax": Decimal("1000.00"), "City": None}
    after = {"Name": "Hagaby HB", "CreditMax": 1000, "City": ""}
    assert changed_fields(before, after) == {"Name": ["Hagaby AB", "Hagaby HB"]}
