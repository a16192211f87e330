"""django-q2 brokers whose live queue also takes up events the webhook endpoint stored without a task.

``settings.Q_CLUSTER["broker_class"]`` names :class:`OrmBroker` (the embedded default) or :class:`RedisBroker`
(``Q_BROKER=redis://…``). They queue, count and hand out tasks exactly as django-q2's own ORM and Redis brokers do;
on the live queue (``settings.Q_LIVE_CLUSTER``) each look for work also takes the events marked ``awaits_worker``
(:func:`integrations.engine.handover.events_take_awaiting`) and hands them to the workers as ordinary event tasks,
one each, so workers take them in parallel. Notices most likely echoing Synkro's own writes go to the bulk queue
instead. The cluster's pusher (one per cluster process) is what looks, every ``LIVE_POLL`` seconds while idle.

These tasks exist only in the pusher's hands: they have no acknowledgement id, and an event whose task is lost with
its worker is handed over again by the every-minute dispatcher (``tasks.events_dispatch_task``).
"""

from __future__ import annotations

from django.conf import settings
from django_q.brokers.orm import ORM
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf
from django_q.tasks import async_task

#: Seconds an idle live queue waits before it looks again (for queued tasks and for events awaiting a worker).
LIVE_POLL = 0.2


class _TaskPacks:
    """Stands in for a broker when a task is built: keeps django-q2's signed task package instead of queueing it."""

    def __init__(self, list_key: str):
        self.list_key = list_key
        self.packs: list[str] = []

    def enqueue(self, pack: str) -> None:
        self.packs.append(pack)


def awaiting_event_tasks() -> list[tuple[None, str]]:
    """Take the events awaiting a worker and return them as the live queue's tasks (``(ack id, package)`` pairs, as
    a broker's ``dequeue`` returns them); echoes are queued to the bulk workers instead. Empty when none awaits."""
    from integrations.engine.handover import events_take_awaiting
    from integrations.tasks import EVENT_TASK, events_enqueue

    taken = events_take_awaiting()
    if taken.echoes:
        events_enqueue(event_ids=taken.echoes)
    packs = _TaskPacks(settings.Q_LIVE_CLUSTER)
    for event_id in taken.live:
        async_task(EVENT_TASK, event_id, group="events", cluster=settings.Q_LIVE_CLUSTER, broker=packs)
    return [(None, pack) for pack in packs.packs]


class OrmBroker(ORM):
    """django-q2's ORM broker; on the live queue it also hands out the events awaiting a worker."""

    def __init__(self, list_key: str | None = None):
        super().__init__(list_key=list_key)
        self.live = self.list_key == settings.Q_LIVE_CLUSTER

    def dequeue(self):
        queued = super().dequeue() or []  # waits ``poll`` seconds when nothing is queued
        awaiting = awaiting_event_tasks() if self.live else []
        return (queued + awaiting) or None


class RedisBroker(Redis):
    """django-q2's Redis broker; on the live queue it also hands out the events awaiting a worker, and waits at most
    ``LIVE_POLL`` seconds for a queued task instead of a second."""

    def __init__(self, list_key: str | None = None):
        super().__init__(list_key=list_key)
        self.live = (list_key or Conf.CLUSTER_NAME) == settings.Q_LIVE_CLUSTER

    def dequeue(self):
        if not self.live:
            return super().dequeue()
        task = self.connection.blpop(self.list_key, LIVE_POLL)
        queued = [(None, task[1])] if task else []
        return (queued + awaiting_event_tasks()) or None
