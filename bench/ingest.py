# ruff: noqa: S603, S310 - local benchmark processes on 127.0.0.1 only
"""Webhook ingest: notices per second accepted by the webhook endpoint under gunicorn, and all of them stored.

A throwaway database is migrated and given a tenant with a webCRM ↔ Uniconta integration. gunicorn
serves Synkro on 127.0.0.1 (``BENCH_GUNICORN_WORKERS`` processes × ``BENCH_GUNICORN_THREADS``
threads, default 2 × 1, the fastest here on SQLite and on PostgreSQL); the load generator is a
separate process keeping ``BENCH_CONNECTIONS`` (default 16) keep-alive connections busy with webCRM
organisation notices, each for a different record, so nothing coalesces. It is ``wrk`` (Debian's
package) with ``bench/webhook.lua`` for ``BENCH_SECONDS`` (default 20), or, where wrk is not
installed, ``bench.loadgen`` (asyncio) for a fixed number of notices; the Python one spends about a
fifth of the two cores itself, so it reports less. Afterwards every accepted notice must be an event:
wrk's count of 2xx answers against the events stored (a request still in flight when wrk stops may
be stored without being counted, never the reverse); the Python generator checks each accepted id.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from functools import partial

from bench.common import ROOT, django_start, pair_setup, report, scaled

REQUESTS = scaled(20_000, minimum=1000)
SECONDS = scaled(int(os.environ.get("BENCH_SECONDS", "20")), minimum=3)
WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_GUNICORN_THREADS", "1"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:  # an answer, even an error page, means it is up
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def wrk_run(port: int, path: str, *, seconds: int, connections: int, first_id: int) -> dict:
    """One wrk run; its figures as :func:`python_run` gives them (without the list of accepted ids)."""
    script, url = str(ROOT / "bench" / "webhook.lua"), f"http://127.0.0.1:{port}{path}"
    out = subprocess.run(
        [shutil.which("wrk"), "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script, url, "--", str(first_id)],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout
    load = json.loads(out.strip().splitlines()[-1])
    return {"generator": "wrk", "requests": load["requests"], "sent": load["sent"],
            "accepted": load["requests"] - load["non_2xx"],
            "non_2xx": load["non_2xx"], "socket_errors": load["socket_errors"], "seconds": load["seconds"],
            "req_per_s": round(load["requests"] / load["seconds"], 1), "p50_ms": load["p50_ms"],
            "p99_ms": load["p99_ms"]}


def python_run(port: int, path: str, *, count: int, connections: int, first_id: int) -> dict:
    """One run of the asyncio generator, which also reports each accepted record id."""
    out = subprocess.run([sys.executable, "-m", "bench.loadgen", str(port), path, str(count), str(connections),
                          str(first_id)], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    load = json.loads(out.strip().splitlines()[-1])
    return {"generator": "python (bench.loadgen)", "requests": load["requests"], "accepted": load["accepted"],
            "statuses": load["statuses"], "seconds": load["seconds"], "req_per_s": load["rps"],
            "accepted_ids": load["accepted_ids"]}


def main() -> None:
    django_start()
    from django.db.models import Max, Sum

    from integrations.models import InboundEvent

    integration, _ = pair_setup(webhooks=False, synkro_app=False)
    port = free_port()
    path = f"/hooks/webcrm/{integration.webhook_token}/"
    gunicorn = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(WORKERS),
         "-k", "gthread", "--threads", str(THREADS), "--keep-alive", "5", "--log-level", "warning"],
        cwd=ROOT, env=dict(os.environ), start_new_session=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/accounts/login/")
        # A warm-up (not counted) so every worker has its connection and code loaded; its events are
        # told apart from the measured run's by their ids.
        if shutil.which("wrk"):
            warm_up = partial(wrk_run, port, path, seconds=2, connections=4, first_id=1_500_000_000)
            measure = partial(wrk_run, port, path, seconds=SECONDS, connections=CONNECTIONS, first_id=0)
        else:
            warm_up = partial(python_run, port, path, count=200, connections=4, first_id=1_500_000_000)
            measure = partial(python_run, port, path, count=REQUESTS, connections=CONNECTIONS, first_id=0)
        warm_up()
        time.sleep(0.5)
        before = InboundEvent.objects.aggregate(last=Max("pk"))["last"] or 0
        load = measure()
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=20)
    events = InboundEvent.objects.filter(integration=integration, pk__gt=before)
    stored = events.count()
    if "accepted_ids" in load:
        stored_ids = set(events.values_list("external_id", flat=True))
        not_stored = sum(1 for i in load.pop("accepted_ids") if str(i) not in stored_ids)
    else:
        # Every id is distinct, so an accepted notice that was lost would show as fewer events than
        # accepted answers, and anything stored beyond them must be among the requests still in flight.
        not_stored = max(0, load["accepted"] - stored)
        load["stored_within_sent"] = stored <= load["sent"]
    coalesced = (events.aggregate(n=Sum("deliveries"))["n"] or 0) - stored
    report({**load, "events_stored": stored, "accepted_not_stored": not_stored, "coalesced": coalesced,
            "gunicorn": f"{WORKERS} workers × {THREADS} threads (gthread)", "connections": CONNECTIONS})


if __name__ == "__main__":
    main()
