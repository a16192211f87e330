"""Storing a run's batch of notices at once: coalesced like single notices, one task per chunk."""

from __future__ import annotations

import pytest

from integrations import tasks
from integrations.engine.ingest import event_ingest, events_ingest_batch
from integrations.engine.runs import run_start
from integrations.models import EventSource, EventState, InboundEvent


@pytest.fixture
def sent(monkeypatch):
    chunks: list[list[int]] = []
    monkeypatch.setattr(tasks, "async_task", lambda func, *args, **kwargs: chunks.append(args[0]))
    return chunks


def test_a_batch_creates_one_event_per_record_and_one_task_per_chunk(world, sent, django_capture_on_commit_callbacks):
    run = run_start(integration=world.integration, kind="import", entity="organisation")
    ids = [str(n) for n in range(tasks.EVENT_CHUNK + 3)] + ["1"]  # a repeated id counts once
    with django_capture_on_commit_callbacks(execute=True):
        stored = events_ingest_batch(integration=world.integration, system="uniconta", entity="organisation",
                                     external_ids=ids, source=EventSource.IMPORT, run_id=run.pk)
    assert stored == tasks.EVENT_CHUNK + 3
    events = InboundEvent.objects.filter(run=run, state=EventState.PENDING, source=EventSource.IMPORT)
    assert events.count() == tasks.EVENT_CHUNK + 3
    assert [len(chunk) for chunk in sent] == [tasks.EVENT_CHUNK, 3]
    assert sorted(pk for chunk in sent for pk in chunk) == sorted(events.values_list("pk", flat=True))


def test_a_record_with_a_pending_notice_is_coalesced_and_joins_the_run(world, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        earlier, _ = event_ingest(integration=world.integration, system="uniconta", entity="organisation",
                                  action="created", external_id="7")
    run = run_start(integration=world.integration, kind="reconcile", entity="organisation")
    with django_capture_on_commit_callbacks(execute=True):
        events_ingest_batch(integration=world.integration, system="uniconta", entity="organisation",
                            external_ids=["7", "8"], source=EventSource.RECONCILE, run_id=run.pk)
    earlier.refresh_from_db()
    assert (earlier.deliveries, earlier.action, earlier.run_id) == (2, "created", run.pk)
    assert InboundEvent.objects.filter(external_id="7").count() == 1
    assert sent[-1] == [InboundEvent.objects.get(external_id="8").pk]


def test_a_stale_claim_is_superseded_by_a_newer_pending_notice_of_the_same_record(world):
    from datetime import timedelta

    from django.utils import timezone

    from integrations.engine.process import events_requeue_stale

    stale = InboundEvent.objects.create(tenant=world.tenant, integration=world.integration, system="webcrm",
                                        entity="organisation", action="updated", external_id="9",
                                        state=EventState.PROCESSING, processed_at=timezone.now() - timedelta(hours=1))
    newer = InboundEvent.objects.create(tenant=world.tenant, integration=world.integration, system="webcrm",
                                        entity="organisation", action="updated", external_id="9")
    assert events_requeue_stale() == 0
    stale.refresh_from_db()
    newer.refresh_from_db()
    assert (stale.state, newer.state) == (EventState.DONE, EventState.PENDING)
