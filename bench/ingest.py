# ruff: noqa: S603, S310 - local benchmark processes on 127.0.0.1 only
"""Webhook ingest: notices per second accepted by the webhook endpoint under gunicorn, and all of them stored.

A throwaway database is migrated and given a tenant with a webCRM ↔ Uniconta integration. gunicorn
serves Synkro on 127.0.0.1 (``BENCH_GUNICORN_WORKERS`` processes × ``BENCH_GUNICORN_THREADS`` threads,
default 2 × 4); the load generator (``bench.loadgen``) is a separate process keeping
``BENCH_CONNECTIONS`` (default 16) keep-alive connections busy with webCRM organisation notices, each
for a different record, so nothing coalesces. Afterwards every accepted notice must be an event.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from bench.common import ROOT, django_start, pair_setup, report, scaled

REQUESTS = scaled(20_000, minimum=1000)
WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_GUNICORN_THREADS", "4"))
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


def main() -> None:
    django_start()
    from integrations.models import InboundEvent

    integration, _ = pair_setup(webhooks=False, synkro_app=False)
    port = free_port()
    path = f"/hooks/webcrm/{integration.webhook_token}/"
    gunicorn = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(WORKERS),
            "-k",
            "gthread",
            "--threads",
            str(THREADS),
            "--keep-alive",
            "5",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=dict(os.environ),
        start_new_session=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/accounts/login/")
        # a short warm-up (not counted) so every worker has its connection and code loaded
        subprocess.run(
            [sys.executable, "-m", "bench.loadgen", str(port), path, "200", "4", str(10**8)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        result = subprocess.run(
            [sys.executable, "-m", "bench.loadgen", str(port), path, str(REQUESTS), str(CONNECTIONS)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=20)
    load = json.loads(result.stdout.strip().splitlines()[-1])
    stored = set(InboundEvent.objects.filter(integration=integration).values_list("external_id", flat=True))
    lost = [i for i in load["accepted_ids"] if str(i) not in stored]
    report(
        {
            "requests": load["requests"],
            "accepted": load["accepted"],
            "statuses": load["statuses"],
            "seconds": load["seconds"],
            "req_per_s": load["rps"],
            "events_stored": len(stored),
            "accepted_not_stored": len(lost),
            "gunicorn": f"{WORKERS} workers × {THREADS} threads (gthread)",
            "connections": CONNECTIONS,
        }
    )


if __name__ == "__main__":
    main()
