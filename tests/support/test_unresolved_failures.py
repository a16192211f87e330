"""A failure counts until the same record is synced: the dashboard, the chart, the dead letters and the replay offers
leave out failures a later success of the same record (integration, entity, ids, direction) resolved."""

from __future__ import annotations

from integrations.models import EventState, InboundEvent, SyncLogEntry
from support.selectors import (
    dashboard,
    dead_letters,
    hourly_activity,
    log_entry_replayable,
    queue_overview,
    unresolved_failures,
)
from support.services import replay_entries


def parked(world, crm_id: str) -> InboundEvent:
    return InboundEvent.objects.create(tenant=world.tenant, integration=world.integration, system="webcrm",
                                       entity="organisation", action="updated", external_id=crm_id,
                                       state=EventState.FAILED)


def test_a_failure_resolved_by_a_later_success_of_the_same_record_no_longer_counts(world, log):
    fixed = log(minutes_ago=30, action="failed", crm_id="17", event=parked(world, "17"))
    log(minutes_ago=10, action="updated", crm_id="17", erp_id="D17")
    still = log(minutes_ago=30, action="failed", crm_id="18", event=parked(world, "18"))
    log(minutes_ago=40, action="created", crm_id="18", erp_id="D18")  # before the failure: resolves nothing
    other_way = log(minutes_ago=30, action="failed", direction="to_crm", crm_id="", erp_id="D19")
    log(minutes_ago=5, action="updated", direction="to_erp", crm_id="19", erp_id="D19")  # the other direction
    skipped_since = log(minutes_ago=30, action="failed", crm_id="20")
    log(minutes_ago=5, action="skipped", crm_id="20")  # a skip proves nothing was synced

    open_ids = set(unresolved_failures(tenant=world.tenant).values_list("pk", flat=True))
    assert open_ids == {still.pk, other_way.pk, skipped_since.pk}
    assert fixed.pk not in open_ids
    [health] = [h for h in dashboard(tenant=world.tenant) if h.integration == world.integration]
    assert health.failed_24h == 3
    assert sum(b.failures for b in hourly_activity(tenant=world.tenant)) == 3
    # What is parked for a resolved failure is neither listed, counted, nor offered for replay.
    assert {e.external_id for e in dead_letters(tenant=world.tenant)} >= {"18"}
    assert "17" not in {e.external_id for e in dead_letters(tenant=world.tenant)}
    assert queue_overview(tenant=world.tenant, staff=False).failed_events == dead_letters(tenant=world.tenant).count()
    assert not log_entry_replayable(SyncLogEntry.objects.get(pk=fixed.pk))
    assert log_entry_replayable(SyncLogEntry.objects.get(pk=still.pk))
    outcome = replay_entries(tenant=world.tenant, entries=SyncLogEntry.objects.filter(pk__in=[fixed.pk, still.pk]))
    assert outcome.put_back == 1
    assert InboundEvent.objects.get(external_id="17").state == EventState.FAILED


def test_a_later_success_of_another_tenant_or_integration_resolves_nothing(world, log):
    failure = log(minutes_ago=30, action="failed", crm_id="17")
    log(minutes_ago=5, action="updated", crm_id="17", integration=world.other_integration)
    assert failure.pk in set(unresolved_failures(tenant=world.tenant).values_list("pk", flat=True))
    assert not unresolved_failures(tenant=world.other_tenant).filter(pk=failure.pk).exists()


def test_the_dashboard_and_the_dead_letters_screen_say_so(client, world, log):
    event = parked(world, "17")
    failure = log(minutes_ago=30, action="failed", crm_id="17", event=event)
    open_failure = log(minutes_ago=30, action="failed", crm_id="18", event=parked(world, "18"))
    log(minutes_ago=10, action="updated", crm_id="17", erp_id="D17")
    client.force_login(world.support)
    detail = client.get(f"/t/{world.tenant.slug}/log/{failure.pk}/").content.decode()
    assert "synced since by a later change of the record; nothing to replay" in detail
    assert "Failed (parked, can be replayed)" not in detail and "/replay/" not in detail
    open_detail = client.get(f"/t/{world.tenant.slug}/log/{open_failure.pk}/").content.decode()
    assert "Failed (parked, can be replayed)" in open_detail and "nothing to replay" not in open_detail
    page = client.get(f"/t/{world.tenant.slug}/dead-letters/").content.decode()
    assert f'data-event="{event.pk}"' not in page
    assert "1 earlier failed change is not listed: its record was synced since by a later change." in page
    log_page = client.get(f"/t/{world.tenant.slug}/log/?action=failed&unresolved=on").content.decode()
    assert "Only failures not synced since" in log_page


def test_a_failure_whose_replayed_change_found_nothing_left_to_write_no_longer_counts(world, log):
    """The record was put back as it was last synced and the replay ended well without writing: settled."""
    from alerts.selectors import dead_letters_count

    settled_event, open_event = parked(world, "21"), parked(world, "22")
    settled = log(minutes_ago=30, action="failed", crm_id="21", event=settled_event)
    still = log(minutes_ago=30, action="failed", crm_id="22", event=open_event)
    InboundEvent.objects.filter(pk=settled_event.pk).update(
        state=EventState.DONE, last_error="No mapped field changed since the last sync (or it was our own write).")
    open_ids = set(unresolved_failures(tenant=world.tenant).values_list("pk", flat=True))
    assert settled.pk not in open_ids and still.pk in open_ids
    # the alert counts the dead letters the screen lists
    assert dead_letters_count(tenant=world.tenant) == dead_letters(tenant=world.tenant).count() == 1
