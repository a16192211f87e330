# ruff: noqa: S603, S310 - local benchmark processes on 127.0.0.1 only
"""Webhook ingest: notices per second accepted by the webhook endpoint under gunicorn, and all of them stored,
against a plain Django view doing one INSERT of a comparable row, served by the same gunicorn in the same run.

A throwaway database (SQLite in a temporary folder, or the PostgreSQL of ``DATABASE_URL``: run it under
``scripts/with-postgres.sh`` for that) is migrated and given a tenant with a webCRM ↔ Uniconta integration.
gunicorn serves Synkro on 127.0.0.1 (``BENCH_GUNICORN_WORKERS`` processes × ``BENCH_GUNICORN_THREADS``
threads, default 2 × 1, the fastest here on SQLite and on PostgreSQL) with the bench-only settings
``bench.ingest_settings``, whose URL conf adds the reference view (``bench.ingest_reference``: ``Model.objects
.create`` of an event row with the notice as payload, one INSERT in autocommit) beside the product's URLs; the
product's URL conf never has it. The load generator is a separate process keeping ``BENCH_CONNECTIONS``
(default 16) keep-alive connections busy with webCRM organisation notices, each for a different record, so
nothing coalesces. It is ``wrk`` (Debian's package) with ``bench/webhook.lua`` for ``BENCH_SECONDS`` (default
20) per path, or, where wrk is not installed, ``bench.loadgen`` (asyncio) for a fixed number of notices per
path; the Python one spends about a fifth of the two cores itself, so it reports less, for both paths alike.
The two paths take turns (webhook, reference, webhook, reference …; ``BENCH_TURNS``, default 4 each, with
an equal share of the load) so neither has the emptier table or the quieter machine. Afterwards every
accepted notice must be an event: wrk's count of 2xx answers against the events stored (a request still in
flight when wrk stops may be stored without being counted, never the reverse); the Python generator checks
each accepted id.

The JSON line keeps the webhook's figures under their old keys (``req_per_s``, ``accepted_not_stored`` …) and
adds ``reference_req_per_s``, ``ratio_to_reference`` (webhook ÷ reference req/s), ``reference_accepted``,
``reference_non_2xx``, ``reference_accepted_not_stored``, ``database`` (``sqlite`` or ``postgresql``) and each
turn's req/s (``turns_req_per_s``, ``reference_turns_req_per_s``).
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

from bench.common import ROOT, bench_env, django_start, pair_setup, report, scaled

REQUESTS = scaled(20_000, minimum=1000)
SECONDS = scaled(int(os.environ.get("BENCH_SECONDS", "20")), minimum=3)
WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_GUNICORN_THREADS", "1"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
#: Turns each path takes, alternating, each with its share of the load: a busy moment of the machine hits both.
TURNS = int(os.environ.get("BENCH_TURNS", "4"))


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


def _load(port: int, path: str, *, share: float, first_id: int) -> dict:
    """One turn of load on ``path``: ``share`` of the configured seconds (wrk) or notices (Python generator)."""
    if shutil.which("wrk"):
        return wrk_run(port, path, seconds=max(1, round(SECONDS * share)), connections=CONNECTIONS,
                       first_id=first_id)
    return python_run(port, path, count=max(100, round(REQUESTS * share)), connections=CONNECTIONS,
                      first_id=first_id)


def _combined(turns: list[dict]) -> dict:
    """The turns of one path as one run: counts added, req/s over the seconds of all turns, the slower p50/p99."""
    total = {key: sum(turn[key] for turn in turns) for key in ("requests", "accepted", "seconds")}
    figures = {**turns[0], **total, "req_per_s": round(total["requests"] / total["seconds"], 1),
               "seconds": round(total["seconds"], 2)}
    for key in ("sent", "non_2xx", "socket_errors"):
        if key in turns[0]:
            figures[key] = sum(turn[key] for turn in turns)
    for key in ("p50_ms", "p99_ms"):
        if key in turns[0]:
            figures[key] = max(turn[key] for turn in turns)
    if "statuses" in turns[0]:
        statuses: dict[str, int] = {}
        for turn in turns:
            for status, n in turn["statuses"].items():
                statuses[status] = statuses.get(status, 0) + n
        figures["statuses"] = statuses
    if "accepted_ids" in turns[0]:
        figures["accepted_ids"] = [i for turn in turns for i in turn["accepted_ids"]]
    return figures


def _not_stored(load: dict, events) -> int:
    """Accepted notices of ``load`` with no event among ``events`` (each id is distinct; see the module's text)."""
    if "accepted_ids" in load:
        stored_ids = set(events.values_list("external_id", flat=True))
        return sum(1 for i in load.pop("accepted_ids") if str(i) not in stored_ids)
    return max(0, load["accepted"] - events.count())


def main() -> None:
    if "BENCH_WORKDIR" not in os.environ:
        os.environ.update(bench_env())
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.ingest_settings"  # this process's, and gunicorn's
    django_start()
    from django.db import connection
    from django.db.models import Max, Sum

    from bench.ingest_reference import REFERENCE_SYSTEM
    from integrations.models import InboundEvent

    integration, _ = pair_setup(webhooks=False, synkro_app=False)
    port = free_port()
    paths = {"webhook": f"/hooks/webcrm/{integration.webhook_token}/",
             "reference": f"/bench/reference/{integration.tenant_id}/{integration.pk}/"}
    gunicorn = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(WORKERS),
         "-k", "gthread", "--threads", str(THREADS), "--keep-alive", "5", "--log-level", "warning"],
        cwd=ROOT, env=dict(os.environ), start_new_session=True,
    )
    turns: dict[str, list[dict]] = {"webhook": [], "reference": []}
    try:
        wait_until_up(f"http://127.0.0.1:{port}/accounts/login/")
        # A warm-up of each path (not counted) so every worker has its connection and code loaded; its events are
        # told apart from the measured run's by their ids.
        for n, path in enumerate(paths.values()):
            _load(port, path, share=0.1, first_id=1_500_000_000 + n * 10_000_000)
        time.sleep(0.5)
        before = InboundEvent.objects.aggregate(last=Max("pk"))["last"] or 0
        for turn in range(TURNS):
            for name, path in paths.items():
                turns[name].append(_load(port, path, share=1 / TURNS, first_id=turn * 200_000_000))
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=20)
    load, reference = _combined(turns["webhook"]), _combined(turns["reference"])
    measured = InboundEvent.objects.filter(integration=integration, pk__gt=before)
    events = measured.filter(system="webcrm")
    stored = events.count()
    not_stored = _not_stored(load, events)
    if "sent" in load:
        load["stored_within_sent"] = stored <= load["sent"]
    reference_not_stored = _not_stored(reference, measured.filter(system=REFERENCE_SYSTEM))
    coalesced = (events.aggregate(n=Sum("deliveries"))["n"] or 0) - stored
    report({**load, "events_stored": stored, "accepted_not_stored": not_stored, "coalesced": coalesced,
            "gunicorn": f"{WORKERS} workers × {THREADS} threads (gthread)", "connections": CONNECTIONS,
            "database": connection.vendor,
            "reference_req_per_s": reference["req_per_s"], "reference_accepted": reference["accepted"],
            "reference_non_2xx": reference["requests"] - reference["accepted"],
            "reference_accepted_not_stored": reference_not_stored,
            "ratio_to_reference": round(load["req_per_s"] / reference["req_per_s"], 3),
            "turns_req_per_s": [turn["req_per_s"] for turn in turns["webhook"]],
            "reference_turns_req_per_s": [turn["req_per_s"] for turn in turns["reference"]]})


if __name__ == "__main__":
    main()
