# ruff: noqa: S603 - local benchmark processes on 127.0.0.1 only
"""``make bench``: run every benchmark in its own process, write results.json and results.md, print the table.

``BENCH_SCALE`` (e.g. 0.05) scales every size down; ``BENCH_ONLY=ingest,economy`` runs a subset.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench.common import ROOT, SCALE

BENCHES = ["ingest", "latency", "live_under_bulk", "fortnox_stream", "economy", "ratelimit", "initial_import",
           "synclog"]


def run_one(name: str) -> dict:
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{name}"], cwd=ROOT, capture_output=True, text=True, timeout=3600
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        sys.stderr.write(done.stderr[-3000:])
        return {"error": f"exit {done.returncode}", "wall_seconds": round(time.monotonic() - began, 1)}
    return {**json.loads(lines[-1]), "wall_seconds": round(time.monotonic() - began, 1)}


def rows(results: dict) -> list[tuple[str, str, str, str]]:
    """(what, measured, target, met) for the table."""

    def get(name, key, fmt="{}"):
        value = results.get(name, {}).get(key)
        return "—" if value is None else fmt.format(value)

    def met(ok) -> str:
        return "—" if ok is None else ("yes" if ok else "**no**")

    r = {k: v for k, v in results.items()}
    ing, lat, eco = r.get("ingest", {}), r.get("latency", {}), r.get("economy", {})
    rl, imp, log = r.get("ratelimit", {}), r.get("initial_import", {}), r.get("synclog", {})
    fxs = r.get("fortnox_stream", {})
    lub = r.get("live_under_bulk", {})

    def ok(cond):
        try:
            return cond()
        except (TypeError, KeyError):
            return None

    return [
        (
            "Webhook ingest (gunicorn, 127.0.0.1)",
            f"{get('ingest', 'req_per_s', '{:,.0f}')} req/s ({get('ingest', 'generator')}"
            + (f", p99 {ing['p99_ms']} ms" if "p99_ms" in ing else "")
            + f"); {get('ingest', 'accepted_not_stored')} accepted but not stored",
            "≥ 1,000 req/s; all stored",
            met(ok(lambda: ing["req_per_s"] >= 1000 and ing["accepted_not_stored"] == 0
                   and ing.get("stored_within_sent", True))),
        ),
        (
            "Webhook → target write latency",
            f"p50 {get('latency', 'p50_s')} s, p95 {get('latency', 'p95_s')} s, max {get('latency', 'max_s')} s",
            "p95 < 1 s",
            met(ok(lambda: lat["p95_s"] < 1)),
        ),
        (
            "Live change during a reconciliation backlog (qcluster processes, "
            f"{get('live_under_bulk', 'broker')} broker)",
            f"p50 {get('live_under_bulk', 'live_p50_s')} s, p95 {get('live_under_bulk', 'live_p95_s')} s, max "
            f"{get('live_under_bulk', 'live_max_s')} s with {get('live_under_bulk', 'bulk_backlog_at_start', '{:,}')}"
            " bulk changes waiting",
            "p95 ≤ 2 s",
            met(ok(lambda: lub["live_p95_s"] <= 2)),
        ),
        (
            "Killed worker → its change taken up / written",
            f"{get('live_under_bulk', 'kill_to_taken_up_s')} s / {get('live_under_bulk', 'kill_to_written_s')} s",
            "≤ 30 s",
            met(ok(lambda: lub["kill_to_written_s"] <= 30)),
        ),
        (
            "Fortnox change → webCRM, s",
            f"p50 {get('fortnox_stream', 'p50_s')} s, p95 {get('fortnox_stream', 'p95_s')} s, "
            f"max {get('fortnox_stream', 'max_s')} s (WebSocket stream)",
            "p95 < 5 s",
            met(ok(lambda: fxs["p95_s"] < 5 and fxs["written"] == fxs["changes"])),
        ),
        (
            "API economy (reconciliation)",
            f"{get('economy', 'writes_per_changed')} writes/changed, "
            f"{get('economy', 'writes_per_unchanged')} writes/unchanged",
            "≤ 1.05 and 0",
            met(ok(lambda: eco["writes_per_changed"] <= 1.05 and eco["writes_per_unchanged"] == 0)),
        ),
        (
            "Rate-limit use (25 per 5 s)",
            f"{ok(lambda: round(rl['share_of_ceiling'] * 100, 1))}% of ceiling, "
            f"{get('ratelimit', 'throttled_429')} × 429",
            "≥ 90%, 0 × 429",
            met(ok(lambda: rl["share_of_ceiling"] >= 0.9 and rl["throttled_429"] == 0)),
        ),
        (
            "Initial import (import run)",
            f"{get('initial_import', 'import_rec_per_s', '{:,}')} rec/s; peak RSS "
            f"{get('initial_import', 'rss_peak_mb')} MB (quarters {get('initial_import', 'rss_quarters_mb')})",
            "≥ 1,000 rec/s; < 300 MB, flat",
            met(
                ok(
                    lambda: imp["import_rec_per_s"] >= 1000
                    and imp["rss_peak_mb"] < 300
                    and max(imp["rss_quarters_mb"]) - min(imp["rss_quarters_mb"]) < 30
                )
            ),
        ),
        (
            "Initial import (processing sample)",
            f"{get('initial_import', 'process_rec_per_s')} rec/s, one worker",
            "(no target; see notes)",
            "—",
        ),
        (
            "Sync log, first page",
            f"{get('synclog', 'first_page_ms')} ms",
            "< 150 ms",
            met(ok(lambda: log["first_page_ms"] < 150)),
        ),
        (
            "Sync log, filtered page",
            f"{get('synclog', 'filtered_page_ms')} ms",
            "< 150 ms",
            met(ok(lambda: log["filtered_page_ms"] < 150)),
        ),
    ]


def sizes(results: dict) -> str:
    r = results
    return (
        f"ingest {r.get('ingest', {}).get('requests', '—')} notices"
        + (f" in {r['ingest']['seconds']:.0f} s" if "seconds" in r.get("ingest", {}) else "")
        + f"; latency "
        f"{r.get('latency', {}).get('changes', '—')} changes; live under bulk "
        f"{r.get('live_under_bulk', {}).get('records_linked', '—')} linked records; Fortnox stream "
        f"{r.get('fortnox_stream', {}).get('changes', '—')} changes; economy "
        f"{r.get('economy', {}).get('records', '—')} "
        f"linked records; rate limit {r.get('ratelimit', {}).get('records', '—')} records; import "
        f"{r.get('initial_import', {}).get('records', '—')} customers; log "
        f"{r.get('synclog', {}).get('entries', '—')} entries"
    )


def markdown(results: dict, meta: dict) -> str:
    lines = ["| Benchmark | Measured | Target | Met |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(results)]
    lines += [
        "",
        f"Measured {meta['at']} on {meta['machine']}, database {meta['database']}, "
        f"BENCH_SCALE={meta['scale']:g} ({sizes(results)}).",
    ]
    log = results.get("synclog", {})
    if log.get("measured"):
        lines.append(f"Sync log: {log['measured']}.")
    return "\n".join(lines) + "\n"


def main() -> None:
    only = [n for n in os.environ.get("BENCH_ONLY", "").split(",") if n] or BENCHES
    results = {}
    previous = ROOT / "bench" / "results.json"
    if only != BENCHES and previous.exists():  # a subset keeps the other figures of the last run
        results = json.loads(previous.read_text()).get("results", {})
    for name in only:
        print(f"… {name}", flush=True)
        results[name] = run_one(name)
    meta = {
        "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "scale": SCALE,
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "database": "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite",
    }
    (ROOT / "bench" / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2, default=str))
    table = markdown(results, meta)
    (ROOT / "bench" / "results.md").write_text(table)
    print()
    print(table)


if __name__ == "__main__":
    main()
