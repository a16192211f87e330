# ruff: noqa: S603 - local benchmark processes on 127.0.0.1 only
"""Initial imports of N customers, both ways: records per second end to end and the share of the vendors' limits.

Two imports are measured, each against a source sandbox seeded with N records in its own process (so its rows do
not count as the worker's memory); this process is the worker, the target sandbox runs in it:

* **Uniconta → webCRM** (the original figures, keys without a prefix): listing every debtor and storing one event
  per active record (``import_entity``), its records per second, this process's resident memory sampled every 0.2 s
  (peak, and at 25/50/75/100% of the run: flat means it does not grow with the record count); then a sample of the
  events synced end to end into webCRM (read, match, create, link, log), with one worker thread. webCRM has no list
  insert Synkro can trust (docs/vendors/webcrm.md), so these go one by one.
* **webCRM → Uniconta** (keys ``to_erp_…``): the same, into Uniconta, whose list insert the bulk workers use
  (``engine.bulk_create``): one ``InsertList`` and a few match reads per batch instead of several requests per record.

For each, ``…_end_to_end_rec_per_s`` is N ÷ (listing time + N × processing time per record, from the sample), and
per vendor ``…_requests_per_record``, ``…_requests_per_s`` (unthrottled) and ``…_limit_share`` (requests per second
used ÷ the limit Synkro's client keeps for that vendor, the provider's ``rate_limit``): above 1 the shared limiter,
not Synkro, sets the pace, and ``…_limit_bound_rec_per_s`` is the record rate the limits allow.

``BENCH_IMPORT=to_erp`` / ``to_crm`` measures one import; ``BENCH_SAMPLE=<n>`` sets the processed sample.
``BENCH_SINGLE=1`` processes one by one (the single path) even where a list insert exists, for a before/after in the
same tree; the code before the bulk path has no ``engine.bulk_create`` and always goes one by one.
``BENCH_PROFILE=1`` writes pyinstrument profiles (html and text) to the run's temporary folder and names them.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

if __package__ in (None, ""):  # run as a file (``python /path/bench/initial_import.py``): the tree of the cwd
    sys.path.insert(0, os.getcwd())

from bench.common import current_rss_mb, django_start, pair_setup, peak_rss_mb, report, scaled

RECORDS = scaled(100_000, minimum=2000)
PROCESS_SAMPLE = min(RECORDS, int(os.environ.get("BENCH_SAMPLE") or scaled(2000, minimum=300)))
#: ``BENCH_IMPORT=to_erp`` (or ``to_crm``) measures one of the two imports (``BENCH_ONLY`` names benchmarks).
ONLY = os.environ.get("BENCH_IMPORT", "")
SYSTEMS = ("webcrm", "uniconta")


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


# -- the source sandbox, in its own process -----------------------------------------------------------------------

def seed_debtors(sandbox, count: int) -> None:
    """``count`` debtors as Uniconta stores them, copied from one insert (no key check per row)."""
    company = sandbox.company()
    table = company.tables["DebtorClient"]
    template, _ = company.insert(
        "DebtorClient",
        {"Name": "Importkunde 000000 ApS", "City": "Vejle", "Address1": "Havnegade 1", "ZipCode": "7100"},
    )
    for n in range(1, count):
        row = dict(template)
        row.update(RowId=table.new_id(), Account=str(int(template["Account"]) + n), Name=f"Importkunde {n:06} ApS",
                   Address1=f"Havnegade {n}")
        table.rows[str(row["RowId"])] = row


def cvr_numbers() -> Iterator[str]:
    """Valid Danish CVR numbers, one after the other (python-stdnum's check: the weighted sum a multiple of 11)."""
    from stdnum.dk import cvr

    for first in range(3_000_000, 9_999_999):
        yield from (number for number in (f"{first}{d}" for d in range(10)) if cvr.is_valid(number))


def seed_organisations(sandbox, count: int) -> None:
    """``count`` webCRM customers (Type "Kunde", the integration's trigger), each with its own CVR number."""
    store = sandbox.store
    table = store.tables["Organisations"]
    numbers = cvr_numbers()
    template = store.create("Organisations", {
        "OrganisationId": 0, "OrganisationName": "Importkunde 000000 ApS", "OrganisationType": "Kunde",
        "OrganisationCity": "Vejle", "OrganisationAddress": "Havnegade 1", "OrganisationPostCode": "7100",
        "OrganisationVatNumber": f"DK{next(numbers)}"})
    for n in range(1, count):
        row = dict(template)
        row.update(OrganisationId=table.new_id(), OrganisationName=f"Importkunde {n:06} ApS",
                   OrganisationAddress=f"Havnegade {n}", OrganisationVatNumber=f"DK{next(numbers)}")
        table.rows[str(row["OrganisationId"])] = row


def serve(system: str, count: int) -> None:
    """Serve ``system``'s sandbox seeded with ``count`` records on 127.0.0.1; prints ``port <n>`` once it listens."""
    django_start(migrate=False)  # the registry of systems reads the settings
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from werkzeug.serving import make_server

    from integrations.systems.registry import get_system

    sandbox = get_system(system).sandbox(rate_limit=(0, 0))
    (seed_debtors if system == "uniconta" else seed_organisations)(sandbox, count)
    server = make_server("127.0.0.1", 0, sandbox, threaded=True)
    print(f"port {server.server_port}", flush=True)
    server.serve_forever()


@contextmanager
def source_server(system: str) -> Iterator[str]:
    server = subprocess.Popen([sys.executable, os.path.abspath(__file__), "serve", system, str(RECORDS)],
                              cwd=os.getcwd(), stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline().split()
        if not line or line[0] != "port":
            raise RuntimeError("the sandbox server did not start")
        yield f"http://127.0.0.1:{line[1]}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def forwarder(url: str):
    """A WSGI app that sends each request on to the sandbox server at ``url``: mounted at the bench's in-process base
    URL, so the connection keeps a vendor-looking address (production settings refuse loopback ones) while the
    vendor's rows stay in the other process."""
    import requests
    from werkzeug.wrappers import Request

    session = requests.Session()
    skipped = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "host"}

    def app(environ, start_response):
        request = Request(environ)
        query = request.query_string.decode()
        answer = session.request(request.method, f"{url}{request.path}{'?' + query if query else ''}",
                                 data=request.get_data(), headers={k: v for k, v in request.headers.items()
                                                                   if k.lower() not in skipped})
        start_response(f"{answer.status_code} {answer.reason}",
                       [(k, v) for k, v in answer.headers.items() if k.lower() not in skipped])
        return [answer.content]

    return app


# -- the worker ---------------------------------------------------------------------------------------------------

REQUESTS: Counter[str] = Counter()
#: The same requests by system, method and the start of their path, written to stderr after each processing.
KINDS: Counter[str] = Counter()


def count_requests() -> None:
    """Count every logical request the vendor clients send, by system (``ApiClient.request`` is their one door)."""
    from integrations.systems.base import ApiClient

    if getattr(ApiClient.request, "counted", False):
        return
    sent = ApiClient.request

    @functools.wraps(sent)
    def request(self, method, path, *args, **kwargs):
        REQUESTS[self.system] += 1
        KINDS[f"{self.system} {method} {'/'.join(str(path).strip('/').split('/')[:3])}"] += 1
        return sent(self, method, path, *args, **kwargs)

    request.counted = True
    ApiClient.request = request


def processor():
    """The bulk workers' step where this tree has one and ``BENCH_SINGLE`` is not set; else one event at a time."""
    from integrations.engine import process

    options = {"sleep": lambda s: None, "rate_limiter": None}
    try:
        from integrations.engine.bulk_create import events_batch_process
    except ImportError:
        events_batch_process = None
    if events_batch_process is None or os.environ.get("BENCH_SINGLE"):
        return lambda ids: sum(process.event_process(event_id=i, client_options=options) is not None for i in ids)
    return lambda ids: events_batch_process(event_ids=ids, client_options=options)


def measure(*, source_system: str, source_url: str, slug: str) -> dict:
    """One initial import from ``source_system`` (its sandbox at ``source_url``) into the other, measured."""
    from integrations.engine import process
    from integrations.engine.runs import import_entity, run_start
    from integrations.models import InboundEvent
    from integrations.systems import transport
    from integrations.systems.registry import get_system
    from mappings.models import EntitySync

    integration, sandboxes = pair_setup(slug=slug, webhooks=False,
                                        sandbox_knobs={key: {"rate_limit": (0, 0)} for key in SYSTEMS})
    target_system = "webcrm" if source_system == "uniconta" else "uniconta"
    transport.mount(f"https://{source_system}.bench", forwarder(source_url))
    if source_system == "webcrm":  # webCRM's customers go over: the import lists webCRM
        EntitySync.objects.filter(integration=integration, entity="organisation").update(direction="to_erp")
    integration.refresh_from_db()
    InboundEvent.objects.all().delete()
    options = {"sleep": lambda s: None, "rate_limiter": None}

    run = run_start(integration=integration, kind="import", entity="organisation")
    sampler = RssSampler()
    rss_before = current_rss_mb()
    sampler.start()
    REQUESTS.clear()
    began = time.perf_counter()
    with profiled(f"import-{source_system}"):
        stored = import_entity(run=run, client_options=options)
    import_seconds = time.perf_counter() - began
    listing_requests = dict(REQUESTS)
    sampler.stop.set()
    sampler.join()
    rss = [mb for _, mb in sampler.samples] or [current_rss_mb()]
    quarters = [round(rss[min(len(rss) - 1, int(len(rss) * q))], 1) for q in (0.25, 0.5, 0.75)] + [round(rss[-1], 1)]

    due = process.events_due(limit=PROCESS_SAMPLE)
    work = processor()
    REQUESTS.clear()
    KINDS.clear()
    began = time.perf_counter()
    with profiled(f"process-{source_system}"):
        processed = work(due)
    process_seconds = time.perf_counter() - began
    used = dict(REQUESTS)
    print(f"requests while processing ({source_system} → {target_system}): {dict(KINDS.most_common(12))}",
          file=sys.stderr)
    per_record = process_seconds / max(1, processed)
    end_to_end = RECORDS / (import_seconds + per_record * RECORDS)
    figures = {
        "records": RECORDS, "events_stored": stored, "import_seconds": round(import_seconds, 1),
        "import_rec_per_s": round(stored / import_seconds), "rss_start_mb": round(rss_before, 1),
        "rss_peak_mb": round(max(rss), 1), "rss_quarters_mb": quarters, "ru_maxrss_mb": round(peak_rss_mb(), 1),
        "processed_sample": processed, "process_rec_per_s": round(processed / process_seconds, 1),
        "end_to_end_rec_per_s": round(end_to_end, 1), "listing_requests": listing_requests,
    }
    bound = []
    for system in SYSTEMS:
        limit, window = get_system(system).rate_limit or (0, 0)
        allowed = limit / window if window else 0
        count = used.get(system, 0)
        per_s = count / process_seconds
        figures[f"{system}_requests_per_record"] = round(count / max(1, processed), 3)
        figures[f"{system}_requests_per_s"] = round(per_s, 1)
        figures[f"{system}_limit_share"] = round(per_s / allowed, 2) if allowed else None
        if allowed and count:
            bound.append(allowed / (count / max(1, processed)))
    figures["limit_bound_rec_per_s"] = round(min(bound), 2) if bound else None
    if target_system == "webcrm":
        figures["created_in_webcrm"] = len(sandboxes["webcrm"].store.tables["Organisations"].rows)
    else:
        figures["created_in_uniconta"] = len(sandboxes["uniconta"].company().tables["DebtorClient"].rows)
    return figures


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], int(sys.argv[3]))
        return
    django_start()
    count_requests()
    figures: dict = {"records": RECORDS}
    if ONLY != "to_erp":
        with source_server("uniconta") as url:
            figures.update(measure(source_system="uniconta", source_url=url, slug="bench"))
    if ONLY != "to_crm":
        with source_server("webcrm") as url:
            to_erp = measure(source_system="webcrm", source_url=url, slug="bench-to-erp")
        figures.update({f"to_erp_{key}": value for key, value in to_erp.items() if key != "records"})
    report(figures)


if __name__ == "__main__":
    main()
