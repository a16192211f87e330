"""Edits made on both sides of one linked pair, their two notices handled by two workers at the same moment.

A webCRM notice and a Uniconta notice of the same pair name different records (one per system), but they write
the same pair: one worker must not decide and write while the other is half-way, or each could carry its own
side's value across and the two sides would end swapped, each believing itself in step.
"""

from __future__ import annotations

import pytest

from integrations.engine import process
from integrations.models import EventState, InboundEvent, SyncLink
from integrations.systems.uniconta.client import UnicontaClient
from integrations.systems.webcrm.client import WebcrmClient
from tests.harness import QUIET, drain, make_pair, organisation

from .test_sync_webcrm_uniconta import ORG


@pytest.fixture
def pair(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    pair.webcrm_hooks("Organisations")
    pair.erp.subscribe(pair.integration.webhook_url("uniconta"), table="Debtor")
    pair.org = pair.crm_client.create_record(ORG, organisation(OrganisationName="Tvillingegården ApS"))
    drain()
    pair.account = SyncLink.objects.get(entity="organisation").erp_id
    return pair


def pending(system: str) -> int:
    return InboundEvent.objects.get(system=system, state=EventState.PENDING).pk


def other_worker_meanwhile(monkeypatch, client_class, other_event: int):
    """Just before the first worker's write reaches the vendor, a second worker handles ``other_event`` whole."""
    original = client_class.update_record
    state = {"done": False}

    def write(client, entity, record_id, data, **options):
        if not state["done"] and entity == ORG:
            state["done"] = True
            process.event_process(event_id=other_event, client_options=QUIET)
        return original(client, entity, record_id, data, **options)

    monkeypatch.setattr(client_class, "update_record", write)
    return state


@pytest.mark.parametrize("first, client_class", [("webcrm", UnicontaClient), ("uniconta", WebcrmClient)],
                         ids=["webcrm-notice-first", "uniconta-notice-first"])
def test_the_same_field_edited_on_both_sides_ends_the_same_on_both(pair, monkeypatch, first, client_class):
    pair.crm_client.update_record(ORG, str(pair.org["OrganisationId"]), {"OrganisationCity": "Kolding"})
    pair.erp_client.update_record(ORG, pair.account, {"City": "Odense"})
    crm_event, erp_event = pending("webcrm"), pending("uniconta")
    first_event, second_event = (crm_event, erp_event) if first == "webcrm" else (erp_event, crm_event)
    state = other_worker_meanwhile(monkeypatch, client_class, second_event)
    process.event_process(event_id=first_event, client_options=QUIET)
    monkeypatch.undo()
    drain()

    assert state["done"]
    crm_city = pair.crm_client.get_record(ORG, str(pair.org["OrganisationId"]))["OrganisationCity"]
    erp_city = pair.erp_client.get_record(ORG, pair.account)["City"]
    assert crm_city == erp_city
    assert crm_city in ("Kolding", "Odense")


@pytest.mark.parametrize("first, client_class", [("webcrm", UnicontaClient), ("uniconta", WebcrmClient)],
                         ids=["webcrm-notice-first", "uniconta-notice-first"])
def test_different_fields_edited_on_both_sides_both_survive(pair, monkeypatch, first, client_class):
    pair.crm_client.update_record(ORG, str(pair.org["OrganisationId"]), {"OrganisationAddress": "Fjordvej 9"})
    pair.erp_client.update_record(ORG, pair.account, {"Phone": "+45 75 50 50 50"})
    crm_event, erp_event = pending("webcrm"), pending("uniconta")
    first_event, second_event = (crm_event, erp_event) if first == "webcrm" else (erp_event, crm_event)
    other_worker_meanwhile(monkeypatch, client_class, second_event)
    process.event_process(event_id=first_event, client_options=QUIET)
    monkeypatch.undo()
    drain()

    org = pair.crm_client.get_record(ORG, str(pair.org["OrganisationId"]))
    debtor = pair.erp_client.get_record(ORG, pair.account)
    assert (org["OrganisationAddress"], org["OrganisationTelephone"]) == ("Fjordvej 9", "+45 75 50 50 50")
    assert (debtor["Address1"], debtor["Phone"]) == ("Fjordvej 9", "+45 75 50 50 50")
