"""A worker killed (or an answer lost) between two writes of one record's sync leaves nothing half-done.

Each case stops the sync at one point of its plan — after the ERP applied a create but before Synkro heard the
answer, after the link was stored but before the number or document id went back to webCRM — and lets the event
be taken up again, as the recovery of a dead worker's event does. Afterwards there is one record on each side,
linked, with every write of the plan done.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from integrations.models import EventState, InboundEvent, SyncLink, SyncLogEntry
from integrations.systems.errors import TransientError
from integrations.systems.uniconta.client import UnicontaClient
from integrations.systems.webcrm.client import WebcrmClient
from mappings.models import EntitySync
from tests.harness import drain

from . import test_sync_documents as documents
from .test_sync_documents import DELIVERY, ORG, new_delivery, orders

pair = documents.pair  # the webCRM ↔ Uniconta pair with items and an organisation


class WorkerKilled(BaseException):
    """The worker process died here: nothing after this point of the sync ran."""


def stop_once(monkeypatch, cls, method: str, *, after_call: bool, error: BaseException, when=lambda *a: True):
    """Make ``cls.method`` fail once (before or after doing its work), for the calls ``when`` picks."""
    original = getattr(cls, method)
    state = {"done": False}

    def wrapped(self, *args, **kwargs):
        if state["done"] or not when(*args):
            return original(self, *args, **kwargs)
        state["done"] = True
        if after_call:
            original(self, *args, **kwargs)
        raise error

    monkeypatch.setattr(cls, method, wrapped)
    return state


def process_killed(monkeypatch):
    """Drain until the kill, then let the killed event be taken up again (its lease ran out)."""
    with pytest.raises(WorkerKilled):
        drain()
    monkeypatch.undo()
    InboundEvent.objects.filter(state=EventState.PROCESSING).update(state=EventState.PENDING, next_attempt_at=None)
    due_now()
    drain()


def due_now():
    InboundEvent.objects.filter(state=EventState.PENDING).update(next_attempt_at=timezone.now())


def debtors_named(pair, name):
    return [d for d in pair.erp_client.list_records(ORG) if d.get("Name") == name]


@pytest.fixture
def erp_numbers(pair):
    EntitySync.objects.filter(integration=pair.integration, entity="organisation").update(number_authority="erp")
    return pair


@pytest.mark.parametrize("client_class, method, after_call, name", [
    (WebcrmClient, "update_record", False, "Klitgaard VVS"),  # killed before the number write-back
    (UnicontaClient, "create_record", True, "Sønderby Tømrer"),  # the debtor made, its answer lost
], ids=["killed-before-the-write-back", "create-answer-lost"])
def test_a_debtor_is_made_once_and_its_number_written_back(erp_numbers, monkeypatch, client_class, method,
                                                            after_call, name):
    pair = erp_numbers
    stop_once(monkeypatch, client_class, method, after_call=after_call, error=WorkerKilled(),
              when=lambda entity, *a: entity == ORG)
    org = pair.crm_client.create_record(ORG, {"OrganisationName": name, "OrganisationType": "Kunde"})
    process_killed(monkeypatch)

    [debtor] = debtors_named(pair, name)
    back = pair.crm_client.get_record(ORG, str(org["OrganisationId"]))
    assert back["OrganisationExtraCustom1"] == debtor["Account"]
    link = SyncLink.objects.get(entity="organisation", crm_id=str(org["OrganisationId"]))
    assert link.erp_id == debtor["Account"] and not link.pending


@pytest.mark.parametrize("error", [WorkerKilled(), TransientError("HTTP 500 after the write", system="uniconta")],
                         ids=["killed", "answered-500"])
def test_an_order_create_whose_answer_was_lost_is_not_made_twice(pair, monkeypatch, error):
    stop_once(monkeypatch, UnicontaClient, "create_record", after_call=True, error=error,
              when=lambda entity, *a: entity == DELIVERY)
    delivery = new_delivery(pair)
    if isinstance(error, WorkerKilled):
        process_killed(monkeypatch)
    else:
        drain()
        monkeypatch.undo()
        due_now()
        drain()

    [order] = orders(pair)
    assert len(order["lines"]) == 2
    back = pair.crm_client.get_record(DELIVERY, str(delivery["DeliveryId"]))
    assert back["DeliveryErpId"] == str(order["OrderNumber"])
    assert SyncLink.objects.get(entity="delivery", crm_id=str(delivery["DeliveryId"])).erp_id == \
        str(order["OrderNumber"])
    assert SyncLogEntry.objects.filter(entity="delivery", action="created").count() == 1


def test_killed_between_the_order_create_and_the_write_back(pair, monkeypatch):
    stop_once(monkeypatch, WebcrmClient, "update_record", after_call=False, error=WorkerKilled(),
              when=lambda entity, *a: entity == DELIVERY)
    delivery = new_delivery(pair)
    process_killed(monkeypatch)

    [order] = orders(pair)
    back = pair.crm_client.get_record(DELIVERY, str(delivery["DeliveryId"]))
    assert back["DeliveryErpId"] == str(order["OrderNumber"])
    assert back["DeliveryErpStatus"] == "Synchronized"


ERP_CASES = {
    "fortnox": ({"ArticleNumber": "A-100", "Description": "Snickeritimme"}, "Kund – Företag", "A-100"),
    "vismanet": ({"inventoryNumber": "V-1", "description": "Konsulttimme"}, "Kunde", "V-1"),
}


@pytest.mark.parametrize("erp", sorted(ERP_CASES))
def test_each_erp_finds_the_order_an_attempt_whose_answer_was_lost_made(db, synkro, sandboxes, monkeypatch, erp):
    from integrations.systems.registry import get_system

    from .test_booked_meanwhile import _delivery, _pair

    item, org_type, number = ERP_CASES[erp]
    pair = _pair(sandboxes, erp, item, org_type)
    client_class = type(pair.erp_client)
    stop_once(monkeypatch, client_class, "create_record", after_call=True, error=WorkerKilled(),
              when=lambda entity, *a: entity == DELIVERY)
    delivery = _delivery(pair, number)
    process_killed(monkeypatch)

    made = list(pair.erp_client.list_records(DELIVERY))
    assert len(made) == 1, f"{get_system(erp).name} holds {len(made)} orders"
    order_id = pair.erp_client.record_id(DELIVERY, made[0])
    back = pair.crm_client.get_record(DELIVERY, str(delivery["DeliveryId"]))
    assert back["DeliveryErpId"] == order_id


def test_a_reconciliation_finishes_a_write_back_whose_event_was_lost(erp_numbers, monkeypatch):
    """The drill's case: the event is gone too, and the safety reconciliation must not call the pair "in step"."""
    from integrations.engine.runs import reconcile_entity, run_start
    from tests.harness import QUIET

    pair = erp_numbers
    stop_once(monkeypatch, WebcrmClient, "update_record", after_call=False, error=WorkerKilled(),
              when=lambda entity, *a: entity == ORG)
    org = pair.crm_client.create_record(ORG, {"OrganisationName": "Vestkyst El", "OrganisationType": "Kunde"})
    with pytest.raises(WorkerKilled):
        drain()
    monkeypatch.undo()
    InboundEvent.objects.all().delete()

    run = run_start(integration=pair.integration, kind="reconcile", entity="organisation")
    assert reconcile_entity(run=run, client_options=QUIET) >= 1
    drain()
    [debtor] = debtors_named(pair, "Vestkyst El")
    assert pair.crm_client.get_record(ORG, str(org["OrganisationId"]))["OrganisationExtraCustom1"] == debtor["Account"]
    again = run_start(integration=pair.integration, kind="reconcile", entity="organisation")
    assert reconcile_entity(run=again, client_options=QUIET) == 0


def test_the_reconciliation_names_copies_of_an_order_made_before_creates_looked_for_their_key(pair):
    """Copies made before this protection existed (or by hand) are found and named, never deleted."""
    from integrations.engine.runs import reconcile_entity, run_start
    from integrations.models import SyncRun
    from tests.harness import QUIET

    delivery = new_delivery(pair)
    drain()
    [order] = orders(pair)
    key = f"webCRM {delivery['DeliveryId']}"
    assert order["OurRef"] == key
    copy = pair.erp_client.create_record(DELIVERY, {"Account": order["Account"], "OurRef": key, "lines": []})

    run = run_start(integration=pair.integration, kind="reconcile", entity="delivery")
    reconcile_entity(run=run, client_options=QUIET)

    entry = SyncLogEntry.objects.get(action="review", entity="delivery")
    assert entry.reason.startswith(f"Sales orders {order['OrderNumber']} and {copy['OrderNumber']} in Uniconta carry "
                                   f"the same Synkro key ({key})")
    assert SyncRun.objects.get(pk=run.pk).counts["copies"] == 1
    assert len(orders(pair)) == 2  # named for a person, not deleted
