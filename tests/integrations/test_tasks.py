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
    monkeypatch.setattr(tasks, "_queue_size", lambda queue=None: tasks.DISPATCH_QUEUE_LIMIT + 1)
    InboundEvent.objects.create(tenant=world.tenant, integration=world.integration, system="webcrm",
                                entity="organisation", action="updated", external_id="1",
                                next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert tasks.events_dispatch_task() == 0 and sent == []
    monkeypatch.setattr(tasks, "_queue_size", lambda queue=None: 0)
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


@pytest.mark.django_db
def test_live_notices_and_bulk_runs_go_to_separate_queues(world, settings):
    """A webhook's change never waits behind an import: each has its own queue (django-q2 cluster) and workers."""
    from django_q.models import OrmQ

    from integrations.engine.ingest import event_ingest, events_ingest_batch
    from integrations.models import EventSource

    live, _ = event_ingest(integration=world.integration, system="webcrm", entity="organisation", action="updated",
                           external_id="1")
    events_ingest_batch(integration=world.integration, system="uniconta", entity="organisation",
                        external_ids=[str(n) for n in range(100, 125)], source=EventSource.IMPORT)
    events_ingest_batch(integration=world.integration, system="uniconta", entity="item",
                        external_ids=["A-1", "A-2"], source=EventSource.POLL)
    # a run's record stored on its own (a batch that met a concurrent notice falls back to this) stays bulk work
    event_ingest(integration=world.integration, system="uniconta", entity="item", action="updated",
                 external_id="B-1", source=EventSource.RECONCILE)
    queues = {}
    for task in OrmQ.objects.all():
        queues.setdefault(task.key, []).append((task.func(), task.args()))
    assert queues[settings.Q_LIVE_CLUSTER][0] == (tasks.EVENT_TASK, (live.pk,))
    assert [func for func, _ in queues[settings.Q_LIVE_CLUSTER]] == [tasks.EVENT_TASK, tasks.EVENTS_TASK]
    bulk = queues[settings.Q_CLUSTER["name"]]
    assert [len(args[0]) for _, args in bulk] == [10, 10, 5, 1]  # the import's 25 events in small chunks, then B-1


@pytest.mark.django_db
def test_the_recovery_runs_on_the_live_workers_and_hands_each_event_to_its_own_queue(world, settings):
    from django_q.models import OrmQ

    from integrations.models import EventSource

    tasks.schedules_ensure()
    dispatcher = Schedule.objects.get(func="integrations.tasks.events_dispatch_task")
    assert dispatcher.cluster == settings.Q_LIVE_CLUSTER
    assert Schedule.objects.get(func="integrations.tasks.reconciliations_task").cluster is None
    due = timezone.now() - timedelta(seconds=1)
    made = {source: InboundEvent.objects.create(tenant=world.tenant, integration=world.integration, system="webcrm",
                                                entity="organisation", action="updated", external_id=source,
                                                source=source, next_attempt_at=due)
            for source in (EventSource.WEBHOOK, EventSource.IMPORT)}
    tasks.events_dispatch_task()
    handed = {task.args()[0]: task.key for task in OrmQ.objects.all()}
    assert handed == {made[EventSource.WEBHOOK].pk: settings.Q_LIVE_CLUSTER,
                      made[EventSource.IMPORT].pk: settings.Q_CLUSTER["name"]}


@pytest.mark.django_db
def test_a_notice_of_a_record_synkro_just_wrote_waits_with_the_bulk_work(world, settings):
    """Echoes of an import's writes must not queue ahead of a person's change: they go to the bulk queue."""
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    from integrations.brokers import awaiting_event_tasks
    from integrations.engine.intake import WebhookSource, webhook_events_store
    from integrations.models import SyncLink
    from integrations.systems.base import WebhookEvent

    SyncLink.objects.create(tenant=world.tenant, integration=world.integration, entity="organisation",
                            crm_id="7", erp_id="10007", synced_at=timezone.now())
    SyncLink.objects.create(tenant=world.tenant, integration=world.integration, entity="organisation",
                            crm_id="8", erp_id="10008", synced_at=timezone.now() - timedelta(hours=1))
    source = WebhookSource(tenant_id=world.tenant.pk, integration_id=world.integration.pk, system="webcrm",
                           connection_id=world.integration.crm_connection_id,
                           enabled=frozenset({("organisation", "updated")}))
    webhook_events_store(source=source, events=[
        WebhookEvent(entity="organisation", action="updated", external_id=record_id) for record_id in "789"])
    assert not OrmQ.objects.exists()  # storing a notice queues no task: the live queue's broker takes it up
    by_record = {event.pk: event.external_id for event in InboundEvent.objects.all()}
    queued = {}
    for _ack, pack in awaiting_event_tasks():  # what the live workers' broker hands them
        queued[by_record[SignedPackage.loads(pack)["args"][0]]] = settings.Q_LIVE_CLUSTER
    for task in OrmQ.objects.all():
        for event_id in (task.args()[0] if isinstance(task.args()[0], list) else [task.args()[0]]):
            queued[by_record[event_id]] = task.key
    assert queued == {"7": settings.Q_CLUSTER["name"], "8": settings.Q_LIVE_CLUSTER, "9": settings.Q_LIVE_CLUSTER}
    assert awaiting_event_tasks() == [] and not InboundEvent.objects.filter(awaits_worker=True).exists()
