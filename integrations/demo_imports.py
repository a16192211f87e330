"""The demo's first imports: on the very first start, each running demo integration imports its customers and items.

``demo_setup`` creates the import runs when it creates the demo tenant (never again: a restart adds no run), so
the runs screen and the dashboard show them at once, waiting. One task then waits until the demo's sandboxes
answer (they live in the web server, which starts after the worker) and hands each run to the workers as a
person's "Start initial import" would (``tasks.run_task``); the runs then show their progress as the events are
processed. When the sandboxes never answer, the runs finish with a plain reason and can be started again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task

from tenants.models import Tenant

from .engine.runs import run_finish, run_start
from .models import Integration, RunKind, RunState, SyncRun
from .services import connection_probe
from .tasks import run_enqueue

logger = logging.getLogger(__name__)

#: What the initial import brings in the demo: every active customer and every item.
FIRST_IMPORT_ENTITIES = ("organisation", "item")
#: How long the task waits for the sandboxes to answer, and how often it asks, in seconds.
WAIT_SECONDS, ASK_EVERY = 120.0, 1.0
TASK = "integrations.demo_imports.demo_first_imports_task"


def demo_first_imports_queue(*, tenant: Tenant) -> list[SyncRun]:
    """Create an import run per active integration of ``tenant`` and entity it syncs (of
    :data:`FIRST_IMPORT_ENTITIES`), and queue the task that starts them once the systems answer.

    Returns the runs (state "running", no progress yet). Call it once, when the demo tenant is created: every
    call adds runs. With the ORM broker the task is written in the caller's transaction (it commits or rolls
    back with the runs); with Redis it is pushed after the commit.
    """
    runs: list[SyncRun] = []
    integrations = (Integration.objects.filter(tenant=tenant, active=True)
                    .select_related("crm_connection", "erp_connection").order_by("pk"))
    for integration in integrations:
        syncing = set(integration.entity_syncs.exclude(direction="off").values_list("entity", flat=True))
        runs += [run_start(integration=integration, kind=RunKind.IMPORT, entity=entity)
                 for entity in FIRST_IMPORT_ENTITIES if entity in syncing]
    if runs:
        run_ids = [run.pk for run in runs]

        def enqueue() -> None:
            async_task(TASK, run_ids, group="runs", cluster=settings.Q_CLUSTER["name"])

        if "orm" in settings.Q_CLUSTER:
            with transaction.atomic(savepoint=False):
                enqueue()
        else:
            transaction.on_commit(enqueue)
    return runs


def demo_first_imports_task(run_ids: list[int], *, sleep: Callable[[float], None] = time.sleep,
                            wait_seconds: float = WAIT_SECONDS) -> int:
    """Start the demo's first import runs once every system they read answers; returns how many were started.

    A run no longer waiting (finished, held, or started by someone meanwhile) is left alone. A system that refuses
    the credentials, or does not answer within ``wait_seconds``, finishes its runs with the reason in plain words.
    """
    runs = [run for run in SyncRun.objects.filter(pk__in=run_ids, state=RunState.RUNNING, kind=RunKind.IMPORT)
            .select_related("integration__crm_connection", "integration__erp_connection").order_by("pk")
            if not run.cursor and not run.done]  # one a person has started meanwhile has its own task
    waiting = {connection.pk: connection for run in runs
               for connection in (run.integration.crm_connection, run.integration.erp_connection)}
    refused: dict[int, str] = {}
    deadline = time.monotonic() + wait_seconds
    while waiting:
        for pk, connection in list(waiting.items()):
            probe = connection_probe(connection=connection)
            if probe.ok or probe.checked:
                waiting.pop(pk)
                if not probe.ok:
                    refused[pk] = probe.error
        if not waiting or time.monotonic() >= deadline:
            break
        sleep(ASK_EVERY)
    started = 0
    for run in runs:
        connections = (run.integration.crm_connection, run.integration.erp_connection)
        silent = [c.name for c in connections if c.pk in waiting]
        reasons = [refused[c.pk] for c in connections if c.pk in refused]
        if silent or reasons:
            why = reasons[0] if reasons else f"{', '.join(silent)} did not answer"
            run_finish(run, error=f"The demo's first import did not start: {why}. Start it again under Runs.")
            continue
        run_enqueue(run_id=run.pk)
        started += 1
    logger.info("demo's first imports: %s of %s started", started, len(runs))
    return started
