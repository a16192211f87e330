# ruff: noqa: S603 - local benchmark processes on 127.0.0.1 only
"""Live before bulk, and recovery from a killed worker, with the real queues and worker processes.

gunicorn serves Synkro with the vendor sandboxes in its memory; two ``qcluster`` processes run beside it as in
production: the bulk cluster (imports, reconciliations) and the live one (``Q_CLUSTER_NAME=synkro-live``: webhook
notices, replays, recovery). The broker is django-q2's ORM broker on the bench's database (the embedded default),
or Redis with ``BENCH_BROKER=redis`` (a throwaway ``redis-server``).

1. ``N`` organisations (10,000 at full scale) exist in webCRM and in Uniconta, linked, and all of them differ from
   what Synkro last synced: a reconciliation finds every one and queues it as bulk work, which then runs at the
   vendors' published rate limits (webCRM 250 requests a minute) for far longer than the bench lasts.
2. While that backlog waits, a person changes organisations in webCRM, one every two seconds — most of them
   records that are themselves waiting in the backlog. Latency is from just before the change to the log entry
   written after Uniconta's write.
3. A change is held up in Uniconta's answer, the live worker handling it is killed (SIGKILL, its whole process
   group) and started again: measured from the kill to the change being taken up again and to it being written.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

from bench.common import ROOT, percentile, report, scaled
from bench.drill import Stack, knobs, persist
from bench.ingest import free_port, wait_until_up

RECORDS = scaled(10_000, minimum=300)
LIVE_CHANGES = scaled(20, minimum=5)
LIVE_EVERY = 2.0
#: The API requests the bench's own "person" makes per minute at most (a read and a write per change).
PERSON_EDITS_PER_MINUTE = int(2 * 60 / LIVE_EVERY)
PY = str(ROOT / ".venv" / "bin" / "python")


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped from outside: still stop what it started
    stack = Stack()
    web_port = free_port()
    base = f"http://127.0.0.1:{web_port}"
    broker = os.environ.get("BENCH_BROKER", "orm")
    stack.env.update({"SANDBOX_ENABLED": "true", "SANDBOX_DEMO_DATA": "false", "PUBLIC_BASE_URL": base,
                      "Q_WORKERS": "2", "Q_LIVE_WORKERS": "1"})
    if broker == "redis":
        if not shutil.which("redis-server"):
            print("BENCH_BROKER=redis needs redis-server", file=sys.stderr)
            return 2
        redis_port = free_port()
        stack.start("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--dir",
                              stack.workdir, "--save", "", "--appendonly", "no"])
        stack.env["Q_BROKER"] = f"redis://127.0.0.1:{redis_port}/0"
    os.environ.update(stack.env)
    try:
        return bench(stack, base, web_port, broker)
    finally:
        stack.stop()


def bench(stack: Stack, base: str, web_port: int, broker: str) -> int:
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=stack.env, check=True)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from bench.common import pair_create
    from integrations.systems.catalog import Entity

    integration = pair_create(name="Travl Handel A/S", slug="travl",
                              bases={key: f"{base}/sandbox/{key}" for key in ("webcrm", "uniconta")})
    began = time.monotonic()
    pairs = seed_linked(integration, stack.workdir, RECORDS)
    seeded_s = time.monotonic() - began
    stack.start("web", [str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{web_port}",
                        "-w", "1", "-k", "gthread", "--threads", "16", "--timeout", "120"],
                SANDBOX_STATE_DIR=os.path.join(stack.workdir, "sandboxes"))
    wait_until_up(f"{base}/accounts/login/", timeout=300)
    # The vendors' own limits, plus room for the bench's own edits: a person edits in the vendor's screens, which
    # do not count against the integration's API limit, but the bench edits through the API (a read and a write).
    for system, (limit, window) in (("webcrm", (250, 60.0)), ("uniconta", (600, 60.0))):
        knobs(base, system, {"rate_limit": [limit + PERSON_EDITS_PER_MINUTE, window], "webhook_async": True})
    crm = integration.crm_connection.client(max_attempts=8)
    org = Entity.ORGANISATION
    subprocess.run([PY, "manage.py", "webhooks_register", "--tenant", "travl"], cwd=ROOT, env=stack.env, check=True)
    stack.start("bulk", [PY, "manage.py", "qcluster"])
    stack.start("live", [PY, "manage.py", "qcluster"], Q_CLUSTER_NAME="synkro-live")

    from integrations.engine.runs import run_start
    from integrations.models import EventSource, EventState, InboundEvent, SyncLogEntry, SyncRun
    from integrations.tasks import run_enqueue

    run = run_start(integration=integration, kind="reconcile", entity="organisation")
    # Started as an admin who switched the blast-radius guard off for it: its dry run would first read every
    # linked record at the vendors' limits, and the bench is about what happens once the work is queued.
    SyncRun.objects.filter(pk=run.pk).update(guard_off=True)
    run_enqueue(run_id=run.pk)  # a bulk worker lists both sides and queues every difference
    backlog = InboundEvent.objects.filter(integration=integration, source=EventSource.RECONCILE,
                                          state=EventState.PENDING)
    deadline = time.monotonic() + 900
    while backlog.count() < RECORDS * 0.9 and time.monotonic() < deadline:
        time.sleep(2)
    backlog_at_start = backlog.count()

    def written(crm_id: str, since: datetime) -> datetime | None:
        entry = (SyncLogEntry.objects.filter(integration=integration, crm_id=crm_id, direction="to_erp",
                                             action__in=["updated", "conflict"], at__gte=since)
                 .order_by("at").first())
        return entry.at if entry else None

    from django.utils import timezone

    chosen = random.Random(7).sample(pairs, LIVE_CHANGES + 1)
    latencies: list[float] = []
    in_backlog = 0
    for n, (crm_id, _account) in enumerate(chosen[:LIVE_CHANGES]):
        in_backlog += backlog.filter(external_id=crm_id).exists()
        at = timezone.now()
        persist(lambda i=crm_id, n=n: crm.update_record(org, i, {"OrganisationCity": f"Live {n:03}"}))
        limit = time.monotonic() + 60
        done = None
        while done is None and time.monotonic() < limit:
            time.sleep(0.05)
            done = written(crm_id, at)
        latencies.append((done - at).total_seconds() if done else 60.0)
        time.sleep(max(0.0, LIVE_EVERY - latencies[-1]))
    backlog_at_end = backlog.count()

    recovery = kill_and_recover(stack, base, crm, org, chosen[-1][0], written)
    throttled = {system: knobs(base, system, {})["throttled"] for system in ("webcrm", "uniconta")}
    report({
        "broker": broker,
        "records_linked": RECORDS,
        "seeded_s": round(seeded_s, 1),
        "bulk_backlog_at_start": backlog_at_start,
        "bulk_backlog_at_end": backlog_at_end,
        "live_changes": len(latencies),
        "live_changes_in_backlog": in_backlog,
        "live_p50_s": round(percentile(latencies, 0.5), 2),
        "live_p95_s": round(percentile(latencies, 0.95), 2),
        "live_max_s": round(max(latencies), 2),
        **recovery,
        "vendor_429s": throttled,
    })
    return 0


def seed_linked(integration, workdir: str, count: int) -> list[tuple[str, str]]:
    """``count`` organisations in webCRM and debtors in Uniconta, linked, each differing from its last sync.

    Written into the sandboxes' own stores and kept in their state files (``SANDBOX_STATE_DIR``), which the web
    process loads when it starts: through the vendors' APIs, 10,000 creates would take the bench's first
    twenty minutes and measure only the simulators.
    """
    from pathlib import Path

    from integrations.models import SyncLink
    from integrations.systems.registry import get_system
    from integrations.systems.sandbox_state import SandboxState

    folder = Path(workdir) / "sandboxes"
    folder.mkdir(exist_ok=True)
    webcrm, uniconta = get_system("webcrm").sandbox(), get_system("uniconta").sandbox()
    for key, sandbox in (("webcrm", webcrm), ("uniconta", uniconta)):
        sandbox.keep_state(SandboxState(folder / f"{key}.sqlite3"))
    company = uniconta.company()
    pairs = []
    for n in range(count):
        name = f"Travl {n:05} ApS"
        organisation = webcrm.store.create("Organisations", {"OrganisationName": name, "OrganisationType": "Kunde",
                                                             "OrganisationCity": "Vejle"})
        debtor, _changes = company.insert("DebtorClient", {"Name": name, "City": "Aarhus"})
        pairs.append((str(organisation["OrganisationId"]), str(debtor["Account"])))
    for sandbox in (webcrm, uniconta):
        sandbox.save_state()
    an_hour_ago = datetime.now().astimezone() - timedelta(hours=1)
    SyncLink.objects.bulk_create(
        [SyncLink(tenant_id=integration.tenant_id, integration=integration, entity="organisation", crm_id=crm_id,
                  erp_id=account, crm_hash="before", erp_hash="before", label=f"Travl {n:05} ApS",
                  synced_at=an_hour_ago)
         for n, (crm_id, account) in enumerate(pairs)], batch_size=1000)
    return pairs


def kill_and_recover(stack: Stack, base: str, crm, org, crm_id: str, written) -> dict:
    """Kill the live worker while it waits for Uniconta's answer to a change; time how soon the change is taken
    up again and written."""
    from django.utils import timezone

    from integrations.models import EventSource, EventState, InboundEvent

    knobs(base, "uniconta", {"latency_ms": 8000})
    persist(lambda: crm.update_record(org, crm_id, {"OrganisationCity": "Genoptaget"}))
    # a notice of a record waiting in the backlog joins its waiting event and makes it live work
    events = InboundEvent.objects.filter(external_id=crm_id, system="webcrm", source=EventSource.WEBHOOK)
    limit = time.monotonic() + 60
    while not events.filter(state=EventState.PROCESSING).exists() and time.monotonic() < limit:
        time.sleep(0.05)
    claimed = events.filter(state=EventState.PROCESSING).first()
    if claimed is None:
        knobs(base, "uniconta", {"latency_ms": 0})
        return {"recovery": "the change was never claimed"}
    time.sleep(0.5)  # inside Uniconta's answer
    stack.kill("live", signal.SIGKILL)
    killed = timezone.now()
    knobs(base, "uniconta", {"latency_ms": 0})
    stack.restart("live")
    taken_up = done = None
    limit = time.monotonic() + 180
    while done is None and time.monotonic() < limit:
        time.sleep(0.1)
        event = InboundEvent.objects.get(pk=claimed.pk)
        if taken_up is None and (event.attempts > claimed.attempts or event.state != EventState.PROCESSING):
            taken_up = timezone.now()
        done = written(crm_id, killed)
    return {
        "kill_to_taken_up_s": round((taken_up - killed).total_seconds(), 1) if taken_up else None,
        "kill_to_written_s": round((done - killed).total_seconds(), 1) if done else None,
    }


if __name__ == "__main__":
    sys.exit(main())
