"""Fortnox change → webCRM record updated, through Fortnox's change stream, on the embedded default.

N customers exist in Fortnox and linked organisations in webCRM. The Fortnox sandbox serves its WebSocket
stream on 127.0.0.1; ``fortnox_listen``'s listener runs on a thread of this process and two in-process workers
poll the due events every 50 ms (as a qcluster polls the ORM broker). Each customer is then changed through
Fortnox's API, paced at ``BENCH_CHANGES_PER_S`` (default 5). Latency is from just before the change to the log
entry written right after webCRM's write.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from datetime import datetime

from bench.common import QUIET, django_start, drain, percentile, report, scaled
from bench.latency import WORKERS, paced_changes, workers_running

CHANGES = scaled(100, minimum=10)
RATE = float(os.environ.get("BENCH_CHANGES_PER_S", "5"))
BASES = {"webcrm": "https://webcrm.bench", "fortnox": "https://fortnox.bench"}


class Listening(threading.Thread):
    """The ``fortnox_listen`` command's listener on a thread of its own."""

    def __init__(self, stream_url: str):
        super().__init__(daemon=True)
        from integrations.management.commands import fortnox_listen

        self.command = fortnox_listen
        self.listener = fortnox_listen.listener_build(stream_url_for=lambda connection: stream_url,
                                                      rescan_seconds=1.0)
        self.loop = asyncio.new_event_loop()
        self.stop_event: asyncio.Event | None = None

    def run(self) -> None:
        async def main() -> None:
            self.stop_event = asyncio.Event()
            await self.command.listen(self.listener, self.stop_event)

        self.loop.run_until_complete(main())

    def stop(self) -> None:
        if self.stop_event is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.join(timeout=10)


def setup():
    from integrations.models import Connection, Integration
    from integrations.systems import transport
    from integrations.systems.registry import get_system
    from mappings.defaults import integration_setup_defaults
    from tenants.models import Tenant

    sandboxes = {key: get_system(key).sandbox(seed=7, rate_limit=(0, 0)) for key in BASES}
    for key, base in BASES.items():
        transport.mount(base, sandboxes[key])
    tenant = Tenant.objects.create(name="Bench Handel AB", slug="bench-fortnox")
    connections = {key: Connection.objects.create(tenant=tenant, system=key, name=get_system(key).name,
                                                  base_url=base, credentials=get_system(key).demo_credentials)
                   for key, base in BASES.items()}
    integration = Integration.objects.create(tenant=tenant, name="webCRM ↔ Fortnox",
                                             crm_connection=connections["webcrm"],
                                             erp_connection=connections["fortnox"])
    integration_setup_defaults(integration=integration)
    return integration, sandboxes


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def main() -> None:
    django_start()

    from integrations.models import InboundEvent, SyncLogEntry
    from integrations.systems.catalog import Entity

    integration, sandboxes = setup()
    stream = sandboxes["fortnox"].serve_stream()
    listening = Listening(stream.url)
    listening.start()
    fortnox = integration.erp_connection.client(**QUIET)
    key = integration.erp_connection_id
    wait_until(lambda: listening.listener.sessions.get(key), 30)
    numbers = [fortnox.record_id(Entity.ORGANISATION, fortnox.create_record(
        Entity.ORGANISATION, {"Name": f"Latens {n:04} AB", "City": "Umeå"})) for n in range(CHANGES)]
    wait_until(lambda: InboundEvent.objects.filter(integration=integration, system="fortnox",
                                                   external_id__in=numbers).count() >= len(numbers), 60)
    drain()
    written: dict[str, datetime] = {}
    with workers_running():
        changed_at = paced_changes(
            numbers, lambda number: fortnox.update_record(Entity.ORGANISATION, number, {"City": "Luleå"}), RATE)

        def all_written() -> bool:
            written.update(SyncLogEntry.objects.filter(
                integration=integration, action="updated", direction="to_crm", erp_id__in=numbers,
                at__gte=min(changed_at.values())).order_by("at").values_list("erp_id", "at"))
            return len(written) >= len(numbers)

        wait_until(all_written, 60)
    listening.stop()
    stream.stop()
    latencies = [(written[n] - changed_at[n]).total_seconds() for n in numbers if n in written]
    stored = {n: at for n, at in InboundEvent.objects.filter(
        integration=integration, system="fortnox", external_id__in=numbers, received_at__gte=min(changed_at.values()))
        .order_by("-received_at").values_list("external_id", "received_at")}
    to_stored = [(stored[n] - changed_at[n]).total_seconds() for n in numbers if n in stored]
    report({
        "changes": len(numbers),
        "written": len(latencies),
        "changes_per_s": RATE,
        "p50_s": round(percentile(latencies, 0.5), 3),
        "p95_s": round(percentile(latencies, 0.95), 3),
        "max_s": round(max(latencies), 3) if latencies else None,
        "stored_p95_s": round(percentile(to_stored, 0.95), 3),
        "workers": f"{WORKERS} threads in process, listener on a thread",
    })


if __name__ == "__main__":
    main()
