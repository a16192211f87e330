"""Sync history older than the tenant keeps is removed in batches; whatever still waits for a person is kept."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone
from django_q.models import Schedule

from integrations import tasks
from integrations.models import Conflict, InboundEvent, SyncLogEntry, SyncRun
from integrations.safety import PlannedChange, PossibleMatch
from mappings.models import ConfigChange
from mappings.provenance import latest_version_id
from tenants.access import TenantAccess
from tenants.models import Role, Tenant
from tenants.retention import Budget, history_clean, history_clean_all, retention_cutoff, tenant_retention_set

pytestmark = pytest.mark.django_db

NOW = timezone.now()
OLD = NOW - dt.timedelta(days=120)
RECENT = NOW - dt.timedelta(days=10)


def event(world, *, at=OLD, state="done", run=None, external_id="1", tenant=None, integration=None):
    made = InboundEvent.objects.create(tenant=tenant or world.tenant, integration=integration or world.integration,
                                       system="webcrm", entity="organisation", action="updated",
                                       external_id=external_id, state=state, run=run)
    InboundEvent.objects.filter(pk=made.pk).update(received_at=at)
    return made


def entry(world, *, at=OLD, tenant=None, integration=None, **fields):
    fields.setdefault("entity", "organisation")
    fields.setdefault("action", "updated")
    made = SyncLogEntry.objects.create(tenant=tenant or world.tenant, integration=integration or world.integration,
                                       **fields)
    SyncLogEntry.objects.filter(pk=made.pk).update(at=at)
    return made


def run(world, *, at=OLD, state="done", kind="import"):
    made = SyncRun.objects.create(tenant=world.tenant, integration=world.integration, kind=kind, state=state,
                                  finished_at=at if state in ("done", "failed") else None)
    SyncRun.objects.filter(pk=made.pk).update(started_at=at)
    return made


def conflict(world, *, at=OLD, log_entry=None, winner="erp"):
    made = Conflict.objects.create(tenant=world.tenant, integration=world.integration, entity="organisation",
                                   crm_field="OrganisationCity", erp_field="City", owner="erp", winner=winner,
                                   log_entry=log_entry)
    Conflict.objects.filter(pk=made.pk).update(at=at)
    return made


def exists(row) -> bool:
    return type(row).objects.filter(pk=row.pk).exists()


# -- the rules ----------------------------------------------------------------------------------------------------

def test_the_cutoff_is_the_tenant_s_days_back_and_never_outside_the_bounds():
    assert retention_cutoff(now=NOW, days=90) == NOW - dt.timedelta(days=90)
    assert retention_cutoff(now=NOW, days=1) == NOW - dt.timedelta(days=7)
    assert retention_cutoff(now=NOW, days=99999) == NOW - dt.timedelta(days=3650)


def test_old_finished_history_goes_and_recent_history_stays(world):
    old_run = run(world)
    old_event = event(world, run=old_run)
    old_entry = entry(world, event=old_event, run=old_run)
    old_conflict = conflict(world, log_entry=old_entry)
    preview = run(world, kind="preview")
    planned = PlannedChange.objects.create(tenant=world.tenant, run=preview, entity="organisation", action="update")
    recent_run = run(world, at=RECENT)
    recent_event = event(world, at=RECENT, external_id="2")
    recent_entry = entry(world, at=RECENT, event=recent_event, run=recent_run)
    result = history_clean(tenant=world.tenant, now=NOW)
    assert result.complete
    assert result.removed == {"conflicts": 1, "log_entries": 1, "events": 1, "runs": 2}
    assert not any(exists(row) for row in (old_run, old_event, old_entry, old_conflict, preview, planned))
    assert all(exists(row) for row in (recent_run, recent_event, recent_entry))


def test_what_waits_for_a_person_is_kept_however_old(world):
    dead_letter = event(world, state="failed", external_id="dl")
    dead_entry = entry(world, action="failed", event=dead_letter)
    waiting = event(world, state="pending", external_id="w")
    processing = event(world, state="processing", external_id="p")
    fixable = event(world, state="done", external_id="fix")
    fixable_entry = entry(world, action="skipped", replayable=True, replayed=False, event=fixable)
    replayed_entry = entry(world, action="skipped", replayable=True, replayed=True,
                           event=event(world, external_id="replayed"))
    unresolved = conflict(world, winner="", log_entry=entry(world, action="conflict"))
    held = run(world, state="held")
    running = run(world, state="running")
    PossibleMatch.objects.create(tenant=world.tenant, integration=world.integration, entity="organisation",
                                 source_role="crm", source_id="305")
    match_entry = entry(world, action="review", crm_id="305")
    decided_entry = entry(world, action="review", crm_id="306")
    history_clean(tenant=world.tenant, now=NOW)
    kept = (dead_letter, dead_entry, waiting, processing, fixable, fixable_entry, unresolved, unresolved.log_entry,
            held, running, match_entry)
    assert all(exists(row) for row in kept)
    assert not exists(replayed_entry) and not exists(decided_entry)
    dead_entry.refresh_from_db()
    fixable_entry.refresh_from_db()
    assert dead_entry.event_id == dead_letter.pk and fixable_entry.event_id == fixable.pk  # nothing came loose


def test_a_kept_row_keeps_what_it_points_at(world):
    old_run = run(world)
    old_event = event(world, run=old_run)
    newer = entry(world, at=RECENT, event=old_event, run=old_run)  # an old change processed again lately
    later_conflict = conflict(world, at=RECENT, log_entry=entry(world))
    history_clean(tenant=world.tenant, now=NOW)
    assert exists(old_run) and exists(old_event) and exists(later_conflict.log_entry)
    newer.refresh_from_db()
    later_conflict.refresh_from_db()
    assert (newer.event_id, newer.run_id) == (old_event.pk, old_run.pk)
    assert later_conflict.log_entry_id is not None


def test_the_audit_trail_and_the_version_a_kept_entry_names_stay(world):
    version = latest_version_id(integration_id=world.integration.pk)
    changes = ConfigChange.objects.count()
    ConfigChange.objects.update(at=OLD)
    kept = entry(world, action="failed", event=event(world, state="failed"), config_version_id=version)
    entry(world, config_version_id=version)
    history_clean(tenant=world.tenant, now=NOW)
    assert ConfigChange.objects.count() == changes
    kept.refresh_from_db()
    assert kept.config_version_id == version


def test_each_tenant_is_cleaned_by_its_own_retention_only(world):
    Tenant.objects.filter(pk=world.other_tenant.pk).update(retention_days=365)
    mine = entry(world)
    theirs = entry(world, tenant=world.other_tenant, integration=world.other_integration)
    history_clean_all(budget=Budget(), now=NOW)
    assert not exists(mine) and exists(theirs)
    world.tenant.refresh_from_db()
    assert world.tenant.history_cleaned_at is not None
    assert world.tenant.history_removed == {"conflicts": 0, "log_entries": 1, "events": 0, "runs": 0,
                                            "complete": True}


# -- batches and budgets ---------------------------------------------------------------------------------------------

def test_rows_go_in_batches_and_a_spent_budget_leaves_the_rest_for_the_next_run(world):
    entries = [entry(world, crm_id=str(n)) for n in range(7)]
    first = history_clean(tenant=world.tenant, now=NOW, budget=Budget(rows=5), batch_size=2)
    assert first.removed["log_entries"] == 5 and not first.complete
    assert SyncLogEntry.objects.filter(pk__in=[e.pk for e in entries]).count() == 2
    world.tenant.refresh_from_db()
    assert world.tenant.history_removed["complete"] is False
    second = history_clean(tenant=world.tenant, now=NOW, budget=Budget(rows=5), batch_size=2)
    assert second.removed["log_entries"] == 2 and second.complete
    assert not SyncLogEntry.objects.filter(pk__in=[e.pk for e in entries]).exists()


def test_a_budget_out_of_time_stops_before_the_next_batch(world):
    entries = [entry(world, crm_id=str(n)) for n in range(4)]
    budget = Budget(seconds=5, clock=lambda: 0.0)
    budget.clock = lambda: 10.0 if budget.removed else 0.0  # the first batch takes all the time there is
    result = history_clean(tenant=world.tenant, now=NOW, budget=budget, batch_size=2)
    assert result.removed["log_entries"] == 2 and not result.complete
    assert SyncLogEntry.objects.filter(pk__in=[e.pk for e in entries]).count() == 2


def test_the_clean_up_runs_daily_on_the_bulk_workers():
    tasks.schedules_ensure()
    schedule = Schedule.objects.get(func="tenants.tasks.history_clean_task")
    assert schedule.minutes == 24 * 60 and schedule.cluster is None  # no cluster: the default, bulk one


# -- the setting ----------------------------------------------------------------------------------------------------

def test_the_service_refuses_a_number_outside_the_bounds(world):
    with pytest.raises(ValueError):
        tenant_retention_set(tenant=world.tenant, days=6)
    tenant_retention_set(tenant=world.tenant, days=30)
    world.tenant.refresh_from_db()
    assert world.tenant.retention_days == 30


def _post(client, world, user, value):
    client.force_login(user)
    return client.post(f"/t/{world.tenant.slug}/settings/retention/", {"retention_days": value})


def test_an_admin_changes_the_retention_and_is_sent_back_to_the_settings(client, world):
    response = _post(client, world, world.admin, "30")
    assert response.status_code == 302 and response["Location"] == f"/t/{world.tenant.slug}/settings/#retention"
    world.tenant.refresh_from_db()
    assert world.tenant.retention_days == 30
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Sync history is now kept for 30 days; the next daily clean-up applies it."]


@pytest.mark.parametrize("value", ["3", "5000", "ninety", ""])
def test_a_wrong_number_changes_nothing_and_says_why(client, world, value):
    response = _post(client, world, world.admin, value)
    assert response.status_code == 302
    world.tenant.refresh_from_db()
    assert world.tenant.retention_days == 90
    [message] = [str(m) for m in response.wsgi_request._messages]
    assert message.startswith("The history setting was not changed.")


@pytest.mark.parametrize("role", ["customer", "support"])
def test_only_an_admin_may_change_the_retention(client, world, role):
    assert _post(client, world, getattr(world, role), "30").status_code == 403
    world.tenant.refresh_from_db()
    assert world.tenant.retention_days == 90


def test_a_stranger_gets_404_and_a_get_is_not_allowed(client, world):
    assert _post(client, world, world.outsider, "30").status_code == 404
    client.force_login(world.admin)
    assert client.get(f"/t/{world.tenant.slug}/settings/retention/").status_code == 405
    world.tenant.refresh_from_db()
    assert world.tenant.retention_days == 90


def _render(world, role):
    request = RequestFactory().get(f"/t/{world.tenant.slug}/settings/")
    request.user = getattr(world, role)
    request.access = TenantAccess(tenant=world.tenant, role=Role(role))
    request.META["CSRF_COOKIE"] = "x" * 32
    return render_to_string("tenants/_retention.html", {"tenant": world.tenant, "request": request}, request=request)


def test_the_settings_part_offers_the_form_to_admins_and_shows_the_last_clean_up(world):
    Tenant.objects.filter(pk=world.tenant.pk).update(
        history_cleaned_at=NOW, history_removed={"conflicts": 1, "log_entries": 1200, "events": 300, "runs": 2,
                                                 "complete": False})
    world.tenant.refresh_from_db()
    html = _render(world, "admin")
    assert f'action="/t/{world.tenant.slug}/settings/retention/"' in html and 'value="90"' in html
    assert '<button type="submit">Save</button>' in html and "disabled" not in html
    assert "removed 1200 log entries, 300 changes that arrived, 2 runs and 1 conflict" in html
    assert "more is left for the next clean-up" in html


def test_the_settings_part_is_read_only_for_others(world):
    html = _render(world, "customer")
    assert "disabled" in html and "<button" not in html and "Only an administrator can change this." in html
    assert "No clean-up has run yet." in html


def test_the_tenant_settings_screen_carries_the_retention_part(client, world):
    client.force_login(world.admin)
    body = client.get(f"/t/{world.tenant.slug}/settings/").content.decode()
    assert 'id="retention"' in body and f'action="/t/{world.tenant.slug}/settings/retention/"' in body
