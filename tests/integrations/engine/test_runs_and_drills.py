"""Safety reconciliation, initial import, and the fault drills at small sizes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.engine import apply as apply_module
from integrations.engine.process import events_requeue_stale
from integrations.engine.runs import import_entity, reconcile_entity, run_progress, run_start
from integrations.models import EventState, InboundEvent, RunState, SyncLink, SyncLogEntry
from integrations.systems.catalog import Entity
from tests.harness import QUIET, drain, make_pair

ORG = Entity.ORGANISATION


@pytest.fixture
def pair(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    pair.webcrm_hooks("Organisations")
    pair.erp.subscribe(pair.integration.webhook_url("uniconta"), table="Debtor")
    return pair


def drain_all(rounds: int = 12) -> None:
    """Drain, letting retry delays pass, until nothing is left waiting."""
    for _ in range(rounds):
        drain()
        waiting = InboundEvent.objects.filter(state=EventState.PENDING)
        if not waiting.exists():
            return
        waiting.update(next_attempt_at=None)
    raise AssertionError("events still waiting after all rounds")


def reconcile(pair):
    run = run_start(integration=pair.integration, kind="reconcile", entity="organisation")
    drift = reconcile_entity(run=run, client_options=QUIET)
    run.refresh_from_db()
    return run, drift


def names(records, field):
    return sorted(r[field] for r in records)


def erp_writes(pair):
    return sum(1 for r in pair.erp.requests if r.method != "GET")


def crm_writes(pair):
    return sum(1 for r in pair.crm.requests if r.method != "GET" and "/Auth/" not in r.path)


def test_dropped_webhooks_are_caught_by_the_safety_reconciliation(pair):
    pair.erp.knobs.webhook_drop_rate = 0.2
    for n in range(20):
        pair.erp_client.create_record(ORG, {"Name": f"Debitor {n:02}", "City": "Vejle"})
    drain_all()
    missing = 20 - len(list(pair.crm_client.list_records(ORG)))
    assert missing > 0  # the drill dropped some
    run, drift = reconcile(pair)
    assert drift == missing and run.drift == missing and run.state == RunState.RUNNING and run.done == 0
    drain_all()
    run = run_progress(run)
    assert run.state == RunState.DONE and run.done == run.total == missing
    assert names(pair.crm_client.list_records(ORG), "OrganisationName") == [f"Debitor {n:02}" for n in range(20)]
    # Converged: a second run finds nothing and writes nothing.
    before = (crm_writes(pair), erp_writes(pair))
    run, drift = reconcile(pair)
    drain_all()
    assert drift == 0 and (crm_writes(pair), erp_writes(pair)) == before


def test_reconciliation_ignores_what_the_triggers_keep_out(pair):
    pair.crm_client.create_record(ORG, {"OrganisationName": "Bare en prospect", "OrganisationType": "Prospect"})
    drain_all()
    _, drift = reconcile(pair)
    assert drift == 0


def test_server_errors_and_throttling_converge_without_duplicates(pair):
    for n in range(15):
        pair.crm_client.create_record(ORG, {"OrganisationName": f"Kunde {n:02}", "OrganisationType": "Kunde"})
    for sandbox in (pair.crm, pair.erp):
        sandbox.knobs.error_rate, sandbox.knobs.throttle_rate = 0.10, 0.05
    drain_all(rounds=20)
    for sandbox in (pair.crm, pair.erp):
        sandbox.knobs.error_rate = sandbox.knobs.throttle_rate = 0
    reconcile(pair)
    drain_all()
    assert names(pair.erp_client.list_records(ORG), "Name") == [f"Kunde {n:02}" for n in range(15)]
    assert SyncLink.objects.filter(entity="organisation").count() == 15
    assert not SyncLogEntry.objects.filter(action="failed").exists()


class WorkerKilled(BaseException):
    """Like SIGKILL: nothing in the worker gets to handle it."""


def test_a_worker_killed_between_create_and_link_leads_to_adoption_not_a_duplicate(pair, monkeypatch):
    real_remember = apply_module._remember
    calls = {"n": 0}

    def killed_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise WorkerKilled
        return real_remember(*args, **kwargs)

    monkeypatch.setattr(apply_module, "_remember", killed_once)
    pair.crm_client.create_record(ORG, {"OrganisationName": "Solbakken El-service ApS", "OrganisationType": "Kunde"})
    with pytest.raises(WorkerKilled):
        drain()
    assert len(list(pair.erp_client.list_records(ORG))) == 1  # created, but not linked
    assert not SyncLink.objects.exists()
    assert events_requeue_stale(now=timezone.now() + timedelta(minutes=10)) == 1
    drain_all()
    assert len(list(pair.erp_client.list_records(ORG))) == 1
    assert SyncLink.objects.filter(entity="organisation").count() == 1
    assert "Matched an existing record" in SyncLogEntry.objects.get(action="updated").reason


def test_initial_import_brings_every_active_customer_and_reports_progress(pair):
    for n in range(12):
        pair.erp_client.create_record(ORG, {"Name": f"Importkunde {n:02}", "Blocked": n == 11})
    InboundEvent.objects.all().delete()  # as if the change URLs were set up after these customers existed
    run = run_start(integration=pair.integration, kind="import", entity="organisation")
    assert import_entity(run=run, client_options=QUIET) == 11
    run.refresh_from_db()
    assert run.total == 11 and run_progress(run).done == 0
    drain_all()
    run = run_progress(run)
    assert run.done == 11 and run.state == RunState.DONE and run.progress_percent == 100
    assert len(list(pair.crm_client.list_records(ORG))) == 11


def test_an_interrupted_import_resumes_where_it_stopped(pair):
    for n in range(5):
        pair.erp_client.create_record(ORG, {"Name": f"Resume {n}"})
    InboundEvent.objects.all().delete()
    run = run_start(integration=pair.integration, kind="import", entity="organisation")
    run.cursor = {"listed": 3}
    run.save()
    assert import_entity(run=run, client_options=QUIET) == 2


def test_a_reconciliation_runs_until_its_changes_are_processed_and_the_dispatcher_finishes_it(pair):
    """"Finished" means its work is done: the every-minute dispatcher settles it without anyone looking."""
    from integrations.tasks import events_dispatch_task

    for n in range(3):
        pair.erp.knobs.webhook_drop_rate = 1.0
        pair.erp_client.create_record(ORG, {"Name": f"Stille Debitor {n}", "City": "Vejle"})
    pair.erp.knobs.webhook_drop_rate = 0.0
    run, drift = reconcile(pair)
    assert (drift, run.state, run.total, run.done) == (3, RunState.RUNNING, 3, 0)
    drain_all()
    events_dispatch_task()
    run.refresh_from_db()
    assert (run.state, run.done) == (RunState.DONE, 3)
