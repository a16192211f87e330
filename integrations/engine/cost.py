"""What one processed event costs: the SQL statements the engine runs and the HTTP requests it sends.

For the per-record budget (docs/decisions.md, "Per-record cost") and the benchmarks. Work done on Synkro's
behalf *inside* a request Synkro serves meanwhile is left out: with the sandboxes in-process, a vendor's
webhook about Synkro's own write reaches Synkro's webhook view while the write is still being answered; that
view's statements belong to webhook ingest, not to this record's sync. They are told apart by Django's
``request_started`` / ``request_finished`` signals (a statement run while a request is being served is not
counted) and by nesting (an HTTP request sent while another is still being answered is not counted).

Recipe::

    from integrations.engine.cost import event_cost
    cost = event_cost(event_id=42)                 # claims and processes the event, as a worker would
    cost.statements, cost.requests                 # lists: SQL text, "GET https://host/path"
    cost.statement_kinds()                         # Counter: {"SELECT integrations_synclink": 2, ...}
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from django.core.signals import request_finished, request_started
from django.db import connection

from .outcome import Outcome

_VERB = re.compile(r"\s*(\w+)")
_TABLE = re.compile(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)


@dataclass
class EventCost:
    """The statements (SQL text, in order) and requests ("METHOD url", in order) counted, and the outcome."""

    statements: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    outcome: Outcome | None = None

    def statement_kinds(self) -> Counter[str]:
        """Statements by verb and first table: ``{"UPDATE integrations_inboundevent": 2, "SAVEPOINT": 1, …}``."""
        kinds: Counter[str] = Counter()
        for sql in self.statements:
            verb = (_VERB.match(sql) or _VERB.match("? "))[1].upper()
            table = _TABLE.search(sql) if verb not in ("SAVEPOINT", "RELEASE", "ROLLBACK") else None
            kinds[f"{verb} {table[1]}" if table else verb] += 1
        return kinds


@contextmanager
def cost_counted() -> Iterator[EventCost]:
    """Count, in this thread, the statements run on the default database and the HTTP requests sent by
    ``requests`` while the block runs, leaving out what runs while a request to Synkro is being served and
    requests sent while another is being answered (see the module's docstring)."""
    cost = EventCost()
    me = threading.get_ident()
    serving = {"depth": 0}
    sending = {"depth": 0}

    def started(**kwargs: Any) -> None:
        if threading.get_ident() == me:
            serving["depth"] += 1

    def finished(**kwargs: Any) -> None:
        if threading.get_ident() == me and serving["depth"]:
            serving["depth"] -= 1

    def counted(execute, sql, params, many, context):
        if threading.get_ident() == me and not serving["depth"]:
            cost.statements.append(sql)
        return execute(sql, params, many, context)

    original_send = requests.Session.send

    def send(session: requests.Session, prepared: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if threading.get_ident() != me:
            return original_send(session, prepared, **kwargs)
        if not sending["depth"] and not serving["depth"]:
            cost.requests.append(f"{prepared.method} {prepared.url}")
        sending["depth"] += 1
        try:
            return original_send(session, prepared, **kwargs)
        finally:
            sending["depth"] -= 1

    request_started.connect(started, weak=False)
    request_finished.connect(finished, weak=False)
    requests.Session.send = send  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(counted):
            yield cost
    finally:
        requests.Session.send = original_send  # type: ignore[method-assign]
        request_started.disconnect(started)
        request_finished.disconnect(finished)


def event_cost(*, event_id: int, client_options: dict[str, Any] | None = None) -> EventCost:
    """Process the event ``event_id`` (``process.event_process``) and return what it cost, with its outcome
    (None when there was nothing to claim or it went back to the queue)."""
    from .process import event_process

    with cost_counted() as cost:
        cost.outcome = event_process(event_id=event_id, client_options=client_options)
    return cost
