# ruff: noqa: S603 - local benchmark processes on 127.0.0.1 only
"""Initial import of N customers from Uniconta (no added latency): records per second and the worker's memory.

The Uniconta sandbox runs in its own process (so its 100k rows do not count as the worker's memory);
this process is the worker. Measured:

* the import run itself: listing every debtor and storing one event per active record
  (``import_entity``), its records per second, and this process's resident memory sampled every
  0.2 s (peak, and at 25/50/75/100% of the run: flat means it does not grow with the record count);
* processing: a sample of those events synced end to end into webCRM (read, match, create, link, log),
  its records per second with one worker thread.

``BENCH_PROFILE=1`` writes pyinstrument profiles of the import run and of the processing (html and
text) to the run's temporary folder and names them on stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bench.common import ROOT, current_rss_mb, django_start, pair_setup, peak_rss_mb, report, scaled

RECORDS = scaled(100_000, minimum=2000)
PROCESS_SAMPLE = min(RECORDS, scaled(2000, minimum=300))


class RssSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append((time.monotonic(), current_rss_mb()))
            self.stop.wait(0.2)


@contextmanager
def profiled(name: str) -> Iterator[None]:
    """With ``BENCH_PROFILE``, a pyinstrument profile of the block, as html and text in the run's folder."""
    if not os.environ.get("BENCH_PROFILE"):
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler()
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        target = os.path.join(os.environ["BENCH_WORKDIR"], f"profile-{name}")
        with open(f"{target}.html", "w") as html, open(f"{target}.txt", "w") as text:
            html.write(profiler.output_html())
            text.write(profiler.output_text(show_all=False))
        print(f"profile: {target}.html", file=sys.stderr)


def main() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.sandbox_server", "uniconta", str(RECORDS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline().split()
        if not line or line[0] != "port":
            raise RuntimeError("the sandbox server did not start")
        port = int(line[1])
        run_import(f"http://127.0.0.1:{port}")
    finally:
        server.terminate()
        server.wait(timeout=10)


def run_import(uniconta_url: str) -> None:
    django_start()
    from integrations.engine import process
    from integrations.engine.runs import import_entity, run_start
    from integrations.models import Connection, InboundEvent
    from integrations.systems import transport

    integration, sandboxes = pair_setup(sandbox_knobs={"webcrm": {"rate_limit": (0, 0)}})
    transport.unmount("https://uniconta.bench")
    Connection.objects.filter(pk=integration.erp_connection_id).update(base_url=uniconta_url)
    integration.refresh_from_db()
    InboundEvent.objects.all().delete()
    options = {"sleep": lambda s: None, "rate_limiter": None}

    run = run_start(integration=integration, kind="import", entity="organisation")
    sampler = RssSampler()
    rss_before = current_rss_mb()
    sampler.start()
    began = time.perf_counter()
    with profiled("import"):
        stored = import_entity(run=run, client_options=options)
    import_seconds = time.perf_counter() - began
    sampler.stop.set()
    sampler.join()
    rss = [mb for _, mb in sampler.samples] or [current_rss_mb()]
    quarters = [round(rss[min(len(rss) - 1, int(len(rss) * q))], 1) for q in (0.25, 0.5, 0.75)] + [round(rss[-1], 1)]

    due = process.events_due(limit=PROCESS_SAMPLE)
    began = time.perf_counter()
    with profiled("process"):
        for event_id in due:
            process.event_process(event_id=event_id, client_options=options)
    process_seconds = time.perf_counter() - began
    report(
        {
            "records": RECORDS,
            "events_stored": stored,
            "import_seconds": round(import_seconds, 1),
            "import_rec_per_s": round(stored / import_seconds),
            "rss_start_mb": round(rss_before, 1),
            "rss_peak_mb": round(max(rss), 1),
            "rss_quarters_mb": quarters,
            "ru_maxrss_mb": round(peak_rss_mb(), 1),
            "processed_sample": len(due),
            "process_rec_per_s": round(len(due) / process_seconds, 1),
            "created_in_webcrm": len(sandboxes["webcrm"].store.tables["Organisations"].rows),
        }
    )


if __name__ == "__main__":
    main()
