"""django-q2 entry points. Thin: they take ids, call the engine, and are enqueued after commit."""

from __future__ import annotations

import logging

from django.db import transaction
from django_q.tasks import async_task

from .engine import process

logger = logging.getLogger(__name__)

EVENT_TASK = "integrations.tasks.event_process_task"


def event_enqueue(*, event_id: int) -> None:
    """Hand an event to the workers once the transaction that stored it has committed."""
    transaction.on_commit(lambda: async_task(EVENT_TASK, event_id, group="events"))


def event_process_task(event_id: int) -> str:
    outcome = process.event_process(event_id=event_id)
    return outcome.action if outcome else "nothing to do"


def events_dispatch_task() -> int:
    """Every minute: take up events of vanished workers and hand due retries to the workers."""
    process.events_requeue_stale()
    due = process.events_due()
    for event_id in due:
        async_task(EVENT_TASK, event_id, group="events")
    return len(due)
