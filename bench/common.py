"""What every benchmark shares: sizes scaled by ``BENCH_SCALE``, a throwaway database, a wired pair.

Each benchmark runs in its own process (``python -m bench.<name>``) against a database it creates
itself (SQLite in a temporary folder, or the PostgreSQL of ``DATABASE_URL``), and prints one JSON
object on its last line: the figures that ``bench.run`` gathers into the results table.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCALE = float(os.environ.get("BENCH_SCALE", "1") or 1)


def scaled(full: int, *, minimum: int = 1) -> int:
    """``full`` times BENCH_SCALE, never below ``minimum``."""
    return max(minimum, int(full * SCALE))


def bench_env(workdir: str | None = None) -> dict[str, str]:
    """Environment of a benchmark process: quiet, debug off, its own SQLite file unless DATABASE_URL is PostgreSQL."""
    workdir = workdir or tempfile.mkdtemp(prefix="synkro-bench-")
    env = dict(os.environ)
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnop",
            "FIELD_ENCRYPTION_KEY": "Zm9yLWJlbmNoLW9ubHktbm90LWEtcmVhbC1rZXktMDA=",
            "ALLOWED_HOSTS": "127.0.0.1,localhost,synkro.bench,testserver",
            "LOG_LEVEL": env.get("LOG_LEVEL", "WARNING"),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "BENCH_WORKDIR": workdir,
            # No collectstatic in a bench: pages name their static files without the manifest's hashes.
            "STATIC_MANIFEST": "false",
            # Synkro is served in-process over plain HTTP (http://synkro.bench): no redirect to HTTPS, which
            # would send the sandboxes' webhook calls to an address nothing answers.
            "SECURE_COOKIES": "false",
            # The vendors are sandboxes on this machine's loopback.
            "SANDBOX_ENABLED": "true",
            "ALLOW_PRIVATE_VENDOR_HOSTS": "true",
        }
    )
    if not env.get("DATABASE_URL", "").startswith("postgres"):
        env["DATABASE_URL"] = f"sqlite:///{workdir}/synkro.sqlite3"
    return env


def django_start(*, migrate: bool = True) -> None:
    """Set this process up as a benchmark process (see :func:`bench_env`) and bring Django up."""
    if "BENCH_WORKDIR" not in os.environ:
        os.environ.update(bench_env())
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def report(figures: dict[str, Any]) -> None:
    """The benchmark's result, as the last line of its output."""
    print(json.dumps(figures, default=str), flush=True)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


class Timer:
    def __enter__(self) -> Timer:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started


# -- a wired webCRM ↔ Uniconta pair, in process ----------------------------------------------------

SYNKRO_URL = "http://synkro.bench"
BASES = {"webcrm": "https://webcrm.bench", "uniconta": "https://uniconta.bench"}


def pair_create(*, name: str, slug: str, bases: dict[str, str]):
    """A tenant with a webCRM ↔ Uniconta integration whose connections reach ``bases`` with demo credentials."""
    from integrations.models import Connection, Integration
    from integrations.systems.registry import get_system
    from mappings.defaults import integration_setup_defaults
    from tenants.models import Tenant

    tenant = Tenant.objects.create(name=name, slug=slug)
    connections = {}
    for key, base in bases.items():
        provider = get_system(key)
        connections[key] = Connection.objects.create(tenant=tenant, system=key, name=provider.name, base_url=base,
                                                     credentials=provider.demo_credentials)
    integration = Integration.objects.create(tenant=tenant, name="webCRM ↔ Uniconta",
                                             crm_connection=connections["webcrm"],
                                             erp_connection=connections["uniconta"])
    integration_setup_defaults(integration=integration)
    return integration


def pair_setup(
    *,
    slug: str = "bench",
    sandbox_knobs: dict[str, dict[str, Any]] | None = None,
    webhooks: bool = True,
    synkro_app: bool = True,
):
    """A tenant with a webCRM ↔ Uniconta integration wired to fresh in-process sandboxes.

    Returns ``(integration, sandboxes)``. Synkro's own WSGI app is mounted at ``SYNKRO_URL`` so the
    sandboxes' webhooks reach the webhook view through real HTTP semantics.
    """
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    from integrations.systems import transport
    from integrations.systems.registry import get_system

    settings.PUBLIC_BASE_URL = SYNKRO_URL
    settings.ALLOWED_HOSTS = ["synkro.bench", "127.0.0.1", "localhost", "testserver"]
    if synkro_app:
        transport.mount(SYNKRO_URL, WSGIHandler())
    sandboxes = {}
    for key, base in BASES.items():
        sandboxes[key] = get_system(key).sandbox(**{"seed": 7, **(sandbox_knobs or {}).get(key, {})})
        transport.mount(base, sandboxes[key])
    integration = pair_create(name="Bench Handel A/S", slug=slug,
                              bases={"webcrm": BASES["webcrm"], "uniconta": BASES["uniconta"]})
    if webhooks:
        from integrations.services import integration_webhooks_register

        for result in integration_webhooks_register(integration=integration):
            if not result.ok:
                raise RuntimeError(result.message)
    return integration, sandboxes


QUIET = {"sleep": lambda s: None, "rate_limiter": None}


def drain(*, client_options: dict | None = None, rounds: int = 50) -> int:
    """Process due events in this process until none is left (retry delays let pass). Returns how many."""
    from integrations.engine import process
    from integrations.models import EventState, InboundEvent

    handled = 0
    for _ in range(rounds):
        due = process.events_due(limit=5000)
        if not due:
            waiting = InboundEvent.objects.filter(state=EventState.PENDING)
            if not waiting.exists():
                return handled
            waiting.update(next_attempt_at=None)
            continue
        for event_id in due:
            process.event_process(
                event_id=event_id, client_options=client_options if client_options is not None else QUIET
            )
            handled += 1
    raise RuntimeError("events still waiting after all rounds")
