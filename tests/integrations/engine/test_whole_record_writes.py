"""A whole-record write never erases an edit a person made after Synkro read the record.

webCRM and Uniconta take whole records: the client reads the record, merges the changed fields in and puts it
back. A person's edit that lands between the engine's read and that write is either kept (another field) or,
when it is in a field Synkro is about to write, stops the write: the change is planned again against the
record as it now stands, and two edits of one field become a logged conflict, never a silent overwrite.
"""

from __future__ import annotations

import pytest

from integrations.engine.unchanged import still_as_read
from integrations.models import Conflict, EventState, InboundEvent, SyncLogEntry
from integrations.systems.errors import ChangedSinceRead
from integrations.systems.uniconta.client import UnicontaClient
from integrations.systems.webcrm.client import WebcrmClient
from mappings.models import EntitySync
from tests.harness import drain

from . import test_sync_documents as documents
from .test_crash_between_writes import due_now
from .test_sync_documents import ORG

pair = documents.pair  # the webCRM ↔ Uniconta pair with items and an organisation


def edited_just_before_write(monkeypatch, client_class, record_id, **changes):
    """A person saves ``changes`` (through the API, so the vendor's notice fires) just before Synkro's first
    write to ``record_id`` reaches the vendor, after the engine read it."""
    original = client_class.update_record
    state = {"done": False}

    def edited_first(client, entity, record_id_, data, **options):
        if not state["done"] and entity == ORG and str(record_id_) == str(record_id) and options.get("check"):
            state["done"] = True
            original(client, entity, record_id_, changes)
        return original(client, entity, record_id_, data, **options)

    monkeypatch.setattr(client_class, "update_record", edited_first)
    return state


def drain_with_retries():
    for _ in range(5):
        drain()
        if not InboundEvent.objects.filter(state=EventState.PENDING).exists():
            return
        due_now()


@pytest.fixture
def linked(pair):
    """A two-way organisation already in both systems: (webCRM id, Uniconta account)."""
    EntitySync.objects.filter(integration=pair.integration, entity="organisation").update(direction="two_way")
    org = pair.crm_client.create_record(ORG, {"OrganisationName": "Lemvig Tømrer", "OrganisationType": "Kunde",
                                              "OrganisationCity": "Lemvig"})
    drain()
    account = next(d["Account"] for d in pair.erp_client.list_records(ORG) if d["Name"] == "Lemvig Tømrer")
    return str(org["OrganisationId"]), account


def test_a_same_field_edit_in_the_erp_during_the_write_is_a_logged_conflict(pair, linked, monkeypatch):
    org_id, account = linked
    state = edited_just_before_write(monkeypatch, UnicontaClient, account, City="Thyborøn")
    pair.crm.change_in_webcrm("Organisations", int(org_id), OrganisationCity="Harboøre")
    drain_with_retries()
    assert state["done"]
    crm_city = pair.crm_client.get_record(ORG, org_id)["OrganisationCity"]
    erp_city = pair.erp_client.get_record(ORG, account)["City"]
    assert crm_city == erp_city  # the two sides agree in the end
    [conflict] = Conflict.objects.filter(integration=pair.integration, erp_field="City")
    assert {conflict.crm_value, conflict.erp_value} == {"Harboøre", "Thyborøn"}
    assert conflict.resolved_value == crm_city
    assert SyncLogEntry.objects.filter(action="conflict", crm_id=org_id).exists()
    assert not InboundEvent.objects.filter(state=EventState.FAILED).exists()


def test_a_different_field_edit_in_the_erp_during_the_write_survives(pair, linked, monkeypatch):
    org_id, account = linked
    state = edited_just_before_write(monkeypatch, UnicontaClient, account, Phone="+45 97 82 00 00")
    pair.crm.change_in_webcrm("Organisations", int(org_id), OrganisationCity="Harboøre")
    drain_with_retries()
    assert state["done"]
    debtor = pair.erp_client.get_record(ORG, account)
    assert (debtor["City"], debtor["Phone"]) == ("Harboøre", "+45 97 82 00 00")
    assert pair.crm_client.get_record(ORG, org_id)["OrganisationTelephone"] == "+45 97 82 00 00"
    assert not Conflict.objects.filter(integration=pair.integration).exists()


def test_a_same_field_edit_in_webcrm_during_the_write_is_not_erased(pair, linked, monkeypatch):
    org_id, account = linked
    state = edited_just_before_write(monkeypatch, WebcrmClient, org_id, OrganisationCity="Bovbjerg")
    pair.erp_client.update_record(ORG, account, {"City": "Ferring"})
    drain_with_retries()
    assert state["done"]
    crm_city = pair.crm_client.get_record(ORG, org_id)["OrganisationCity"]
    assert crm_city == pair.erp_client.get_record(ORG, account)["City"]
    [conflict] = Conflict.objects.filter(integration=pair.integration, crm_field="OrganisationCity")
    assert {conflict.crm_value, conflict.erp_value} == {"Bovbjerg", "Ferring"}


def test_the_check_compares_only_the_fields_about_to_be_written():
    check = still_as_read({"City": "Lemvig", "Phone": "1", "Zip": 7620}, {"City": "Harboøre", "Zip": 7620},
                          system="Uniconta")
    check({"City": "Lemvig", "Phone": "2", "Zip": "7620"})  # another field moved; a number respelled: no stop
    with pytest.raises(ChangedSinceRead) as stopped:
        check({"City": "Thyborøn", "Phone": "1", "Zip": 7620})
    assert stopped.value.fields == ["City"]
    assert "changed in Uniconta while Synkro was writing it (City)" in str(stopped.value)
