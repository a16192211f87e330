"""Every replay ends: whichever screen put a change back, the replay run finishes once nothing of it waits, and its
row says how it went ("Finished", "Finished with 1 failed"); a run with a change still waiting never says Finished."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.engine.runs import run_done_count, run_progress, runs_settle
from integrations.models import EventState, InboundEvent, RunKind, RunState, SyncLogEntry, SyncRun
from integrations.systems.catalog import Entity
from tenants.models import Role
from tests.factories import MembershipFactory
from tests.harness import drain, make_pair, organisation

ORG = Entity.ORGANISATION


@pytest.fixture
def pair(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    pair.webcrm_hooks("Organisations")
    return pair


@pytest.fixture
def support(client, pair):
    user = MembershipFactory(tenant=pair.integration.tenant, role=Role.SUPPORT, user__username="sofie").user
    client.force_login(user)
    return client


def refuse_new_debtors(pair):
    """Map a Uniconta user field that does not exist: Uniconta refuses every new debtor until the row goes."""
    return pair.sync("organisation").field_mappings.create(tenant=pair.integration.tenant, erp_field="xRegion",
                                                          crm_field="OrganisationCity", direction="to_erp")


def failed_entry(pair, name: str = "Havbrise Byg ApS") -> SyncLogEntry:
    pair.crm_client.create_record(ORG, organisation(OrganisationName=name))
    drain()
    return SyncLogEntry.objects.filter(action="failed", label=name).latest("pk")


def run_row(client, pair, run: SyncRun) -> str:
    """The run's row as the runs page shows it (the page brings running runs up to date, as the dispatcher does)."""
    page = client.get(reverse("run-list", args=[pair.integration.tenant.slug])).content.decode()
    row = page[page.index(f'id="run-{run.pk}"'):]
    return row[:row.index("</tr>")]


def replay(client, pair, how: str, entry: SyncLogEntry) -> None:
    slug = pair.integration.tenant.slug
    urls = {
        "log entry": reverse("log-entry-replay", args=[slug, entry.pk]),
        "dead letter": reverse("dead-letter-replay", args=[slug, entry.event_id]),
        "replay all": reverse("dead-letters-replay-all", args=[slug]),
        "replay matching": f"{reverse('log-replay-matching', args=[slug])}?action=failed&q=havbrise",
    }
    assert client.post(urls[how]).status_code == 302


REPLAYS = ["log entry", "dead letter", "replay all", "replay matching"]


@pytest.mark.parametrize("how", REPLAYS)
def test_a_replay_that_fails_again_ends_as_finished_with_one_failed(support, pair, how):
    refuse_new_debtors(pair)
    entry = failed_entry(pair)
    replay(support, pair, how, entry)
    run = SyncRun.objects.get(kind=RunKind.REPLAY)
    assert "Running, 1 of 1 waiting" in run_row(support, pair, run)  # put back, not processed yet
    drain()  # the cause is still there: refused again
    assert InboundEvent.objects.get(pk=entry.event_id).state == EventState.FAILED
    assert runs_settle() == 1  # the dispatcher finishes it without anyone looking
    run.refresh_from_db()
    assert (run.state, run.done, run.total) == (RunState.DONE, 1, 1)
    row = run_row(support, pair, run)
    assert "Finished with 1 failed" in row and "1 / 1" in row and "hx-get" not in row, row


@pytest.mark.parametrize("how", REPLAYS)
def test_a_replay_that_succeeds_ends_as_finished(support, pair, how):
    row = refuse_new_debtors(pair)
    entry = failed_entry(pair)
    row.delete()  # the cause is fixed
    replay(support, pair, how, entry)
    drain()
    run = SyncRun.objects.get(kind=RunKind.REPLAY)
    text = run_row(support, pair, run)
    assert ">Finished<" in text and "1 created" in text and "failed" not in text.replace("badge done", ""), text
    assert run_progress(run).state == RunState.DONE


def test_a_replayed_skip_that_is_skipped_again_ends(support, pair):
    """A skip a person can fix (webCRM numbers customers and the number is empty), replayed before it was fixed."""
    pair.sync("organisation").__class__.objects.filter(pk=pair.sync("organisation").pk).update(number_authority="crm")
    pair.crm_client.create_record(ORG, {"OrganisationName": "Havbrise Byg ApS", "OrganisationType": "Kunde"})
    drain()
    skipped = SyncLogEntry.objects.get(action="skipped", replayable=True)
    support.post(reverse("log-entry-replay", args=[pair.integration.tenant.slug, skipped.pk]))
    run = SyncRun.objects.get(kind=RunKind.REPLAY)
    assert run.total == 1
    drain()
    text = run_row(support, pair, run)
    assert ">Finished<" in text and "1 skipped" in text, text


def test_a_change_replayed_again_before_its_first_replay_was_settled_ends_both_runs(support, pair):
    refuse_new_debtors(pair)
    entry = failed_entry(pair)
    replay(support, pair, "dead letter", entry)
    drain()  # fails again; nobody has looked at the runs yet
    replay(support, pair, "dead letter", entry)  # the change now belongs to a second replay run
    first, second = SyncRun.objects.filter(kind=RunKind.REPLAY).order_by("pk")
    assert InboundEvent.objects.get(pk=entry.event_id).run_id == second.pk
    assert "Finished with 1 failed" in run_row(support, pair, first)  # its change left it, done
    assert "Running, 1 of 1 waiting" in run_row(support, pair, second)
    drain()
    assert "Finished with 1 failed" in run_row(support, pair, second)


def test_a_replayed_change_dropped_because_the_entity_is_no_longer_synced_ends_the_run(support, pair):
    refuse_new_debtors(pair)
    entry = failed_entry(pair)
    replay(support, pair, "log entry", entry)
    pair.sync("organisation").delete()  # the integration no longer syncs organisations at all
    drain()
    assert InboundEvent.objects.get(pk=entry.event_id).state == EventState.DROPPED
    run = SyncRun.objects.get(kind=RunKind.REPLAY)
    assert ">Finished<" in run_row(support, pair, run)


def test_a_replayed_change_removed_before_it_was_processed_ends_the_run(support, pair):
    refuse_new_debtors(pair)
    entry = failed_entry(pair)
    replay(support, pair, "log entry", entry)
    InboundEvent.objects.filter(pk=entry.event_id).delete()  # e.g. old data removed
    run = run_progress(SyncRun.objects.get(kind=RunKind.REPLAY))
    assert (run.state, run.done) == (RunState.DONE, 1)


@pytest.mark.parametrize("state", [EventState.DONE, EventState.DROPPED, EventState.FAILED])
def test_a_run_finishes_once_its_last_change_ends_in_any_way(pair, state):
    run = SyncRun.objects.create(tenant=pair.integration.tenant, integration=pair.integration, kind=RunKind.REPLAY,
                                 entity=ORG, total=2)
    events = [InboundEvent.objects.create(tenant=pair.integration.tenant, integration=pair.integration,
                                          system="webcrm", entity=ORG, action="updated", external_id=str(n), run=run,
                                          state=EventState.DONE if n == 1 else EventState.PROCESSING)
              for n in (1, 2)]
    assert run_progress(run).state == RunState.RUNNING and run.done == 1  # one still being worked on
    InboundEvent.objects.filter(pk=events[1].pk).update(state=EventState.PENDING)  # a retry later: still waiting
    assert run_progress(run).state == RunState.RUNNING
    InboundEvent.objects.filter(pk=events[1].pk).update(state=state)
    run = run_progress(run)
    assert (run.state, run.done, run.total) == (RunState.DONE, 2, 2)


def test_done_counts_every_change_no_longer_waiting_once_the_total_is_known():
    assert run_done_count(total=None, waiting=3, finished=4) == 4  # still listing: what finished
    assert run_done_count(total=5, waiting=2, finished=1) == 3  # two left the run meanwhile
    assert run_done_count(total=5, waiting=0, finished=0) == 5
    assert run_done_count(total=2, waiting=3, finished=0) == 0


def test_a_reconciliation_waiting_for_a_bulk_worker_says_it_is_queued():
    from integrations.engine.runs import run_state_words
    from integrations.models import RunKind, RunState, SyncRun

    waiting = SyncRun(kind=RunKind.RECONCILE, state=RunState.RUNNING, done=0)
    assert run_state_words(waiting) == "Queued: starts when a bulk worker is free"
    listing = SyncRun(kind=RunKind.RECONCILE, state=RunState.RUNNING, done=500)
    assert run_state_words(listing) == "Running"
    replay = SyncRun(kind=RunKind.REPLAY, state=RunState.RUNNING, done=0)
    assert run_state_words(replay) == "Running"
