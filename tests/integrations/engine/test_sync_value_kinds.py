"""Values of another kind end to end: countries between names and codes, numbers into text and back."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.engine.ingest import event_ingest
from integrations.models import EventState, InboundEvent, SyncLink, SyncLogEntry
from integrations.systems.catalog import Entity
from mappings.models import FieldMapping
from tests.harness import drain, make_pair

ORG = Entity.ORGANISATION


def writes(sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.method in ("POST", "PUT", "PATCH") and "/Auth/" not in r.path
               and "/Hooks" not in r.path)


def hook_organisations(pair) -> None:
    """Point webCRM's organisation hooks at Synkro, with every field webCRM's hook DTO requires."""
    for event_type in ("Create", "Update"):
        pair.crm_client.request("POST", "/Organisations/Hooks", json={
            "Id": 0, "TargetUrl": pair.integration.webhook_url("webcrm"), "EventType": event_type,
            "Filter": ["All"], "IsEnabled": True})


def add_row(pair, erp_field: str, crm_field: str, direction: str = "") -> None:
    entity_sync = pair.sync("organisation")
    FieldMapping.objects.create(tenant_id=entity_sync.tenant_id, entity_sync=entity_sync, erp_field=erp_field,
                                crm_field=crm_field, direction=direction, position=99)


# -- webCRM ↔ Fortnox: OrganisationCountry (a name) ↔ CountryCode -----------------------------------------------

@pytest.fixture
def fortnox(db, synkro, sandboxes):
    pair = make_pair("webcrm", "fortnox", sandboxes)
    hook_organisations(pair)
    add_row(pair, "CountryCode", "OrganisationCountry")
    return pair


def notice(pair, system: str, external_id) -> None:
    """A notice of one record, as a webhook or Fortnox's poll stores it: the engine re-reads the record."""
    event_ingest(integration=pair.integration, system=system, entity=ORG, action="updated",
                 external_id=str(external_id))


def poll(pair) -> None:
    """What Fortnox's poll finds: every customer it lists (the overlap window reads unchanged ones again)."""
    for customer in pair.erp_client.list_records(ORG):
        notice(pair, "fortnox", customer["CustomerNumber"])


def test_a_webcrm_country_name_arrives_in_fortnox_as_its_code(fortnox):
    org = fortnox.crm_client.create_record(ORG, {"OrganisationName": "Sjöviks VVS AB", "OrganisationCity": "Malmö",
                                                 "OrganisationType": "Kund – Företag",
                                                 "OrganisationCountry": "Sverige"})
    drain()
    [customer] = list(fortnox.erp_client.list_records(ORG))
    customer = fortnox.erp_client.get_record(ORG, customer["CustomerNumber"])
    assert customer["CountryCode"] == "SE"
    assert customer["Country"] == "Sverige"  # Fortnox's own name for its code

    # Fortnox's SE read back is the same country as webCRM's "Sverige": no change, no ping-pong.
    crm_writes, erp_writes = writes(fortnox.crm), writes(fortnox.erp)
    poll(fortnox)
    notice(fortnox, "webcrm", org["OrganisationId"])
    drain()
    assert (writes(fortnox.crm), writes(fortnox.erp)) == (crm_writes, erp_writes)
    again = fortnox.crm_client.get_record(ORG, str(org["OrganisationId"]))
    assert again["OrganisationCountry"] == "Sverige"
    assert not InboundEvent.objects.filter(state=EventState.FAILED).exists()


def test_a_fortnox_country_code_arrives_in_webcrm_as_a_danish_name(fortnox):
    customer = fortnox.erp_client.create_record(ORG, {"Name": "Havbrise Byg ApS", "City": "Aarhus C",
                                                      "CountryCode": "DK"})
    poll(fortnox)
    drain()
    [org] = list(fortnox.crm_client.list_records(ORG))
    assert org["OrganisationCountry"] == "Danmark"
    link = SyncLink.objects.get(entity="organisation")
    assert link.erp_id == customer["CustomerNumber"]

    crm_writes, erp_writes = writes(fortnox.crm), writes(fortnox.erp)
    poll(fortnox)  # the overlap window reads the customer again
    drain()
    assert (writes(fortnox.crm), writes(fortnox.erp)) == (crm_writes, erp_writes)


def test_a_country_changed_in_fortnox_keeps_the_language_webcrm_writes_it_in(fortnox):
    org = fortnox.crm_client.create_record(ORG, {"OrganisationName": "Lövsta Trä HB", "OrganisationCountry": "Sweden",
                                                 "OrganisationType": "Kund – Företag"})
    drain()
    [customer] = list(fortnox.erp_client.list_records(ORG))
    assert fortnox.erp_client.get_record(ORG, customer["CustomerNumber"])["CountryCode"] == "SE"
    assert fortnox.crm_client.get_record(ORG, str(org["OrganisationId"]))["OrganisationCountry"] == "Sweden"
    fortnox.erp_client.update_record(ORG, customer["CustomerNumber"], {"CountryCode": "NO"})
    poll(fortnox)
    drain()
    assert fortnox.crm_client.get_record(ORG, str(org["OrganisationId"]))["OrganisationCountry"] == "Norway"


def test_a_country_name_that_names_no_country_is_parked_and_nothing_is_written(fortnox):
    fortnox.crm_client.create_record(ORG, {"OrganisationName": "Norrsken El AB", "OrganisationCountry": "Sverigee",
                                           "OrganisationType": "Kund – Företag"})
    drain()
    assert list(fortnox.erp_client.list_records(ORG)) == []
    event = InboundEvent.objects.get(state=EventState.FAILED)
    assert "“Sverigee”" in event.last_error and "CountryCode" in event.last_error
    failed = SyncLogEntry.objects.get(action="failed")
    assert "“Sverigee”" in failed.error and "OrganisationCountry" in failed.error
    assert not SyncLink.objects.exists()


# -- webCRM ↔ Uniconta: a credit limit into a text field, and countries both ways --------------------------------

@pytest.fixture
def uniconta(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    hook_organisations(pair)
    pair.erp.subscribe(pair.integration.webhook_url("uniconta"), table="Debtor")
    return pair


def test_a_uniconta_credit_limit_arrives_in_a_webcrm_text_field(uniconta):
    add_row(uniconta, "CreditMax", "OrganisationCustom1", direction="to_crm")
    uniconta.erp_client.create_record(ORG, {"Name": "Skovly Tømrer I/S", "City": "Odense C",
                                            "CreditMax": Decimal("25000.50")})
    drain()
    [org] = list(uniconta.crm_client.list_records(ORG))
    assert org["OrganisationName"] == "Skovly Tømrer I/S"
    assert org["OrganisationCustom1"] == "25000.50"
    assert not InboundEvent.objects.filter(state=EventState.FAILED).exists()


def test_text_from_webcrm_is_read_as_a_number_in_uniconta(uniconta):
    add_row(uniconta, "CreditMax", "OrganisationCustom2", direction="to_erp")
    uniconta.crm_client.create_record(ORG, {"OrganisationName": "Havbrise Byg ApS", "OrganisationType": "Kunde",
                                            "OrganisationCustom2": "25.000,50"})
    drain()
    [debtor] = list(uniconta.erp_client.list_records(ORG))
    assert Decimal(str(debtor["CreditMax"])) == Decimal("25000.50")


def test_countries_go_both_ways_between_webcrm_names_and_uniconta_enum_names_without_ping_pong(uniconta):
    add_row(uniconta, "Country", "OrganisationCountry")
    org = uniconta.crm_client.create_record(ORG, {"OrganisationName": "Fjordlys AS", "OrganisationType": "Kunde",
                                                  "OrganisationCountry": "Norge"})
    drain()
    [debtor] = list(uniconta.erp_client.list_records(ORG))
    assert debtor["Country"] == "Norway"
    crm_writes, erp_writes = writes(uniconta.crm), writes(uniconta.erp)
    notice(uniconta, "webcrm", org["OrganisationId"])
    drain()
    assert (writes(uniconta.crm), writes(uniconta.erp)) == (crm_writes, erp_writes)

    uniconta.erp_client.update_record(ORG, str(debtor["Account"]), {"Country": "UnitedKingdom"})
    drain()
    assert uniconta.crm_client.get_record(ORG, str(org["OrganisationId"]))["OrganisationCountry"] == "Storbritannien"
    crm_writes, erp_writes = writes(uniconta.crm), writes(uniconta.erp)
    drain()
    assert (writes(uniconta.crm), writes(uniconta.erp)) == (crm_writes, erp_writes)
    assert not InboundEvent.objects.filter(state=EventState.FAILED).exists()
