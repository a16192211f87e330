"""A worker that dies frees its events and records within seconds; a living one keeps them however long it works."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.engine import leases
from integrations.engine.locks import RecordBusy, lock_acquire, record_locked
from integrations.engine.process import events_take_up_stale
from integrations.keeper import keeper_round
from integrations.models import EventState, InboundEvent, RecordLock
from tests.harness import drain

from . import test_sync_documents as documents
from .test_sync_documents import ORG

pair = documents.pair


@pytest.fixture
def claimed(pair):
    """An organisation change claimed by a worker (state processing), as the moment before it is written."""
    org = pair.crm_client.create_record(ORG, {"OrganisationName": "Agger Fiskeri", "OrganisationType": "Kunde"})
    event = InboundEvent.objects.get(external_id=str(org["OrganisationId"]), entity="organisation")
    InboundEvent.objects.filter(pk=event.pk).update(state=EventState.PROCESSING, processed_at=timezone.now())
    return event


def test_a_dead_workers_claim_is_taken_up_once_its_short_lease_runs_out(claimed):
    soon = timezone.now() + leases.LEASE - timedelta(seconds=1)
    assert events_take_up_stale(now=soon) == []  # still within its lease: the worker may be alive
    later = timezone.now() + leases.LEASE + timedelta(seconds=1)
    assert events_take_up_stale(now=later) == [claimed.pk]
    claimed.refresh_from_db()
    assert claimed.state == EventState.PENDING
    assert "stopped" in claimed.last_error


def test_a_living_worker_renews_what_it_holds(claimed):
    leases.event_held(claimed.pk)
    try:
        with record_locked("1:organisation:webcrm:1"):
            later = timezone.now() + leases.LEASE * 3
            assert leases.leases_renew(now=later) == 2
            assert events_take_up_stale(now=later + timedelta(seconds=1)) == []  # renewed: not taken from it
            assert lock_acquire(key="1:organisation:webcrm:1") is None
            assert RecordLock.objects.get().expires_at == later + leases.LEASE
    finally:
        leases.event_let_go(claimed.pk)
    assert leases.held() == ([], [])


@pytest.mark.django_db
def test_a_dead_workers_record_lease_runs_out_within_seconds():
    owner = lock_acquire(key="1:organisation:webcrm:9")
    assert owner and lock_acquire(key="1:organisation:webcrm:9") is None
    RecordLock.objects.update(expires_at=timezone.now() - timedelta(seconds=1))  # the lease ran out, unrenewed
    assert lock_acquire(key="1:organisation:webcrm:9") is not None
    with pytest.raises(RecordBusy), record_locked("1:organisation:webcrm:9"):
        pass


def test_the_keeper_hands_what_it_took_up_to_the_workers(claimed, pair):
    InboundEvent.objects.filter(pk=claimed.pk).update(processed_at=timezone.now() - leases.LEASE * 2)
    assert keeper_round() == [claimed.pk]
    drain()  # the task the keeper queued processes it
    claimed.refresh_from_db()
    assert claimed.state == EventState.DONE
    assert any(d["Name"] == "Agger Fiskeri" for d in pair.erp_client.list_records(ORG))
