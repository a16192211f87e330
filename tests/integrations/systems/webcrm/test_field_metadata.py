"""webCRM's drop-down lists (``GET /FieldsMetadata/{entityTypes}``): the sandbox answers as the API describes, and
the client reads an organisation's Type and Status options from it."""

from __future__ import annotations

import pytest

from integrations.systems.catalog import Entity
from integrations.systems.errors import VendorValidationError

from ..contract import assert_path_documented, assert_response_matches, spec_source  # noqa: F401

SPEC = "webcrm-swagger.json"


def test_the_client_reads_the_organisation_types_webcrm_has(client, sandbox):
    sandbox.field_options["Organisation"]["OrganisationType"] = ["Kunde", "Kund – Företag", "Kunde", " ", "Prospekt"]
    assert client.field_values(Entity.ORGANISATION, "OrganisationType") == ["Kunde", "Kund – Företag", "Prospekt"]
    assert client.field_values(Entity.ORGANISATION, "OrganisationStatus") == ["Aktiv", "Passiv"]
    assert client.field_values(Entity.ORGANISATION, "OrganisationIndustry") == []  # no list kept for it


def test_items_have_no_field_metadata(client):
    with pytest.raises(NotImplementedError):
        client.field_values(Entity.ITEM, "QuotationLineLinkedDataItemData1")


def test_the_answer_has_the_documented_shape(client, mounted, spec_source):  # noqa: F811
    client.field_values(Entity.ORGANISATION, "OrganisationType")
    [exchange] = [e for e in mounted.exchanges if e.path.startswith("/FieldsMetadata")]
    assert exchange.path == "/FieldsMetadata/Organisation" and exchange.status == 200
    assert_path_documented(SPEC, "/FieldsMetadata/{entityTypes}", "get")
    assert_response_matches(SPEC, "/FieldsMetadata/{entityTypes}", "get", exchange.response_body)
    [field] = [f for f in exchange.response_body if f["FieldMetadataFriendlyFieldName"] == "OrganisationType"]
    assert field["FieldMetadataDbFieldName"] == "o_type" and field["FieldMetadataDisplayType"] == "D"
    assert field["FieldMetadataDropdownListData"][0] == {"Text": "Kunde", "Value": "Kunde"}


def test_an_entity_type_outside_the_enum_is_refused(client):
    with pytest.raises(VendorValidationError):
        client.json("GET", "/FieldsMetadata/Debtor")
    assert {f["FieldMetadataFriendlyFieldName"] for f in client.json("GET", "/FieldsMetadata")} == {
        "OrganisationType", "OrganisationStatus"}


def test_a_restarted_demo_webcrm_still_lists_the_demo_types(tmp_path):
    from integrations.systems.sandbox_state import SandboxState
    from integrations.systems.webcrm import provider
    from integrations.systems.webcrm.demo import DEMO_FIELD_OPTIONS

    first = provider.sandbox(rate_limit=(0, 0))
    first.keep_state(SandboxState(tmp_path / "webcrm.sqlite3"), first.seed_demo)
    first.state.close()
    again = provider.sandbox(rate_limit=(0, 0))
    again.keep_state(SandboxState(tmp_path / "webcrm.sqlite3"), None)  # loaded, not seeded
    assert again.field_options["Organisation"]["OrganisationType"] == list(
        DEMO_FIELD_OPTIONS["Organisation"]["OrganisationType"])
    assert "Kund – Företag" in again.field_options["Organisation"]["OrganisationType"]
