"""Which alerts fire, with what words and links: each kind at, under and over its threshold, and switched off."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from alerts.models import AlertSettings
from alerts.rules import AlertKind, alerts_firing
from integrations.models import (
    Connection,
    ConnectionStatus,
    EventSource,
    EventState,
    InboundEvent,
    LogAction,
    SyncLogEntry,
    WebhookStat,
)

pytestmark = pytest.mark.django_db

#: A fixed afternoon in the installation's zone, so the sentences' clock times are known.
NOW = dt.datetime(2026, 11, 27, 16, 0, tzinfo=timezone.get_current_timezone())


def local(hour: int, minute: int = 0) -> dt.datetime:
    return NOW.replace(hour=hour, minute=minute)


def failures(world, n: int, *, at: dt.datetime, tenant=None, integration=None, **fields) -> None:
    tenant, integration = tenant or world.tenant, integration or world.integration
    for i in range(n):
        entry = SyncLogEntry.objects.create(tenant=tenant, integration=integration, entity="organisation",
                                            action=LogAction.FAILED, direction="to_erp", crm_id=f"{i + 100}",
                                            error="Uniconta refused the data", **fields)
        SyncLogEntry.objects.filter(pk=entry.pk).update(at=at)


def kinds(world, **settings) -> dict[str, list]:
    if settings:
        AlertSettings.objects.update_or_create(tenant=world.tenant, defaults=settings)
    firing: dict[str, list] = {}
    for alert in alerts_firing(tenant=world.tenant, now=NOW):
        firing.setdefault(alert.kind, []).append(alert)
    return firing


# -- failures --------------------------------------------------------------------------------------------------

def test_failures_fire_at_the_threshold_with_the_count_and_a_link_to_the_failed_log(world):
    failures(world, 9, at=local(15, 30))
    assert AlertKind.FAILURES not in kinds(world)
    failures(world, 5, at=local(15, 45))
    [alert] = kinds(world)[AlertKind.FAILURES]
    assert alert.sentence == "14 changes failed in the last hour (threshold 10)."
    assert alert.link == f"/t/{world.tenant.slug}/log/?action=failed&unresolved=on"


def test_failures_count_only_the_last_hour_unreplayed_unresolved_and_own_tenant(world):
    failures(world, 3, at=local(14, 59))  # older than an hour
    failures(world, 3, at=local(15, 30), replayed=True)  # put back in the queue by a person
    failures(world, 5, at=local(15, 30), tenant=world.other_tenant, integration=world.other_integration)
    failures(world, 2, at=local(15, 30))
    # A later success of the same record resolves its failure.
    ok = SyncLogEntry.objects.create(tenant=world.tenant, integration=world.integration, entity="organisation",
                                     action=LogAction.UPDATED, direction="to_erp", crm_id="100")
    SyncLogEntry.objects.filter(pk=ok.pk).update(at=local(15, 40))
    assert AlertKind.FAILURES not in kinds(world, failures_threshold=2)
    [alert] = kinds(world, failures_threshold=1)[AlertKind.FAILURES]
    assert alert.sentence == "1 change failed in the last hour (threshold 1)."


def test_failures_switched_off_never_fire(world):
    failures(world, 20, at=local(15, 30))
    assert AlertKind.FAILURES in kinds(world)
    assert AlertKind.FAILURES not in kinds(world, failures_enabled=False)


# -- dead letters ----------------------------------------------------------------------------------------------

def dead_letter(world, external_id: str, *, tenant=None, integration=None, state=EventState.FAILED) -> None:
    InboundEvent.objects.create(tenant=tenant or world.tenant, integration=integration or world.integration,
                                system="webcrm", entity="organisation", action="updated", external_id=external_id,
                                state=state, last_error="Uniconta refused the data")


def test_one_dead_letter_fires_by_default_and_the_threshold_holds_it_back(world):
    assert AlertKind.DEAD_LETTERS not in kinds(world)
    dead_letter(world, "17")
    dead_letter(world, "18", state=EventState.DONE)
    dead_letter(world, "19", tenant=world.other_tenant, integration=world.other_integration)
    [alert] = kinds(world)[AlertKind.DEAD_LETTERS]
    assert alert.sentence == "1 change waits as dead letters for a person to replay (threshold 1)."
    assert alert.link == f"/t/{world.tenant.slug}/dead-letters/"
    assert AlertKind.DEAD_LETTERS not in kinds(world, dead_letters_threshold=2)
    dead_letter(world, "20")
    assert kinds(world)[AlertKind.DEAD_LETTERS][0].sentence.startswith("2 changes wait as dead letters")
    assert AlertKind.DEAD_LETTERS not in kinds(world, dead_letters_enabled=False)


# -- a webhook gone silent -------------------------------------------------------------------------------------

def found(world, n: int, *, system: str, source: str, at: dt.datetime, integration=None, tenant=None) -> None:
    for i in range(n):
        event = InboundEvent.objects.create(
            tenant=tenant or world.tenant, integration=integration or world.integration, system=system,
            entity="organisation", action="updated", external_id=f"{source}-{i}", source=source,
            state=EventState.DONE)
        InboundEvent.objects.filter(pk=event.pk).update(received_at=at)


def last_notice(world, system: str, at: dt.datetime | None, integration=None) -> None:
    integration = integration or world.integration
    WebhookStat.objects.update_or_create(tenant=integration.tenant, integration=integration, system=system,
                                         entity="organisation", defaults={"received": 5, "last_received_at": at})


@pytest.fixture
def demo(world):
    world.integration.name = "Demo A/S ↔ Uniconta"
    world.integration.save(update_fields=["name"])
    from integrations.models import Integration
    Integration.objects.filter(pk=world.integration.pk).update(created_at=NOW - dt.timedelta(days=30))
    world.integration.refresh_from_db()
    return world


def test_a_silent_webhook_whose_changes_the_reconciliation_found_fires_with_the_evidence(demo):
    last_notice(demo, "webcrm", local(9))
    last_notice(demo, "uniconta", local(15, 50))
    found(demo, 12, system="webcrm", source=EventSource.RECONCILE, at=local(14, 5))
    found(demo, 4, system="uniconta", source=EventSource.RECONCILE, at=local(14, 5))  # its notices still arrive
    [alert] = kinds(demo)[AlertKind.WEBHOOK_SILENT]
    assert alert.sentence == (
        "webCRM has sent no notice to “Demo A/S ↔ Uniconta” for 7 hours, but the reconciliation at 14:05 found "
        "12 changes webhooks had missed — its webhook is probably not working.")
    assert alert.link == f"/t/{demo.tenant.slug}/integrations/{demo.integration.pk}/webhook-health/"
    assert alert.key == f"webhook_silent:{demo.integration.pk}:webcrm"


def test_silence_alone_or_changes_alone_or_a_short_silence_fire_nothing(demo):
    last_notice(demo, "webcrm", local(9))
    assert AlertKind.WEBHOOK_SILENT not in kinds(demo)  # quiet, but nothing changed: no evidence it is broken
    found(demo, 3, system="webcrm", source=EventSource.RECONCILE, at=local(8))  # found before the window
    assert AlertKind.WEBHOOK_SILENT not in kinds(demo)
    found(demo, 3, system="webcrm", source=EventSource.WEBHOOK, at=local(14))  # notices are no evidence of missing
    assert AlertKind.WEBHOOK_SILENT not in kinds(demo)
    found(demo, 2, system="webcrm", source=EventSource.RECONCILE, at=local(15))
    assert AlertKind.WEBHOOK_SILENT in kinds(demo)
    assert AlertKind.WEBHOOK_SILENT not in kinds(demo, webhook_silent_hours=8)  # quiet 7 h, not yet 8
    assert AlertKind.WEBHOOK_SILENT not in kinds(demo, webhook_silent_hours=6, webhook_silent_enabled=False)


def test_a_system_that_never_sent_a_notice_while_polling_finds_changes(demo):
    found(demo, 1, system="uniconta", source=EventSource.POLL, at=local(15))
    [alert] = kinds(demo)[AlertKind.WEBHOOK_SILENT]
    assert alert.sentence == (
        "Uniconta has never sent a notice to “Demo A/S ↔ Uniconta”, but polling found 1 change in that time — its "
        "webhook is probably not working.")


def test_a_paused_integration_or_a_new_one_is_not_silent(demo):
    found(demo, 5, system="webcrm", source=EventSource.RECONCILE, at=local(15))
    from integrations.models import Integration
    Integration.objects.filter(pk=demo.integration.pk).update(created_at=local(12))
    assert AlertKind.WEBHOOK_SILENT not in kinds(demo)  # made 4 hours ago: not silent for 6 hours yet
    Integration.objects.filter(pk=demo.integration.pk).update(created_at=local(1), active=False)
    assert AlertKind.WEBHOOK_SILENT not in kinds(demo)  # paused: its webhooks are taken down on purpose
    # Switched on again 2 hours ago after a long pause: its last notice is days old, but none was due before.
    last_notice(demo, "webcrm", NOW - dt.timedelta(days=3))
    Integration.objects.filter(pk=demo.integration.pk).update(active=True, activated_at=local(14))
    assert AlertKind.WEBHOOK_SILENT not in kinds(demo)
    Integration.objects.filter(pk=demo.integration.pk).update(activated_at=local(9, 30))
    [alert] = kinds(demo)[AlertKind.WEBHOOK_SILENT]
    assert "for 72 hours" in alert.sentence


# -- connections -----------------------------------------------------------------------------------------------

def test_a_connection_whose_credentials_are_refused_fires_until_it_works(world):
    assert AlertKind.CONNECTION_FAILING not in kinds(world)
    Connection.objects.filter(pk=world.integration.erp_connection_id).update(
        status=ConnectionStatus.FAILED, failing_since=local(13, 20), last_error="Uniconta refused the credentials.")
    Connection.objects.filter(pk=world.other_integration.erp_connection_id).update(status=ConnectionStatus.FAILED)
    [alert] = kinds(world)[AlertKind.CONNECTION_FAILING]
    name = world.integration.erp_connection.name
    assert alert.sentence == (f"Uniconta refuses the credentials of the connection “{name}” since 13:20: nothing "
                              f"of it syncs until they are corrected.")
    assert alert.link == f"/t/{world.tenant.slug}/connections/"
    assert AlertKind.CONNECTION_FAILING not in kinds(world, connection_failing_enabled=False)
    AlertSettings.objects.filter(tenant=world.tenant).update(connection_failing_enabled=True)
    Connection.objects.filter(pk=world.integration.erp_connection_id).update(status=ConnectionStatus.OK,
                                                                              failing_since=None)
    assert AlertKind.CONNECTION_FAILING not in kinds(world)


def test_nothing_fires_for_a_quiet_tenant(world):
    assert alerts_firing(tenant=world.tenant, now=NOW) == []


def test_the_evaluation_costs_the_same_few_queries_however_many_integrations(world, django_assert_max_num_queries):
    from tests.factories import IntegrationFactory

    with django_assert_max_num_queries(7):
        alerts_firing(tenant=world.tenant, now=NOW)
    for _ in range(4):
        IntegrationFactory(tenant=world.tenant)
    with django_assert_max_num_queries(7):
        alerts_firing(tenant=world.tenant, now=NOW)
