"""Values longer than the receiving field, every pair and both ways, end to end through the sandboxes."""

from __future__ import annotations

import pytest

from integrations.engine.ingest import event_ingest
from integrations.engine.poll import poll_entity
from integrations.models import EventState, InboundEvent, SyncLink, SyncLogEntry
from integrations.services import integration_webhooks_register
from integrations.systems.catalog import Entity
from mappings.models import FieldMapping
from tests.harness import QUIET, drain, make_pair

ORG, ITEM, DELIVERY = Entity.ORGANISATION, Entity.ITEM, Entity.DELIVERY

#: 150 characters, as webCRM holds it (its limit is 200).
LONG_DANISH_NAME = ("Nordjysk Tømrer- og Snedkerforretning ved Limfjorden og Omegn ApS, afdeling for Renovering af "
                    "Fredede Bygninger samt Nybyggeri i Aalborg Kommune Nord.")
#: 77 characters.
LONG_DESCRIPTION = "Levering af tagrender, nedløbsrør og inddækninger til Havnevej 3, byggeplads."
#: 248 characters, as Fortnox holds it (its limit is 1024).
LONG_SWEDISH_NAME = ("Björkdals Bygg och Entreprenad Aktiebolag, filial för Renovering av Kulturhistoriska "
                     "Byggnader samt Nyproduktion av Flerbostadshus och Kontorsfastigheter i Umeå, Skellefteå, Luleå "
                     "och Piteå med omnejd inom Västerbottens och Norrbottens län (Sweden)")


def writes(sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.method not in ("GET", "HEAD") and "/Auth/" not in r.path
               and "/token" not in r.path)


def cut_at_a_word(original: str, shortened: str, limit: int) -> None:
    """``shortened`` is a start of ``original``, within ``limit``, ending on a whole word without punctuation."""
    assert 0 < len(shortened) <= limit
    assert original.startswith(shortened)
    assert shortened[-1].isalnum() or shortened[-1] in ")]»”"
    assert not original[len(shortened)].isalnum()  # the next character is no letter: no word was cut


def test_the_lengths_are_as_long_as_the_examples():
    assert (len(LONG_DANISH_NAME), len(LONG_DESCRIPTION), len(LONG_SWEDISH_NAME)) == (150, 77, 248)


@pytest.fixture
def uniconta(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    integration_webhooks_register(integration=pair.integration)
    return pair


def test_a_long_webcrm_name_arrives_in_uniconta_shortened_at_a_word_with_a_log_note(uniconta):
    org = uniconta.crm_client.create_record(ORG, {"OrganisationName": LONG_DANISH_NAME, "OrganisationType": "Kunde",
                                                  "OrganisationCity": "Aalborg"})
    drain()
    [debtor] = list(uniconta.erp_client.list_records(ORG))
    cut_at_a_word(LONG_DANISH_NAME, debtor["Name"], 100)
    assert debtor["Name"] == ("Nordjysk Tømrer- og Snedkerforretning ved Limfjorden og Omegn ApS, afdeling for "
                              "Renovering af")
    entry = SyncLogEntry.objects.get(action="created", entity="organisation")
    assert f"Name shortened from 150 to {len(debtor['Name'])} characters (it holds at most 100)." in entry.reason
    assert not InboundEvent.objects.filter(state=EventState.FAILED).exists()
    # webCRM keeps its whole name.
    assert uniconta.crm_client.get_record(ORG, str(org["OrganisationId"]))["OrganisationName"] == LONG_DANISH_NAME


def test_after_a_shortened_write_unchanged_records_are_echoes_and_the_long_side_keeps_its_value(uniconta):
    org = uniconta.crm_client.create_record(ORG, {"OrganisationName": LONG_DANISH_NAME, "OrganisationType": "Kunde",
                                                  "OrganisationCity": "Aalborg"})
    drain()
    link = SyncLink.objects.get(entity="organisation")
    crm_writes, erp_writes = writes(uniconta.crm), writes(uniconta.erp)
    for system, external_id in (("webcrm", link.crm_id), ("uniconta", link.erp_id)):
        event_ingest(integration=uniconta.integration, system=system, entity=ORG, action="updated",
                     external_id=external_id)
    drain()
    assert (writes(uniconta.crm), writes(uniconta.erp)) == (crm_writes, erp_writes)
    assert SyncLogEntry.objects.filter(action__in=["created", "updated", "conflict"]).count() == 1

    # A change of another field in Uniconta comes back to webCRM (two way) without its short name.
    uniconta.erp_client.update_record(ORG, link.erp_id, {"City": "Nørresundby"})
    drain()
    back = uniconta.crm_client.get_record(ORG, str(org["OrganisationId"]))
    assert back["OrganisationCity"] == "Nørresundby"
    assert back["OrganisationName"] == LONG_DANISH_NAME
    assert not InboundEvent.objects.filter(state=EventState.FAILED).exists()


def test_a_row_set_to_refuse_parks_the_record_naming_the_field_and_both_lengths_and_writes_nothing(uniconta):
    FieldMapping.objects.filter(entity_sync__integration=uniconta.integration, erp_field="Name",
                                crm_field="OrganisationName").update(overflow="refuse")
    uniconta.crm_client.create_record(ORG, {"OrganisationName": LONG_DANISH_NAME, "OrganisationType": "Kunde"})
    erp_writes = writes(uniconta.erp)
    drain()
    assert list(uniconta.erp_client.list_records(ORG)) == []
    assert writes(uniconta.erp) == erp_writes
    assert not SyncLink.objects.filter(entity="organisation").exists()
    [event] = InboundEvent.objects.filter(state=EventState.FAILED)
    assert "Name (from OrganisationName)" in event.last_error
    assert "150 characters" in event.last_error and "at most 100" in event.last_error
    entry = SyncLogEntry.objects.get(action="failed")
    assert "150 characters" in entry.error and "refuses longer values" in entry.error


def test_a_long_webcrm_name_arrives_in_visma_within_its_limit(db, synkro, sandboxes):
    visma = make_pair("webcrm", "vismanet", sandboxes)
    integration_webhooks_register(integration=visma.integration)
    visma.crm_client.create_record(ORG, {"OrganisationName": LONG_DANISH_NAME, "OrganisationType": "Kunde"})
    drain()
    [customer] = list(visma.erp_client.list_records(ORG))
    cut_at_a_word(LONG_DANISH_NAME, customer["name"], 60)
    assert customer["name"] == "Nordjysk Tømrer- og Snedkerforretning ved Limfjorden og"
    entry = SyncLogEntry.objects.get(action="created", entity="organisation")
    assert "name shortened from 150 to 55 characters (it holds at most 60)." in entry.reason


@pytest.fixture
def fortnox(db, synkro, sandboxes):
    pair = make_pair("webcrm", "fortnox", sandboxes)
    integration_webhooks_register(integration=pair.integration)
    return pair


def test_a_long_delivery_description_fits_fortnox_your_reference(fortnox):
    fortnox.erp_client.create_record(ITEM, {"ArticleNumber": "A-100", "Description": "Snickeritimme"})
    org = fortnox.crm_client.create_record(ORG, {"OrganisationName": "Hagaby Bygg AB",
                                                 "OrganisationType": "Kund – Företag"})
    drain()
    fortnox.crm_client.create_record(DELIVERY, {
        "DeliveryOrganisationId": org["OrganisationId"], "DeliveryErpStatus": "ReadyForSynchronization",
        "DeliveryDescription": LONG_DESCRIPTION, "lines": [{"QuotationLineData1": "A-100",
                                                            "QuotationLineData2": "Timme",
                                                            "QuotationLineQuantity": 4,
                                                            "QuotationLinePrice": "650.00"}]})
    drain()
    [order] = list(fortnox.erp_client.list_records(DELIVERY))
    order = fortnox.erp_client.get_record(DELIVERY, str(order["DocumentNumber"]))
    cut_at_a_word(LONG_DESCRIPTION, order["YourReference"], 50)
    assert order["YourReference"] == "Levering af tagrender, nedløbsrør og inddækninger"
    entry = SyncLogEntry.objects.get(action="created", entity="delivery")
    assert "YourReference shortened from 77 to 49 characters (it holds at most 50)." in entry.reason
    assert not InboundEvent.objects.filter(state=EventState.FAILED).exists()


def test_a_long_fortnox_name_arrives_in_webcrm_shortened_not_parked(fortnox):
    poll_entity(integration=fortnox.integration, system="fortnox", entity=ORG, client_options=QUIET)
    customer = fortnox.erp_client.create_record(ORG, {"Name": LONG_SWEDISH_NAME, "City": "Umeå"})
    poll_entity(integration=fortnox.integration, system="fortnox", entity=ORG, client_options=QUIET)
    drain()
    assert not InboundEvent.objects.filter(state=EventState.FAILED).exists()
    [org] = list(fortnox.crm_client.list_records(ORG))
    cut_at_a_word(LONG_SWEDISH_NAME, org["OrganisationName"], 200)
    entry = SyncLogEntry.objects.get(action="created", entity="organisation")
    assert f"OrganisationName shortened from 248 to {len(org['OrganisationName'])} characters" in entry.reason
    # The log and the link name the record within their column's 200 characters (PostgreSQL refuses more).
    link = SyncLink.objects.get(entity=ORG)
    for label in (entry.label, link.label):
        assert 0 < len(label) <= 200 and LONG_SWEDISH_NAME.startswith(label.rstrip("…")[:150])

    # Reading both unchanged records again writes nothing, and Fortnox keeps its whole name.
    crm_writes, erp_writes = writes(fortnox.crm), writes(fortnox.erp)
    event_ingest(integration=fortnox.integration, system="webcrm", entity=ORG, action="updated",
                 external_id=str(org["OrganisationId"]))
    event_ingest(integration=fortnox.integration, system="fortnox", entity=ORG, action="updated",
                 external_id=str(customer["CustomerNumber"]))
    drain()
    assert (writes(fortnox.crm), writes(fortnox.erp)) == (crm_writes, erp_writes)
    assert fortnox.erp_client.get_record(ORG, str(customer["CustomerNumber"]))["Name"] == LONG_SWEDISH_NAME

    # A webCRM change of another field goes to Fortnox (two way) without shortening Fortnox's name.
    fortnox.crm_client.update_record(ORG, str(org["OrganisationId"]), {"OrganisationCity": "Skellefteå"})
    crm_writes = writes(fortnox.crm)
    drain()
    assert writes(fortnox.crm) == crm_writes  # the shortened name is no change to send back to webCRM
    again = fortnox.erp_client.get_record(ORG, str(customer["CustomerNumber"]))
    assert again["City"] == "Skellefteå" and again["Name"] == LONG_SWEDISH_NAME
    assert not InboundEvent.objects.filter(state=EventState.FAILED).exists()
