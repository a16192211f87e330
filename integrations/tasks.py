"""django-q2 entry points. Thin: they take ids, call the engine, and are enqueued with the commit of their events."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task

from .engine import process
from .keeper import keeper_ensure

logger = logging.getLogger(__name__)

EVENT_TASK = "integrations.tasks.event_process_task"


def bulk_queue() -> str:
    """The bulk queue's name (the default cluster's). Always named: inside a live worker, no name means live."""
    return settings.Q_CLUSTER["name"]


def _with_commit(enqueue) -> None:
    """Hand work to the broker so that workers see it only once the events it names are committed.

    The ORM broker's queue is a table of the same database: the task row is written in the transaction
    that stores the events and commits or rolls back with them (outside a transaction, in a small one
    of its own, or the broker would close and reopen the connection for each task). Redis is another
    system: the task is pushed after the commit.
    """
    if "orm" in settings.Q_CLUSTER:
        with transaction.atomic(savepoint=False):
            enqueue()
    else:
        transaction.on_commit(enqueue)


def event_enqueue(*, event_id: int) -> None:
    """Hand an event to the workers once the transaction that stores it has committed."""
    events_enqueue_each(event_ids=[event_id])


def events_enqueue_each(*, event_ids: list[int]) -> None:
    """Hand events to the live workers with their commit, a task each, so that workers take them in parallel.

    Single notices (webhooks, the Fortnox stream, replays, retries) are live work: they go to the live queue
    (``settings.Q_LIVE_CLUSTER``), which bulk runs never fill.
    """
    if event_ids:
        _with_commit(lambda: [async_task(EVENT_TASK, event_id, group="events", cluster=settings.Q_LIVE_CLUSTER)
                              for event_id in event_ids])


#: Events handed to one task when a run stores many at once: enqueueing costs more than a small chunk of work, and
#: a small chunk lets a stopping worker finish soon.
EVENT_CHUNK = 10
EVENTS_TASK = "integrations.tasks.events_process_task"


def events_enqueue(*, event_ids: list[int], live: bool = False) -> None:
    """Hand a batch of stored events to the workers with their commit, a chunk per task: to the bulk queue (imports,
    reconciliations) unless ``live`` (a poll's changes)."""
    chunks = [event_ids[i:i + EVENT_CHUNK] for i in range(0, len(event_ids), EVENT_CHUNK)]
    cluster = settings.Q_LIVE_CLUSTER if live else bulk_queue()
    if chunks:
        _with_commit(lambda: [async_task(EVENTS_TASK, chunk, group="events", cluster=cluster) for chunk in chunks])


def events_process_task(event_ids: list[int]) -> int:
    """Process a chunk of events; each is claimed on its own, so a retry is harmless. An import's or a
    reconciliation's event leads a batch of its kind where the target has a list insert (``engine.bulk_create``)."""
    from .engine.bulk_create import events_batch_process

    keeper_ensure()
    return events_batch_process(event_ids=event_ids)


def event_process_task(event_id: int) -> str:
    keeper_ensure()
    outcome = process.event_process(event_id=event_id)
    return outcome.action if outcome else "nothing to do"


def _queues_of(event_ids: list[int]) -> dict[int, str]:
    """Each event's queue, in the order given: bulk work (an import's, a reconciliation's) to the bulk queue, the
    rest to the live one. One query."""
    bulk = process.bulk_events(event_ids)
    return {event_id: bulk_queue() if event_id in bulk else settings.Q_LIVE_CLUSTER for event_id in event_ids}


def events_hand_over(*, event_ids: list[int]) -> None:
    """Hand due events to their queue now, a task each (:func:`_queues_of`)."""
    for event_id, queue in _queues_of(event_ids).items():
        async_task(EVENT_TASK, event_id, group="events", cluster=queue)


#: Above this many tasks waiting in the broker the dispatcher adds none: what it would hand over is most
#: likely among them already, and copies would only lengthen the queue. It tries again the next minute.
DISPATCH_QUEUE_LIMIT = 50


def events_dispatch_task() -> int:
    """Every minute: take up events of vanished workers and hand due retries (and lost hand-overs) to the workers;
    runs whose events are all processed are finished."""
    from .engine.runs import runs_settle

    process.events_requeue_stale()
    runs_settle()
    due = process.events_to_dispatch()
    # Each queue is filled only while it is short: what it would be handed is most likely in it already.
    room = {queue: _queue_size(queue) <= DISPATCH_QUEUE_LIMIT for queue in (bulk_queue(), settings.Q_LIVE_CLUSTER)}
    handed = 0
    for event_id, queue in _queues_of(due).items():
        if room[queue]:
            async_task(EVENT_TASK, event_id, group="events", cluster=queue)
            handed += 1
    return handed


def _queue_size(queue: str | None = None) -> int:
    """Tasks waiting in a queue of the broker (ORM or Redis; the bulk one by default), 0 when it cannot tell."""
    from django_q.brokers import get_broker

    try:
        return int(get_broker(queue or bulk_queue()).queue_size() or 0)
    except Exception:  # a broker that cannot count must not stop the dispatcher
        return 0


def polls_task() -> int:
    """Every minute: poll each source whose interval has passed (one task each, so workers share them)."""
    from .engine.poll import polls_due

    due = polls_due()
    for integration, system, entity in due:
        async_task("integrations.tasks.poll_task", integration.pk, system, entity, group="polls", cluster=bulk_queue())
    return len(due)


def poll_task(integration_id: int, system: str, entity: str) -> int:
    from .engine.poll import poll_entity
    from .models import Integration

    integration = Integration.objects.select_related("crm_connection", "erp_connection").get(pk=integration_id)
    return poll_entity(integration=integration, system=system, entity=entity)


def reconciliations_task() -> int:
    """Start the safety reconciliations whose interval (3/6/12/24 h) has passed."""
    from .engine.runs import reconciliations_due, run_start

    started = 0
    for entity_sync in reconciliations_due():
        run = run_start(integration=entity_sync.integration, kind="reconcile", entity=entity_sync.entity)
        run_enqueue(run_id=run.pk)
        started += 1
    return started


def run_enqueue(*, run_id: int) -> None:
    transaction.on_commit(lambda: async_task("integrations.tasks.run_task", run_id, group="runs", cluster=bulk_queue()))


def run_task(run_id: int) -> int:
    """Carry out a reconciliation, an initial import or a preview started by the schedule or by a person.

    A run that is held for confirmation, cancelled or finished is left alone.
    """
    from .engine.preview import preview_run, preview_unfinished
    from .engine.runs import import_entity, reconcile_entity
    from .models import RunKind, RunState, SyncRun

    run = SyncRun.objects.select_related("integration__crm_connection", "integration__erp_connection").get(pk=run_id)
    if run.state != RunState.RUNNING:
        return 0
    if run.kind == RunKind.PREVIEW:
        planned = preview_run(run=run)
        if preview_unfinished(run.pk):
            run_enqueue(run_id=run.pk)  # the next slice, in a task of its own
        return planned
    if run.kind == RunKind.IMPORT:
        return import_entity(run=run)
    return reconcile_entity(run=run)


#: The schedules every installation runs (created after migrate; see ``apps.py``).
SCHEDULES = {
    "synkro: hand due events to the workers": ("integrations.tasks.events_dispatch_task", 1),
    "synkro: poll systems without webhooks": ("integrations.tasks.polls_task", 1),
    "synkro: start safety reconciliations": ("integrations.tasks.reconciliations_task", 15),
    "synkro: post POS daily reports": ("integrations.tasks.daily_reports_task", 15),
    "synkro: bring webhooks in line with paused and active integrations": ("integrations.tasks.hooks_owed_task", 5),
    # daily, on the bulk workers; each run removes a bounded amount in short batches (``tenants.retention``)
    "synkro: remove sync history older than each tenant keeps": ("tenants.tasks.history_clean_task", 24 * 60),
    "synkro: send alert digests": ("alerts.tasks.alert_digests_task", 60),
}


#: Schedules the live workers run: recovery, and alerts to people, must never wait behind bulk work (an import
#: can fill the bulk queue for an hour).
LIVE_SCHEDULES = ("integrations.tasks.events_dispatch_task", "integrations.tasks.hooks_owed_task",
                  "alerts.tasks.alert_digests_task")


def schedules_ensure(**_: object) -> None:
    """Create (or bring up to date) the periodic tasks; safe to call any number of times."""
    from django_q.models import Schedule

    for name, (func, minutes) in SCHEDULES.items():
        Schedule.objects.update_or_create(name=name, defaults={
            "func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1,
            "cluster": settings.Q_LIVE_CLUSTER if func in LIVE_SCHEDULES else None})


def daily_reports_task() -> int:
    """Post the POS daily report of every shop whose configured time has passed today (idempotent)."""
    from .engine.context import context_for
    from .engine.pos import daily_report_due, daily_report_post
    from .models import Integration

    posted = 0
    for integration in (Integration.objects.filter(active=True, pos_settings__daily_report_time__isnull=False)
                        .select_related("crm_connection", "erp_connection", "pos_settings")):
        day = daily_report_due(integration=integration)
        ctx = context_for(integration, "daily_report") if day else None
        if ctx is None:
            continue
        try:
            posted += len(daily_report_post(ctx, day=day))
        finally:
            ctx.close()
    return posted


HOOKS_TASK = "integrations.tasks.hooks_follow_task"


def hooks_follow_enqueue(*, integration_id: int) -> None:
    """After an integration was switched on or paused: have a worker register or remove its webhooks at the
    vendors, once the switch is committed (the save never waits for a vendor)."""
    _with_commit(lambda: async_task(HOOKS_TASK, integration_id, group="hooks", cluster=settings.Q_LIVE_CLUSTER))


def hooks_follow_task(integration_id: int) -> int:
    """Register or remove one integration's webhooks (``services.integration_hooks_follow``); returns how many
    systems are still owed something (0 when done, or when the integration is gone)."""
    from .models import Integration
    from .services import integration_hooks_follow

    integration = (Integration.objects.select_related("crm_connection", "erp_connection")
                   .filter(pk=integration_id).first())
    if integration is None:
        return 0
    return sum(1 for result in integration_hooks_follow(integration=integration) if result.retry)


def hooks_owed_task() -> int:
    """Try again, for every integration, what a pause or an activation could not do at the vendors yet."""
    from .models import Integration

    owed = Integration.objects.exclude(hooks_owed="").values_list("pk", flat=True)
    return sum(hooks_follow_task(integration_id) for integration_id in list(owed))
