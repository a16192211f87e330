"""Replaying failures, one or all that match a filter: the events go back in the queue, get processed,
and the replay itself is recorded as a run."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.engine.runs import run_progress
from integrations.models import EventSource, EventState, InboundEvent, RunKind, RunState, SyncLogEntry, SyncRun
from integrations.systems.catalog import Entity
from tenants.models import Role
from tests.factories import MembershipFactory
from tests.harness import drain, make_pair, organisation

ORG = Entity.ORGANISATION


@pytest.fixture
def pair(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    pair.webcrm_hooks("Organisations")
    pair.erp.subscribe(pair.integration.webhook_url("uniconta"), table="Debtor")
    return pair


@pytest.fixture
def support_user(pair):
    return MembershipFactory(tenant=pair.integration.tenant, role=Role.SUPPORT, user__username="sofie").user


def break_organisations(pair):
    """Map a Uniconta user field that does not exist: Uniconta refuses every new debtor."""
    entity_sync = pair.sync("organisation")
    return entity_sync.field_mappings.create(tenant=pair.integration.tenant, erp_field="xRegion",
                                             crm_field="OrganisationCity", direction="to_erp")


def fail_organisations(pair, *names: str) -> list[SyncLogEntry]:
    row = break_organisations(pair)
    for name in names:
        pair.crm_client.create_record(ORG, organisation(OrganisationName=name))
    drain()
    row.delete()  # the cause is fixed
    failed = list(SyncLogEntry.objects.filter(action="failed").order_by("pk"))
    assert len(failed) == len(names) and all(e.event.state == EventState.FAILED for e in failed)
    assert sorted(e.label for e in failed) == sorted(names)  # a failure is found by the record's name
    return failed


def debtor_names(pair) -> set[str]:
    return {d["Name"] for d in pair.erp_client.list_records(ORG)}


def slug(pair) -> str:
    return pair.integration.tenant.slug


def test_support_replays_one_failed_entry_and_it_succeeds(client, pair, support_user):
    [entry] = fail_organisations(pair, "Havbrise Byg ApS")
    client.force_login(support_user)
    response = client.post(reverse("log-entry-replay", args=[slug(pair), entry.pk]))
    assert response.status_code == 302

    event = InboundEvent.objects.get(pk=entry.event_id)
    run = SyncRun.objects.get(kind=RunKind.REPLAY)
    assert (event.state, event.source, event.attempts, event.run_id) == (
        EventState.PENDING, EventSource.REPLAY, 0, run.pk)
    assert run.started_by == support_user and run.counts == {"put_back": 1} and run.total == 1
    entry.refresh_from_db()
    assert entry.replayed

    drain()
    assert debtor_names(pair) == {"Havbrise Byg ApS"}
    created = SyncLogEntry.objects.get(action="created")
    assert created.run_id == run.pk and created.event_id == event.pk  # what the replay did is logged under it
    run = run_progress(run)
    assert run.state == RunState.DONE and run.done == 1
    page = client.get(reverse("run-list", args=[slug(pair)])).content.decode()
    row = page[page.index(f"id=\"run-{run.pk}\""):]
    row = row[:row.index("</tr>")]
    assert "Replay" in row and "1 created" in row and "1 put back" in row, row


def test_replaying_by_filter_puts_back_only_the_matching_failures(client, pair, support_user):
    fail_organisations(pair, "Havbrise Byg ApS", "Skovly Tømrer I/S", "Fjordlys Café")
    client.force_login(support_user)
    url = reverse("log-replay-matching", args=[slug(pair)])
    client.post(f"{url}?action=failed&q=skovly")
    assert InboundEvent.objects.filter(state=EventState.PENDING).count() == 1
    client.post(f"{url}?action=failed")
    assert InboundEvent.objects.filter(state=EventState.PENDING).count() == 3
    first, second = SyncRun.objects.filter(kind=RunKind.REPLAY).order_by("pk")
    assert first.counts == {"put_back": 1} and second.counts == {"put_back": 2}
    drain()
    assert debtor_names(pair) == {"Havbrise Byg ApS", "Skovly Tømrer I/S", "Fjordlys Café"}
    assert SyncLogEntry.objects.filter(action="created", run__kind=RunKind.REPLAY).count() == 3
    # Nothing failed is left: replaying again puts nothing back and says so.
    response = client.post(f"{url}?action=failed", follow=True)
    assert "Nothing to replay" in response.content.decode()


def test_a_dead_letter_is_listed_with_its_error_and_replayed(client, pair, support_user):
    [entry] = fail_organisations(pair, "Havbrise Byg ApS")
    client.force_login(support_user)
    body = client.get(reverse("dead-letter-list", args=[slug(pair)])).content.decode()
    assert "Uniconta refused the debtor" in body and "(field xRegion)" in body
    client.post(reverse("dead-letter-replay", args=[slug(pair), entry.event_id]))
    assert InboundEvent.objects.get(pk=entry.event_id).state == EventState.PENDING
    drain()
    assert debtor_names(pair) == {"Havbrise Byg ApS"}
    body = client.get(reverse("dead-letter-list", args=[slug(pair)])).content.decode()
    assert "No dead letters" in body


def test_a_replay_that_fails_again_parks_the_event_again(client, pair, support_user):
    row = break_organisations(pair)
    pair.crm_client.create_record(ORG, organisation())
    drain()
    entry = SyncLogEntry.objects.get(action="failed")
    client.force_login(support_user)
    client.post(reverse("log-entry-replay", args=[slug(pair), entry.pk]))
    drain()  # the cause is still there
    assert InboundEvent.objects.get(pk=entry.event_id).state == EventState.FAILED
    assert SyncLogEntry.objects.filter(action="failed").count() == 2
    run = run_progress(SyncRun.objects.get(kind=RunKind.REPLAY))
    assert run.state == RunState.DONE
    assert row.pk
