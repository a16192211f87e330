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

BENCHES = ["ingest", "ingest_pg", "per_record", "per_record_pg", "latency", "live_under_bulk", "fortnox_stream",
           "economy", "ratelimit", "initial_import", "synclog"]
#: Benchmarks run a second time on a throwaway PostgreSQL (``scripts/with-postgres.sh``), under this suffix.
ON_POSTGRES = "_pg"


def run_one(name: str) -> dict:
    began = time.monotonic()
    command = [sys.executable, "-m", f"bench.{name.removesuffix(ON_POSTGRES)}"]
    if name.endswith(ON_POSTGRES) and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        command = [str(ROOT / "scripts" / "with-postgres.sh"), *command]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=3600)
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
        *ingest_ratio_rows(r),
        *per_record_rows(r),
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
        *import_rows(imp),
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


#: Per-record targets: statements for a create / an update, requests for a record's own sync.
SQL_TARGET = {"create": 10, "update": 8}
HTTP_TARGET = 3
COST_KINDS = [("create_to_erp", "create → ERP"), ("create_to_crm", "create → CRM"),
              ("update_to_erp", "update → ERP"), ("update_to_crm", "update → CRM"),
              ("echo_from_erp", "echo from ERP"), ("echo_from_crm", "echo from CRM")]


def ingest_ratio_rows(results: dict) -> list[tuple[str, str, str, str]]:
    """Webhook ingest against a plain Django view doing one INSERT, both served by the same gunicorn in one run."""
    out = []
    for name, database in (("ingest", "SQLite"), ("ingest_pg", "PostgreSQL")):
        figures = results.get(name) or {}
        if "ratio_to_reference" not in figures:
            out.append((f"Ingest ÷ one-INSERT view ({database})", figures.get("error", "not measured"), "≥ 0.85", "—"))
            continue
        out.append((f"Ingest ÷ one-INSERT view ({database})",
                    f"{figures['req_per_s']:,.0f} ÷ {figures['reference_req_per_s']:,.0f} req/s = "
                    f"{figures['ratio_to_reference']:.2f}; "
                    f"{figures.get('accepted_not_stored')} accepted but not stored",
                    "≥ 0.85; all stored",
                    "yes" if figures["ratio_to_reference"] >= 0.85 and figures.get("accepted_not_stored") == 0
                    else "**no**"))
    return out


def import_rows(figures: dict) -> list[tuple[str, str, str, str]]:
    """Each direction of the initial import end to end, its requests per record and its share of the vendor limits."""
    out = []
    for prefix, words in (("to_erp_", "webCRM → Uniconta (list inserts)"), ("", "Uniconta → webCRM (one by one)")):
        if f"{prefix}end_to_end_rec_per_s" not in figures:
            continue

        def f(key, prefix=prefix):
            return figures.get(f"{prefix}{key}")

        out.append((
            f"Initial import {words}, sample of {f('processed_sample')}",
            f"{f('end_to_end_rec_per_s')} rec/s end to end (one worker, vendors unthrottled); per record "
            f"{f('webcrm_requests_per_record')} webCRM and {f('uniconta_requests_per_record')} Uniconta requests; "
            f"the vendors' limits allow {f('limit_bound_rec_per_s')} rec/s",
            "(reference: the vendor limits)",
            "—",
        ))
    return out


def per_record_rows(results: dict) -> list[tuple[str, str, str, str]]:
    """Statements and requests per record, and time per event as links grow, on each database measured."""
    out = []
    for name, database in (("per_record", "SQLite"), ("per_record_pg", "PostgreSQL")):
        figures = results.get(name) or {}
        cost = figures.get("cost") or {}
        if not cost:
            out.append((f"Per-record cost ({database})", figures.get("error", "not measured"), "", "—"))
            continue
        sql_parts, http_parts, sql_ok, http_ok = [], [], True, True
        for key, words in COST_KINDS:
            kind = cost.get(key) or {}
            if not kind:
                continue
            target = SQL_TARGET.get(key.split("_")[0])
            ratio = f" ({kind['sql'] / target:.2f}×)" if target else ""
            sql_parts.append(f"{words} {kind['sql']:g}{ratio}")
            if target:  # steady state: the median (a worker's first event reads the settings)
                sql_ok = sql_ok and kind.get("sql_median", kind["sql_max"]) <= target
            systems = ", ".join(f"{system} {n:g}" for system, n in kind.get("http_by_system", {}).items() if n)
            http_parts.append(f"{words} {kind['http']:g}" + (f" ({systems})" if systems else ""))
            if key.startswith("update"):
                http_ok = http_ok and kind["http"] <= HTTP_TARGET
        out.append((f"SQL statements per record ({database})", "; ".join(sql_parts),
                    f"≤ {SQL_TARGET['create']} create, ≤ {SQL_TARGET['update']} update (ratio to target)",
                    "yes" if sql_ok else "**no**"))
        out.append((f"HTTP requests per record ({database})", "; ".join(http_parts),
                    f"≤ {HTTP_TARGET} for the record's own sync", "yes" if http_ok else "**no**"))
        times = figures.get("time_per_event") or {}
        if times:
            steps = sorted(times, key=int)
            measured = " / ".join(f"{times[s]['median_ms']:g}" for s in steps)
            ratios = " / ".join(f"{times[s]['ratio_to_empty']:.2f}×" for s in steps)
            links = " / ".join(f"{int(s):,}" for s in steps)
            worst = times[steps[-1]]["ratio_to_empty"]
            out.append((f"Time per event at {links} links ({database})", f"median {measured} ms ({ratios} empty)",
                        "≤ 1.25× empty", "yes" if worst <= 1.25 else "**no**"))
    return out


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
