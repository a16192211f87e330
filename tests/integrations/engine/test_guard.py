"""The blast-radius guard: its verdict, and a reconciliation that would rename many debtors waiting for a person."""

from __future__ import annotations

import pytest

from integrations.engine.guard import guard_verdict, guard_words
from integrations.engine.runs import import_entity, reconcile_entity, run_progress, run_start
from integrations.models import InboundEvent, LogAction, PlanAction, PlannedChange, RunState, SyncLogEntry, SyncRun
from support.previews import run_cancel, run_confirm
from support.services import RunRefused, run_start_now
from tests.harness import QUIET, drain, make_pair
from tests.seeding import linked_organisations, rename_in_webcrm, writes

# -- the verdict -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rewrites", "linked", "share", "minimum", "limit", "tripped"), [
    (30, 100, 5, 20, 20, True),      # the minimum is the limit when the share is smaller
    (20, 100, 5, 20, 20, False),     # at the limit is allowed
    (21, 100, 5, 20, 20, True),
    (60, 1000, 5, 20, 50, True),     # the share is the limit when it is larger
    (50, 1000, 5, 20, 50, False),
    (6, 101, 5, 1, 6, False),        # 5.05 records rounds up to 6
    (7, 101, 5, 1, 6, True),
    (0, 0, 5, 20, 20, False),        # nothing linked, nothing to guard
    (100, 100, 100, 1, 100, False),  # a share of 100 % never trips
])
def test_the_limit_is_the_larger_of_the_share_and_the_minimum(rewrites, linked, share, minimum, limit, tripped):
    verdict = guard_verdict(identity_rewrites=rewrites, linked=linked, share=share, minimum=minimum)
    assert (verdict.limit, verdict.tripped) == (limit, tripped)
    assert verdict.as_dict() == {"identity": rewrites, "linked": linked, "limit": limit, "tripped": tripped}


def test_the_guard_speaks_in_plain_words():
    words = guard_words({"identity": 34, "linked": 120, "limit": 20, "tripped": True}, "organisation")
    assert words == "would rewrite names or numbers of 34 of 120 linked organisations; the guard allows 20"


# -- a reconciliation that would rename 30 of 100 linked organisations ---------------------------------------


@pytest.fixture
def pair(db, synkro, sandboxes):
    return make_pair("webcrm", "uniconta", sandboxes)


@pytest.fixture
def renamed(pair):
    """100 linked organisations, 30 of them renamed in webCRM without a webhook."""
    linked = linked_organisations(pair, 100)
    for org, _debtor in linked[:30]:
        rename_in_webcrm(pair, org, f"Omdøbt {org['OrganisationId']} A/S")
    pair.crm.clear_log(), pair.erp.clear_log()
    return linked


def admin(pair):
    return pair.integration.tenant.memberships.get(role="admin").user


def reconcile(pair, run=None) -> SyncRun:
    run = run or run_start(integration=pair.integration, kind="reconcile", entity="organisation")
    reconcile_entity(run=SyncRun.objects.select_related("integration").get(pk=run.pk), client_options=QUIET)
    run.refresh_from_db()
    return run


def debtor_names(pair) -> set[str]:
    return {row["Name"] for row in pair.erp.company().tables["DebtorClient"].rows.values()}


def test_a_reconciliation_renaming_30_of_100_linked_organisations_is_held_with_nothing_written(pair, renamed):
    run = reconcile(pair)

    assert run.state == RunState.HELD and run.finished_at is None
    assert run.guard == {"identity": 30, "linked": 100, "limit": 20, "tripped": True}
    assert not InboundEvent.objects.exists()  # not even an event was stored
    assert writes(pair.crm) == writes(pair.erp) == 0
    assert not any(name.startswith("Omdøbt") for name in debtor_names(pair))
    planned = PlannedChange.objects.filter(run=run)
    assert planned.count() == planned.filter(action=PlanAction.UPDATE, identity=True).count() == 30
    assert run.plan == {"organisation": {"to_erp": {"update": 30}}}
    entry = SyncLogEntry.objects.get(run=run)
    assert entry.action == LogAction.REVIEW
    assert "would rewrite names or numbers of 30 of 100 linked organisations; the guard allows 20" in entry.reason
    assert "Nothing was written" in entry.reason


def test_confirming_a_held_run_lets_it_write(pair, renamed):
    run = reconcile(pair)
    run = run_confirm(run=run, user=admin(pair))
    assert run.state == RunState.RUNNING and run.confirmed_by == admin(pair) and run.confirmed_at is not None

    run = reconcile(pair, run)  # what the worker does with the confirmed run
    assert run.state == RunState.RUNNING and run.total == 30  # its 30 changes wait
    drain()
    run = run_progress(run)

    assert run.state == RunState.DONE and run.drift == 30 and run.done == 30
    assert sum(name.startswith("Omdøbt") for name in debtor_names(pair)) == 30
    assert writes(pair.erp) >= 30
    with pytest.raises(RunRefused):
        run_confirm(run=run, user=admin(pair))  # confirmed once only


def test_cancelling_a_held_run_writes_nothing(pair, renamed):
    run = reconcile(pair)
    run = run_cancel(run=run, user=admin(pair))
    drain()

    assert run.state == RunState.DONE and run.error == f"Cancelled by {admin(pair).username}."
    assert not InboundEvent.objects.exists() and writes(pair.crm) == writes(pair.erp) == 0
    with pytest.raises(RunRefused):
        run_confirm(run=run, user=admin(pair))


def test_a_run_started_with_the_guard_off_goes_straight_on(pair, renamed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():  # the worker's part is done by hand below
        run = run_start_now(integration=pair.integration, kind="reconcile", entity="organisation",
                            user=admin(pair), guard_off=True)
    run = reconcile(pair, run)
    assert run.state == RunState.RUNNING and run.guard == {} and run.drift == 30
    assert InboundEvent.objects.count() == 30 and not PlannedChange.objects.exists()


def test_a_few_renames_pass_the_guard_and_its_figures_are_kept(pair):
    linked = linked_organisations(pair, 100)
    for org, _debtor in linked[:5]:
        rename_in_webcrm(pair, org, f"Omdøbt {org['OrganisationId']} A/S")
    run = reconcile(pair)
    assert run.state == RunState.RUNNING and run.drift == 5 and run.total == 5
    assert run.guard == {"identity": 5, "linked": 100, "limit": 20, "tripped": False}


def test_the_guard_reads_its_settings_from_the_integration(pair, renamed):
    pair.integration.guard_share, pair.integration.guard_minimum = 40, 1
    pair.integration.save()
    run = reconcile(pair)
    assert run.state == RunState.RUNNING and run.guard["limit"] == 40 and not run.guard["tripped"]


def test_a_first_import_with_nothing_linked_plans_nothing_extra(pair):
    pair.erp.company().insert("DebtorClient", {"Name": "Skovly Tømrer I/S", "City": "Odense C"})
    pair.erp.clear_log()
    run = run_start(integration=pair.integration, kind="import", entity="organisation")
    assert import_entity(run=SyncRun.objects.select_related("integration").get(pk=run.pk), client_options=QUIET) == 1
    run.refresh_from_db()
    assert run.guard == {} and run.state == RunState.RUNNING  # an import finishes with its events
    assert sum(1 for r in pair.erp.requests if "DebtorClient" in r.path) == 1  # one listing, no planning


def test_an_import_that_would_rename_linked_records_is_held(pair):
    linked = linked_organisations(pair, 40)
    for _org, debtor in linked[:25]:
        debtor["Name"] = f"Omdøbt {debtor['Account']} A/S"  # renamed in Uniconta, where the import reads
    run = run_start(integration=pair.integration, kind="import", entity="organisation")
    assert import_entity(run=SyncRun.objects.select_related("integration").get(pk=run.pk), client_options=QUIET) == 0
    run.refresh_from_db()
    assert run.state == RunState.HELD and run.guard["identity"] == 25 and run.guard["limit"] == 20
    assert not InboundEvent.objects.exists()
    assert PlannedChange.objects.filter(run=run, direction="to_crm", identity=True).count() == 25
