# ruff: noqa: S603, S310, SIM115 - local benchmark processes on 127.0.0.1 only
"""The fault drill: PostgreSQL, the Redis broker, a web process with the sandboxes and two qcluster workers.

Started here and stopped on exit (loopback only): redis-server on a free port in a temporary folder,
gunicorn serving Synkro with SANDBOX_ENABLED (the vendor sandboxes live in its memory), and two
``qcluster`` processes. A tenant's webCRM ↔ Uniconta integration is wired to the sandboxes and its
webhooks registered with ``manage.py webhooks_register``. Then the sandboxes misbehave (20% of webhooks
dropped, 10% 5xx, 5% 429, 200 ms per request), organisations are created and changed on both sides,
one qcluster is killed with SIGKILL half-way, and a safety reconciliation repairs what was missed.

Waiting retries are let through at once (as the schedule would after their backoff), and events held by
the killed worker are taken up as after their lease. Exit status 1 when a must is broken: duplicates,
lost events, ping-pong writes, or records that did not converge.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import timedelta

from bench.common import ROOT, bench_env, pair_create, scaled
from bench.ingest import free_port, wait_until_up

RECORDS = scaled(20, minimum=6)  # per side
KNOBS = {"latency_ms": 200, "error_rate": 0.10, "throttle_rate": 0.05, "webhook_drop_rate": 0.20}
CLEAN = {"latency_ms": 0, "error_rate": 0.0, "throttle_rate": 0.0, "webhook_drop_rate": 0.0}
PY = str(ROOT / ".venv" / "bin" / "python")
#: How often the drill hands due retries to the workers (the installed schedule does it every minute).
DISPATCH_EVERY = 15


class Stack:
    def __init__(self) -> None:
        self.workdir = tempfile.mkdtemp(prefix="synkro-drill-")
        self.env = bench_env(self.workdir)
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str], **env: str) -> subprocess.Popen:
        log = open(os.path.join(self.workdir, f"{name}.log"), "w")
        process = subprocess.Popen(
            args, cwd=ROOT, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = process
        return process

    def kill(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)

    def stop(self) -> None:
        for name in list(self.processes):
            self.kill(name)


def knobs(base: str, system: str, values: dict) -> dict:
    request = urllib.request.Request(
        f"{base}/sandbox/_knobs/{system}",
        data=json.dumps(values).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def persist(write, attempts: int = 12):
    """The drill's own change, tried again when the misbehaving sandbox refuses it before doing anything."""
    from integrations.systems.errors import ExternalSystemError

    for attempt in range(attempts):
        try:
            return write()
        except ExternalSystemError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.3)


def main() -> int:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("The drill runs on PostgreSQL: start it through bench/drill.sh (make drill).", file=sys.stderr)
        return 2
    stack = Stack()
    redis_port, web_port = free_port(), free_port()
    base = f"http://127.0.0.1:{web_port}"
    stack.env.update(
        {
            "Q_BROKER": f"redis://127.0.0.1:{redis_port}/0",
            "CACHE_URL": f"redis://127.0.0.1:{redis_port}/1",
            "SANDBOX_ENABLED": "true",
            "SANDBOX_DEMO_DATA": "false",
            "PUBLIC_BASE_URL": base,
            "Q_WORKERS": "2",
        }
    )
    os.environ.update(stack.env)
    try:
        return drill(stack, base, redis_port, web_port)
    finally:
        stack.stop()
        print(f"(logs of the drill's processes: {stack.workdir})")


def drill(stack: Stack, base: str, redis_port: int, web_port: int) -> int:
    stack.start(
        "redis",
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(redis_port),
            "--dir",
            stack.workdir,
            "--save",
            "",
            "--appendonly",
            "no",
        ],
    )
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=stack.env, check=True)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db.models import Sum

    from integrations.engine.locks import DEFAULT_LEASE
    from integrations.engine.process import PROCESSING_LEASE, events_requeue_stale
    from integrations.engine.runs import reconcile_entity, run_start
    from integrations.models import EventState, InboundEvent, RecordLock, WebhookStat
    from integrations.systems.catalog import Entity
    from integrations.tasks import events_dispatch_task

    integration = pair_create(name="Drill Handel A/S", slug="drill",
                              bases={key: f"{base}/sandbox/{key}" for key in ("webcrm", "uniconta")})

    stack.start(
        "web",
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi",
            "-b",
            f"127.0.0.1:{web_port}",
            "-w",
            "1",
            "-k",
            "gthread",
            "--threads",
            "16",
            "--timeout",
            "120",
        ],
    )
    wait_until_up(f"{base}/accounts/login/")
    subprocess.run([PY, "manage.py", "webhooks_register", "--tenant", "drill"], cwd=ROOT, env=stack.env, check=True)
    for n in (1, 2):
        stack.start(f"qcluster-{n}", [PY, "manage.py", "qcluster"])
    # The live queue's workers (webhook notices, retries, recovery): beside the bulk ones, as in production.
    stack.start("qcluster-live", [PY, "manage.py", "qcluster"], Q_CLUSTER_NAME="synkro-live")
    for system in ("webcrm", "uniconta"):
        knobs(base, system, {**KNOBS, "clear_log": True})

    crm = integration.crm_connection.client(max_attempts=8)
    erp = integration.erp_connection.client(max_attempts=8)
    org = Entity.ORGANISATION
    print(f"Drill: {RECORDS} organisations per side, knobs {KNOBS}")
    crm_ids = [
        crm.record_id(
            org,
            persist(
                lambda n=n: crm.create_record(
                    org,
                    {
                        "OrganisationName": f"Drill webCRM {n:03}",
                        "OrganisationType": "Kunde",
                        "OrganisationCity": "Vejle",
                    },
                )
            ),
        )
        for n in range(RECORDS)
    ]
    erp_ids = [
        erp.record_id(
            org, persist(lambda n=n: erp.create_record(org, {"Name": f"Drill Uniconta {n:03}", "City": "Aarhus"}))
        )
        for n in range(RECORDS)
    ]
    half = RECORDS // 2
    for index in range(RECORDS):
        if index == half:
            print("SIGKILL to qcluster-1")
            stack.kill("qcluster-1", signal.SIGKILL)
        persist(lambda i=crm_ids[index]: crm.update_record(org, i, {"OrganisationCity": "Kolding"}))
        persist(lambda i=erp_ids[index]: erp.update_record(org, i, {"City": "Odense"}))

    def settle(limit: float = 600) -> None:
        """Until nothing is pending or being processed; retries are let through, stale leases expire."""
        deadline = time.monotonic() + limit
        quiet_since = None
        dispatched = time.monotonic()
        while time.monotonic() < deadline:
            open_events = InboundEvent.objects.filter(state__in=[EventState.PENDING, EventState.PROCESSING])
            if not open_events.exists():
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 3:
                    return
            else:
                quiet_since = None
                InboundEvent.objects.filter(state=EventState.PENDING).update(next_attempt_at=None)
                stuck = InboundEvent.objects.filter(
                    state=EventState.PROCESSING, processed_at__lt=django_now() - timedelta(seconds=60)
                )
                if stuck.exists():  # the killed worker's claims and record leases run out (5 min), fast-forwarded
                    events_requeue_stale(now=django_now() + PROCESSING_LEASE - timedelta(seconds=60))
                    RecordLock.objects.filter(expires_at__lt=django_now() + DEFAULT_LEASE - timedelta(seconds=60)
                                              ).update(expires_at=django_now())
                if time.monotonic() - dispatched > DISPATCH_EVERY:
                    events_dispatch_task()
                    dispatched = time.monotonic()
            time.sleep(1)
        open_events = InboundEvent.objects.filter(state__in=[EventState.PENDING, EventState.PROCESSING])
        summary = Counter((e.state, e.attempts, e.last_error[:120]) for e in open_events)
        raise RuntimeError(f"events still open after the drill's time limit: {summary.most_common(5)}")

    from django.utils.timezone import now as django_now

    settle()
    for system in ("webcrm", "uniconta"):
        knobs(base, system, CLEAN)
    run = run_start(integration=integration, kind="reconcile", entity="organisation")
    drift = reconcile_entity(run=run)
    print(f"Safety reconciliation: drift {drift}")
    settle()

    # Ping-pong: with nothing changing, no write may happen any more, and a second reconciliation finds nothing.
    before = {s: knobs(base, s, {})["requests"] for s in ("webcrm", "uniconta")}
    time.sleep(5)
    second = run_start(integration=integration, kind="reconcile", entity="organisation")
    second_drift = reconcile_entity(run=second)
    settle()
    after = {s: knobs(base, s, {})["requests"] for s in ("webcrm", "uniconta")}
    ping_pong = sum(
        after[s].get(k, 0) - before[s].get(k, 0)
        for s in after
        for k in after[s]
        if not k.startswith("GET") and k.endswith("2xx")
    )

    crm_names = Counter(
        (r["OrganisationName"], r.get("OrganisationCity"))
        for r in crm.list_records(org)
        if str(r.get("OrganisationName", "")).startswith("Drill")
    )
    erp_names = Counter(
        (r["Name"], r.get("City")) for r in erp.list_records(org) if str(r.get("Name", "")).startswith("Drill")
    )
    crm_by_name = Counter(name for name, _ in crm_names.elements())
    erp_by_name = Counter(name for name, _ in erp_names.elements())
    duplicates = sum(c - 1 for c in crm_by_name.values() if c > 1) + sum(c - 1 for c in erp_by_name.values() if c > 1)
    expected = {
        **{f"Drill webCRM {n:03}": "Kolding" for n in range(RECORDS)},
        **{f"Drill Uniconta {n:03}": "Odense" for n in range(RECORDS)},
    }
    converged = sum(
        1 for name, city in expected.items() if crm_names[(name, city)] == 1 and erp_names[(name, city)] == 1
    )
    events = InboundEvent.objects.filter(integration=integration)
    stats = WebhookStat.objects.filter(integration=integration).aggregate(received=Sum("received"))
    webhooks = {s: knobs(base, s, {})["webhooks"] for s in ("webcrm", "uniconta")}
    lost = events.filter(state__in=[EventState.PENDING, EventState.PROCESSING]).count()
    result = {
        "webhooks_sent_by_sandboxes": sum(w.get("sent", 0) for w in webhooks.values()),
        "webhooks_dropped_by_sandboxes": sum(w.get("dropped", 0) for w in webhooks.values()),
        "events_received": stats["received"] or 0,
        "events_stored": events.count(),
        "events_processed": events.filter(state__in=[EventState.DONE, EventState.DROPPED]).count(),
        "events_parked_failed": events.filter(state=EventState.FAILED).count(),
        "reconciliation_drift": drift,
        "second_reconciliation_drift": second_drift,
        "records_converged_pct": round(100 * converged / len(expected), 1),
        "duplicates": duplicates,
        "events_lost": lost,
        "ping_pong_writes": ping_pong,
    }
    width = max(map(len, result))
    for key, value in result.items():
        print(f"  {key:<{width}}  {value}")
    broken = [k for k in ("duplicates", "events_lost", "ping_pong_writes") if result[k]]
    if result["records_converged_pct"] < 100:
        broken.append("records_converged_pct")
    with open(os.path.join(stack.workdir, "drill-results.json"), "w") as out:
        json.dump(result, out, indent=2)
    print("Drill " + ("FAILED: " + ", ".join(broken) if broken else "passed"))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
