"""What this worker process holds right now: the events it claimed and the records it is writing.

A claim and a record lease are short (:data:`LEASE`) and renewed every few seconds while the process lives
(:func:`leases_renew`, called by the worker's keeper thread, ``integrations/keeper.py``). A worker that dies —
killed, out of memory, its machine gone — stops renewing, so its events and records are free again within
seconds instead of after minutes, and the keeper of any living worker takes the events up.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from django.utils import timezone

from integrations.models import EventState, InboundEvent, RecordLock

#: How long a claim or record lease lasts without renewal.
LEASE = timedelta(seconds=20)
#: How often a living worker renews what it holds (and looks for what dead ones left): well inside :data:`LEASE`.
RENEW_EVERY = 4.0

_guard = threading.Lock()
_events: set[int] = set()
_records: dict[str, str] = {}  # record key → owner token


def event_held(event_id: int) -> None:
    with _guard:
        _events.add(event_id)


def event_let_go(event_id: int) -> None:
    with _guard:
        _events.discard(event_id)


def record_held(key: str, owner: str) -> None:
    with _guard:
        _records[key] = owner


def record_let_go(key: str) -> None:
    with _guard:
        _records.pop(key, None)


def held() -> tuple[list[int], list[tuple[str, str]]]:
    """(event ids, [(record key, owner)]) this process holds now."""
    with _guard:
        return sorted(_events), sorted(_records.items())


def leases_renew(*, now: datetime | None = None) -> int:
    """Extend every claim and record lease this process holds by :data:`LEASE` from ``now``; returns how many
    rows were renewed (a lease another worker took over after it ran out is not taken back)."""
    now = now or timezone.now()
    events, records = held()
    renewed = 0
    if events:
        renewed += InboundEvent.objects.filter(pk__in=events, state=EventState.PROCESSING).update(processed_at=now)
    for key, owner in records:
        renewed += RecordLock.objects.filter(key=key, owner=owner).update(expires_at=now + LEASE)
    return renewed
