"""The runs page with its polled rows, conflicts, and webhook health with registration."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import EventSource, InboundEvent, SyncLogEntry, SyncRun, WebhookStat

from .conftest import url

pytestmark = pytest.mark.django_db


def test_a_running_import_polls_its_row_and_shows_progress_from_its_events(client, world, log):
    run = SyncRun.objects.create(tenant=world.tenant, integration=world.integration, kind="import",
                                 entity="organisation", total=4)
    for n in range(4):
        InboundEvent.objects.create(tenant=world.tenant, integration=world.integration, system="uniconta",
                                    entity="organisation", action="updated", external_id=f"i{n}", run=run,
                                    source=EventSource.IMPORT, state="done" if n < 3 else "pending")
    log(action="created", run=run)
    log(action="created", run=run)
    log(action="skipped", run=run)
    client.force_login(world.customer)
    page = client.get(url("run-list", world)).content.decode()
    row = page[page.index(f'id="run-{run.pk}"'):]
    row = row[:row.index("</tr>")]
    assert 'hx-trigger="every 2s"' in row and url("run-row", world, run.pk) in row
    assert 'value="3" max="4"' in row and "2 created" in row and "1 skipped" in row

    InboundEvent.objects.filter(run=run).update(state="done")
    partial = client.get(url("run-row", world, run.pk), HTTP_HX_REQUEST="true").content.decode()
    assert partial.startswith("<tr") and 'value="4" max="4"' in partial
    assert "hx-trigger" not in partial  # finished: polling stops
    run.refresh_from_db()
    assert run.state == "done" and run.finished_at is not None


def test_a_reconciliation_shows_its_drift_and_duration(client, world):
    start = timezone.now() - dt.timedelta(minutes=3)
    run = SyncRun.objects.create(tenant=world.tenant, integration=world.integration, kind="reconcile",
                                 entity="organisation", state="done", drift=5, done=120)
    SyncRun.objects.filter(pk=run.pk).update(started_at=start, finished_at=start + dt.timedelta(minutes=2))
    client.force_login(world.support)
    page = client.get(url("run-list", world)).content.decode()
    row = page[page.index(f'id="run-{run.pk}"'):]
    row = row[:row.index("</tr>")]
    assert "2\xa0minutes" in row and '<td data-label="Drift" class="num">5</td>' in row and "hx-trigger" not in row


def test_conflicts_show_both_values_and_the_owners_decision(client, world):
    assert world.rows.conflict.winner == "erp"
    client.force_login(world.customer)
    body = client.get(url("conflict-list", world)).content.decode()
    assert "OrganisationCity" in body and "Aarhus" in body and "Århus" in body and "ERP wins" in body
    other = client.get(url("conflict-list", world), {"integration": world.rows.pos_integration.pk})
    assert "OrganisationCity" not in other.content.decode()
    client.force_login(world.support)
    assert client.get(url("conflict-list", world), {"integration": world.other_integration.pk}).status_code == 404


def test_webhook_health_counts_the_last_24_hours_and_shows_the_last_error(client, world):
    integration = world.integration
    InboundEvent.objects.filter(integration=integration).delete()
    now = timezone.now()
    for n, hours_ago in enumerate((1, 5, 30)):
        event = InboundEvent.objects.create(tenant=world.tenant, integration=integration, system="webcrm",
                                            entity="organisation", action="updated", external_id=f"w{n}",
                                            state="done", source=EventSource.WEBHOOK, deliveries=n + 1,
                                            notices=n + 1)
        InboundEvent.objects.filter(pk=event.pk).update(received_at=now - dt.timedelta(hours=hours_ago),
                                                        last_notice_at=now - dt.timedelta(hours=hours_ago))
    InboundEvent.objects.create(tenant=world.tenant, integration=integration, system="webcrm", entity="organisation",
                                action="updated", external_id="polled", state="done", source=EventSource.POLL)
    WebhookStat.objects.create(tenant=world.tenant, integration=integration, system="webcrm", entity="organisation",
                               received=40, dropped_by_toggle=2, last_received_at=now - dt.timedelta(hours=1),
                               last_error="The signature did not match", last_error_at=now)
    client.force_login(world.admin)
    response = client.get(url("webhook-health", world, integration.pk))
    [organisations] = [h for h in response.context["systems"][0]["rows"] if h.entity == "organisation"]
    # notices in the last day, as "ever" counts them: the second change came twice; "ever" adds the stored notices
    # (1 + 2 + 3) to the counter's (notices no event holds), so the day's figure is always part of it
    assert organisations.received_24h == 1 + 2 and organisations.total_received == 40 + 6
    assert organisations.last_error == "The signature did not match"
    body = response.content.decode()
    assert "The signature did not match" in body and "Register in" in body


def test_registering_webhooks_shows_each_systems_answer(client, world, monkeypatch):
    from integrations.services import RegistrationResult
    from support import views

    calls = []

    def register(*, integration):
        calls.append(integration)
        return [RegistrationResult("webcrm", "webCRM", True, "Registered 4 hooks."),
                RegistrationResult("uniconta", "Uniconta", False, "Open Uniconta → Company → Webhooks and paste …")]

    monkeypatch.setattr(views, "integration_webhooks_register", register)
    client.force_login(world.admin)
    body = client.post(url("webhook-register", world, world.integration.pk)).content.decode()
    assert calls == [world.integration]
    assert "Registered 4 hooks." in body and "Open Uniconta → Company → Webhooks" in body


def test_log_entries_of_a_run_link_back_to_it(client, world, log):
    entry = log(action="failed", run=world.rows.run)
    client.force_login(world.support)
    body = client.get(url("log-detail", world, entry.pk)).content.decode()
    assert "Initial import" in body
    assert SyncLogEntry.objects.filter(run=world.rows.run).count() == 2


def test_the_days_notices_are_never_more_than_ever_when_an_import_event_absorbed_one(client, world):
    """A notice that joined an import's waiting event is counted on that event: in the day's figure and in "ever"."""
    integration = world.integration
    InboundEvent.objects.filter(integration=integration).delete()
    InboundEvent.objects.create(tenant=world.tenant, integration=integration, system="webcrm", entity="organisation",
                                action="updated", external_id="i1", state="done", source=EventSource.WEBHOOK,
                                deliveries=2, notices=1, last_notice_at=timezone.now())  # promoted import event
    client.force_login(world.admin)
    response = client.get(url("webhook-health", world, integration.pk))
    [organisations] = [h for h in response.context["systems"][0]["rows"] if h.entity == "organisation"]
    assert organisations.received_24h == 1 == organisations.total_received
