"""Handing webhook-stored events to the live workers, with no task row written per notice.

The webhook endpoint stores a notice as a pending event marked ``awaits_worker`` and answers; it queues nothing.
The live workers' broker (``integrations.brokers``) calls :func:`events_take_awaiting` each time it looks for work
(every ``LIVE_POLL`` seconds while idle) and turns what it takes into tasks, so a change reaches a worker within a
fraction of a second of being stored, and the endpoint's cost is its own statements only.

Each marked event is taken exactly once, whichever of several brokers asks: one ``UPDATE … RETURNING`` clears the
marks it returns (a second broker's statement finds them cleared). An event taken whose task never ran (its worker
process died, the broker went away) still waits as pending and the every-minute dispatcher hands it over again
(``process.events_to_dispatch``); nothing is lost, it is only later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from django.db import connection

from integrations.models import EventState, InboundEvent

from .intake import probable_echoes
from .sql import columns, table

#: Events taken in one go: a broker hands them to its workers before it looks again, so a small batch keeps the
#: other tasks of the live queue (replays, the dispatcher) from waiting behind a burst of notices.
TAKE_LIMIT = 20


@dataclass(frozen=True)
class TakenEvents:
    """What one take found: event ids for the live workers, and those that are most likely echoes of Synkro's own
    writes (an import's, a reconciliation's), which wait with the bulk work instead."""

    live: list[int] = field(default_factory=list)
    echoes: list[int] = field(default_factory=list)


def events_take_awaiting(*, limit: int = TAKE_LIMIT) -> TakenEvents:
    """Take up to ``limit`` events marked ``awaits_worker``, oldest first, clearing their mark; one statement, plus
    one query per integration among them for the echo guess (:func:`.intake.probable_echoes`).

    Events no longer pending (a worker or the dispatcher got to them first) lose their mark and are not returned.
    """
    with connection.cursor() as cursor:
        cursor.execute(_take_sql(), [limit])
        rows = sorted(cursor.fetchall())
    records: dict[int, dict[int, tuple[str, str]]] = {}
    pending: list[int] = []
    for event_id, integration_id, entity, external_id, state, notices in rows:
        if state != EventState.PENDING:
            continue
        pending.append(event_id)
        if notices <= 1:  # one notice may be an echo; a later one joined it (``intake.echoes_overtaken``): live
            records.setdefault(integration_id, {})[event_id] = (entity, external_id)
    echoes: set[int] = set()
    for integration_id, events in records.items():
        echoes |= probable_echoes(integration_id, events)
    return TakenEvents(live=sorted(set(pending) - echoes), echoes=sorted(echoes))


@cache
def _take_sql() -> str:
    events = table(InboundEvent)
    col = columns(InboundEvent, "id", "integration", "entity", "external_id", "state", "awaits_worker", "notices")
    # The bare column, as the partial index names its condition: SQLite uses a partial index only for the same term.
    marked = col["awaits_worker"]
    return (
        f"UPDATE {events} SET {marked} = FALSE "  # noqa: S608 - names from the model, values as parameters
        f"WHERE {col['id']} IN (SELECT {col['id']} FROM {events} WHERE {marked} ORDER BY {col['id']} LIMIT %s) "
        f"AND {marked} "
        f"RETURNING {col['id']}, {col['integration']}, {col['entity']}, {col['external_id']}, {col['state']}, "
        f"{col['notices']}"
    )
