"""Per-record cost of the engine: SQL statements and HTTP requests per synced record, and time per event as links grow.

A webCRM ↔ Uniconta pair with in-process sandboxes (their stores keyed, so their own time is small). Measured:

* **statements and requests per record**, averaged over ``RECORDS`` records of each kind (the median too: the first
  event of a worker reads the settings, the first of a minute notes the connections' status): a create and an update
  in each direction, and the echo of Synkro's own write coming back. Statements are every statement the worker runs
  for the event (transaction control included) on Django's connection; the statements of the webhook view that
  stores the echo of Synkro's own write (served in this process, on the same connection) are the ingest's, not the
  record's, and are left out. Requests are every request the sandboxes answer while the event is processed (sign-ins
  included).
* **time per event at 0 / 10,000 / 100,000 links**: ``TIMED`` updates webCRM → Uniconta timed one by one (median and
  p95; the time the in-process webhook view spends storing the echo is taken out), first with only the measured
  records linked, then with 10k and 100k other links of the integration
  stored; the ratio to the empty database is the figure (target ≤ 1.25×). The sandboxes hold only the measured
  records, so a growing ratio is Synkro's.

References: the counts against their targets (≤ 10 statements for a create, ≤ 8 for an update, ≤ 3 requests for
the record's own sync); the times against the empty database of the same run.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict
from typing import Any

from bench.common import BASES, QUIET, SYNKRO_URL, django_start, percentile, report, scaled

RECORDS = scaled(40, minimum=10)
TIMED = scaled(300, minimum=60)
LINK_STEPS = [0, scaled(10_000, minimum=1000), scaled(100_000, minimum=5000)]

_in_webhook = threading.local()


class Counted:
    """Synkro's WSGI app, marking the statements it runs as the webhook ingest's (not the record's)."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        _in_webhook.on = True
        began = time.perf_counter()
        try:
            return list(self.app(environ, start_response))
        finally:
            _in_webhook.on = False
            _in_webhook.seconds = getattr(_in_webhook, "seconds", 0.0) + time.perf_counter() - began


class StatementCount:
    """Counts statements run outside the in-process webhook view (``connection.execute_wrapper``)."""

    def __init__(self) -> None:
        self.count = 0
        self.kinds: dict[str, int] = defaultdict(int)

    def __call__(self, execute, sql, params, many, context):
        if not getattr(_in_webhook, "on", False):
            self.count += 1
            self.kinds[sql.split(None, 1)[0].upper()] += 1
        return execute(sql, params, many, context)


def _vendor_requests(sandboxes: dict[str, Any]) -> dict[str, int]:
    return {system: len(s.requests) for system, s in sandboxes.items()}


def process_counted(sandboxes: dict[str, Any]) -> list[dict[str, Any]]:
    """Process every due event one by one; per event its outcome, system, statements, requests and seconds."""
    from django.db import connection

    from integrations.engine import process
    from integrations.models import InboundEvent

    done = []
    for _ in range(20):
        due = process.events_due(limit=10_000)
        if not due:
            return done
        systems = dict(InboundEvent.objects.filter(pk__in=due).values_list("pk", "system"))
        for event_id in due:
            counter = StatementCount()
            before = _vendor_requests(sandboxes)
            with connection.execute_wrapper(counter):
                _in_webhook.seconds = 0.0
                began = time.perf_counter()
                outcome = process.event_process(event_id=event_id, client_options=QUIET)
                seconds = time.perf_counter() - began - _in_webhook.seconds  # the echo's ingest is not the event's
            after = _vendor_requests(sandboxes)
            by_system = {system: after[system] - before[system] for system in after}
            done.append({"action": getattr(outcome, "action", None), "system": systems[event_id],
                         "sql": counter.count, "kinds": dict(counter.kinds), "http": sum(by_system.values()),
                         "http_by_system": by_system, "seconds": seconds})
    raise RuntimeError("events still waiting after 20 rounds")


def summary(rows: list[dict[str, Any]], action: str, system: str) -> dict[str, Any]:
    """Mean statements and requests of the rows with ``action`` coming from ``system`` (None when there are none)."""
    chosen = [r for r in rows if r["action"] == action and r["system"] == system]
    if not chosen:
        return {}
    kinds: dict[str, float] = defaultdict(float)
    by_system: dict[str, float] = defaultdict(float)
    for row in chosen:
        for kind, n in row["kinds"].items():
            kinds[kind] += n / len(chosen)
        for name, n in row["http_by_system"].items():
            by_system[name] += n / len(chosen)
    return {"n": len(chosen), "sql": round(statistics.mean(r["sql"] for r in chosen), 2),
            "sql_max": max(r["sql"] for r in chosen), "sql_median": statistics.median(r["sql"] for r in chosen),
            "http": round(statistics.mean(r["http"] for r in chosen), 2),
            "http_by_system": {k: round(v, 2) for k, v in by_system.items()},
            "kinds": {k: round(v, 2) for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])}}


def links_add(integration, count: int, *, start: int) -> None:
    """``count`` links of other records of the integration (ids no sandbox knows), in batches."""
    from django.utils import timezone

    from integrations.models import SyncLink

    now = timezone.now()
    batch = []
    for n in range(start, start + count):
        batch.append(SyncLink(tenant_id=integration.tenant_id, integration=integration, entity="organisation",
                              crm_id=str(900_000_000 + n), erp_id=f"X{n}", crm_hash="0" * 64, erp_hash="0" * 64,
                              label=f"Linked company {n}", synced_at=now))
        if len(batch) == 5000:
            SyncLink.objects.bulk_create(batch)
            batch = []
    if batch:
        SyncLink.objects.bulk_create(batch)


def timed_updates(integration, sandboxes, crm_ids: list[str], count: int, round_no: int) -> dict[str, float]:
    """``count`` webCRM edits of linked organisations, each synced to Uniconta; per-event seconds of those syncs."""
    from integrations.engine.context import client_for
    from integrations.systems.catalog import Entity

    crm = client_for(integration.crm_connection, **QUIET)
    seconds = []
    for n in range(count):
        crm_id = crm_ids[n % len(crm_ids)]
        record = crm.get_record(Entity.ORGANISATION, crm_id)
        record["OrganisationCity"] = f"By {round_no}-{n}"
        crm.update_record(Entity.ORGANISATION, crm_id, record)
        rows = process_counted(sandboxes)
        seconds += [r["seconds"] for r in rows if r["action"] == "updated" and r["system"] == "webcrm"]
    crm.close()
    return {"median_ms": round(statistics.median(seconds) * 1000, 2),
            "p95_ms": round(percentile(seconds, 0.95) * 1000, 2), "events": len(seconds)}


def main() -> None:
    django_start()
    from django.core.handlers.wsgi import WSGIHandler

    from bench.common import pair_setup
    from integrations.engine.context import client_for
    from integrations.models import InboundEvent, SyncLink
    from integrations.systems import transport
    from integrations.systems.catalog import Entity

    transport.mount(SYNKRO_URL, Counted(WSGIHandler()))
    integration, sandboxes = pair_setup(synkro_app=False, sandbox_knobs={k: {"rate_limit": (0, 0)} for k in BASES})
    InboundEvent.objects.all().delete()
    crm = client_for(integration.crm_connection, **QUIET)
    erp = client_for(integration.erp_connection, **QUIET)
    org = Entity.ORGANISATION
    rows: list[dict[str, Any]] = []

    # webCRM → Uniconta: creates, then updates.
    crm_ids = []
    for n in range(RECORDS):
        made = crm.create_record(org, {"OrganisationName": f"Målestok {n} ApS", "OrganisationType": "Kunde",
                                       "OrganisationAddress": f"Havnevej {n}", "OrganisationPostCode": "8000",
                                       "OrganisationCity": "Aarhus C"})
        crm_ids.append(str(made["OrganisationId"]))
    rows += process_counted(sandboxes)
    for crm_id in crm_ids:
        record = crm.get_record(org, crm_id)
        record["OrganisationCity"] = "Odense C"
        crm.update_record(org, crm_id, record)
    rows += process_counted(sandboxes)

    # Uniconta → webCRM: creates, then updates.
    accounts = []
    for n in range(RECORDS):
        made = erp.create_record(org, {"Name": f"Skovly {n} I/S", "Address1": f"Skovvej {n}", "ZipCode": "5000",
                                       "City": "Odense C"})
        accounts.append(str(made["Account"]))
    rows += process_counted(sandboxes)
    for account in accounts:
        record = erp.get_record(org, account)
        record["City"] = "Vejle"
        erp.update_record(org, account, record)
    rows += process_counted(sandboxes)
    crm.close()
    erp.close()

    cost = {
        "create_to_erp": summary(rows, "created", "webcrm"),
        "update_to_erp": summary(rows, "updated", "webcrm"),
        "create_to_crm": summary(rows, "created", "uniconta"),
        "update_to_crm": summary(rows, "updated", "uniconta"),
        "echo_from_erp": summary(rows, "echo", "uniconta"),
        "echo_from_crm": summary(rows, "echo", "webcrm"),
    }

    times = {}
    linked = SyncLink.objects.filter(integration=integration).count()
    added = 0
    for step, extra in enumerate(LINK_STEPS):
        if extra > added:
            links_add(integration, extra - added, start=added)
            added = extra
        times[str(extra)] = {**timed_updates(integration, sandboxes, crm_ids, TIMED, step),
                             "links": linked + extra}
    empty = times[str(LINK_STEPS[0])]["median_ms"]
    for figures in times.values():
        figures["ratio_to_empty"] = round(figures["median_ms"] / empty, 2)

    from django.db import connection

    report({"database": connection.vendor, "records": RECORDS, "timed": TIMED, "link_steps": LINK_STEPS,
            "cost": cost, "time_per_event": times})


if __name__ == "__main__":
    main()
