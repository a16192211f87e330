"""The django-q2 entry points and the schedules every installation runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from integrations import tasks
from integrations.engine.runs import reconciliations_due
from integrations.models import EventState, InboundEvent, SyncRun


@pytest.mark.django_db
def test_schedules_exist_after_migrate_and_are_not_duplicated():
    tasks.schedules_ensure()
    tasks.schedules_ensure()
    names = set(Schedule.objects.values_list("name", flat=True))
    assert set(tasks.SCHEDULES) <= names
    assert Schedule.objects.filter(name__startswith="synkro:").count() == len(tasks.SCHEDULES)


@pytest.mark.django_db
def test_with_the_orm_broker_the_task_row_commits_and_rolls_back_with_its_event(world):
    from django.db import transaction
    from django_q.models import OrmQ

    from integrations.engine.ingest import event_ingest

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        event_ingest(integration=world.integration, system="webcrm", entity="organisation", action="updated",
                     external_id="1")
        assert OrmQ.objects.count() == 1
        raise Undo
    assert not OrmQ.objects.exists() and not InboundEvent.objects.exists()
    event, _ = event_ingest(integration=world.integration, system="webcrm", entity="organisation",
                            action="updated", external_id="1")
    (task,) = OrmQ.objects.all()
    assert (task.func(), task.args()) == (tasks.EVENT_TASK, (event.pk,))


@pytest.mark.django_db
def test_with_redis_new_events_are_pushed_after_commit(world, settings, monkeypatch,
                                                        django_capture_on_commit_callbacks):
    settings.Q_CLUSTER = {**{k: v for k, v in settings.Q_CLUSTER.items() if k != "orm"}, "redis": "redis://x"}
    sent = []
    monkeypatch.setattr(tasks, "async_task", lambda func, *args, **kwargs: sent.append((func, args)))
    from integrations.engine.ingest import event_ingest

    with django_capture_on_commit_callbacks(execute=True):
        event, _ = event_ingest(integration=world.integration, system="webcrm", entity="organisation",
                                action="updated", external_id="1")
        assert sent == []  # not before the commit
    assert sent == [(tasks.EVENT_TASK, (event.pk,))]


@pytest.mark.django_db
def test_the_dispatcher_takes_up_due_retries_and_vanished_workers(world, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks, "async_task", lambda func, *args, **kwargs: sent.append(args[0]))
    due = InboundEvent.objects.create(tenant=world.tenant, integration=world.integration, system="webcrm",
                                      entity="organisation", action="updated", external_id="1")
    InboundEvent.objects.filter(pk=due.pk).update(received_at=timezone.now() - timedelta(minutes=3))
    InboundEvent.objects.create(tenant=world.tenant, integration=world.integration, system="webcrm",
                                entity="organisation", action="updated", external_id="4")  # handed over just now
    InboundEvent.objects.create(tenant=world.tenant, integration=world.integration, system="webcrm",
                                entity="organisation", action="updated", external_id="2",
                                next_attempt_at=timezone.now() + timedelta(minutes=5))
    stuck = InboundEvent.objects.create(tenant=world.tenant, integration=world.integration, system="webcrm",
                                        entity="organisation", action="updated", external_id="3",
                                        state=EventState.PROCESSING,
                                        processed_at=timezone.now() - timedelta(minutes=30))
    assert tasks.events_dispatch_task() == 2
    assert sorted(sent) == sorted([due.pk, stuck.pk])


@pytest.mark.django_db
def test_the_dispatcher_adds_no_copies_to_a_busy_queue(world, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks, "async_task", lambda func, *args, **kwargs: sent.append(args[0]))
    monkeypatch.setattr(tasks, "_queue_size", lambda: tasks.DISPATCH_QUEUE_LIMIT + 1)
    InboundEvent.objects.create(tenant=world.tenant, integration=world.integration, system="webcrm",
                                entity="organisation", action="updated", external_id="1",
                                next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert tasks.events_dispatch_task() == 0 and sent == []
    monkeypatch.setattr(tasks, "_queue_size", lambda: 0)
    assert tasks.events_dispatch_task() == 1


@pytest.mark.django_db
def test_reconciliations_start_one_interval_after_the_last(world):
    assert reconciliations_due() == []  # the integration was made just now
    later = timezone.now() + timedelta(hours=7)
    due = reconciliations_due(now=later)
    assert {e.entity for e in due} >= {"organisation"}
    run = SyncRun.objects.create(tenant=world.tenant, integration=world.integration, kind="reconcile",
                                 entity="organisation")
    SyncRun.objects.filter(pk=run.pk).update(started_at=later - timedelta(hours=1))
    assert "organisation" not in {e.entity for e in reconciliations_due(now=later) if
                                  e.integration == world.integration}
