"""Webhook → target write latency on the embedded default (SQLite, django-q2's ORM broker rules).

N organisations exist linked in webCRM and Uniconta. Each is then changed in webCRM through its API,
paced at ``BENCH_CHANGES_PER_S`` (default 5); the webCRM sandbox delivers its hook call from a
background thread like the vendor, Synkro's webhook view stores the event, and two in-process worker
threads (polling the due events every 50 ms, as a qcluster polls the ORM broker) sync it to
Uniconta. Latency is from just before the change to the log entry written right after Uniconta's write.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from bench.common import QUIET, django_start, drain, pair_setup, percentile, report, scaled

CHANGES = scaled(200, minimum=20)
RATE = float(os.environ.get("BENCH_CHANGES_PER_S", "5"))
WORKERS = 2
POLL = 0.05


class Worker(threading.Thread):
    def __init__(self, stop: threading.Event):
        super().__init__(daemon=True)
        self.stop = stop

    def run(self) -> None:
        from django.db import connection

        from integrations.engine import process

        try:
            while not self.stop.is_set():
                due = process.events_due(limit=10)
                for event_id in due:
                    process.event_process(event_id=event_id, client_options=QUIET)
                if not due:
                    self.stop.wait(POLL)
        finally:
            connection.close()


@contextmanager
def workers_running() -> Iterator[None]:
    """The in-process workers process due events while the block runs; they stop (and are joined) after it."""
    stop = threading.Event()
    workers = [Worker(stop) for _ in range(WORKERS)]
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=10)


def paced_changes(ids: list[str], change: Callable[[str], object], rate: float) -> dict[str, datetime]:
    """``change(id)`` for each of ``ids`` at ``rate`` per second; returns when each change was made (just before)."""
    from django.utils import timezone

    changed_at: dict[str, datetime] = {}
    began = time.monotonic()
    for n, record_id in enumerate(ids):
        time.sleep(max(0.0, began + n / rate - time.monotonic()))
        changed_at[record_id] = timezone.now()
        change(record_id)
    return changed_at


def main() -> None:
    django_start()

    from integrations.models import SyncLogEntry
    from integrations.systems.catalog import Entity

    integration, _ = pair_setup(
        sandbox_knobs={"webcrm": {"rate_limit": (0, 0), "webhook_async": True}, "uniconta": {"rate_limit": (0, 0)}}
    )
    client = integration.crm_connection.client(**QUIET)
    ids = [
        client.record_id(
            Entity.ORGANISATION,
            client.create_record(
                Entity.ORGANISATION,
                {"OrganisationName": f"Latens {n:04} ApS", "OrganisationType": "Kunde", "OrganisationCity": "Vejle"},
            ),
        )
        for n in range(CHANGES)
    ]
    time.sleep(1)  # the hook calls of the creates arrive
    drain()
    with workers_running():
        moved = {"OrganisationCity": "Kolding"}
        changed_at = paced_changes(ids, lambda record_id: client.update_record(Entity.ORGANISATION, record_id, moved),
                                   RATE)
        deadline = time.monotonic() + 60
        written: dict[str, datetime] = {}
        while time.monotonic() < deadline and len(written) < len(ids):
            time.sleep(0.2)
            written = dict(
                SyncLogEntry.objects.filter(
                    integration=integration,
                    action="updated",
                    direction="to_erp",
                    crm_id__in=ids,
                    at__gte=min(changed_at.values()),
                )
                .order_by("at")
                .values_list("crm_id", "at")
            )
    latencies = [(written[i] - changed_at[i]).total_seconds() for i in ids if i in written]
    report(
        {
            "changes": len(ids),
            "written": len(latencies),
            "changes_per_s": RATE,
            "p50_s": round(percentile(latencies, 0.5), 3),
            "p95_s": round(percentile(latencies, 0.95), 3),
            "max_s": round(max(latencies), 3) if latencies else None,
            "workers": f"{WORKERS} threads in process",
        }
    )


if __name__ == "__main__":
    main()
