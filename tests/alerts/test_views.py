"""The "Alerts and data" screen, the dashboard banner and the webhook-miss table."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import AlertSettings, DriftRecord
from integrations.models import Connection, ConnectionStatus, EventState, InboundEvent

pytestmark = pytest.mark.django_db

VALID = {"recipients": "drift@nordlys.dk\nit@nordlys.dk, Drift@Nordlys.dk", "failures_enabled": "on",
         "failures_threshold": "25", "dead_letters_enabled": "on", "dead_letters_threshold": "3",
         "webhook_silent_hours": "12", "connection_failing_enabled": "on"}


def settings_url(tenant) -> str:
    return reverse("tenant-settings", kwargs={"tenant_slug": tenant.slug})


def home_url(tenant) -> str:
    return reverse("tenant-home", kwargs={"tenant_slug": tenant.slug})


def test_an_admin_saves_recipients_and_thresholds(client, world):
    client.force_login(world.admin)
    page = client.get(settings_url(world.tenant))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="alert-settings"' in body and "Save alert settings" in body and "read-only-note" not in body
    assert 'value="10"' in body and 'value="6"' in body  # the defaults, before anything is saved
    response = client.post(settings_url(world.tenant), VALID)
    assert response.status_code == 302
    saved = AlertSettings.objects.get(tenant=world.tenant)
    assert saved.recipients == ["drift@nordlys.dk", "it@nordlys.dk"]  # one per address, whatever its case
    assert (saved.failures_threshold, saved.dead_letters_threshold, saved.webhook_silent_hours) == (25, 3, 12)
    assert saved.failures_enabled and saved.dead_letters_enabled and saved.connection_failing_enabled
    assert not saved.webhook_silent_enabled  # an unticked box switches the kind off
    assert "drift@nordlys.dk\nit@nordlys.dk" in client.get(settings_url(world.tenant)).content.decode()


@pytest.mark.parametrize(("field", "value", "words"), [
    ("recipients", "drift@nordlys.dk\nnot-an-address", "“not-an-address” is not an e-mail address."),
    ("recipients", "a@", "“a@” is not an e-mail address."),
    ("recipients", "\n".join(f"p{n}@nordlys.dk" for n in range(21)), "At most 20 recipients; this lists 21."),
    ("failures_threshold", "0", "greater than or equal to 1"),
    ("dead_letters_threshold", "many", "Enter a whole number."),
    ("webhook_silent_hours", "169", "less than or equal to 168"),
    ("webhook_silent_hours", "", "This field is required."),
])
def test_bad_input_is_a_form_error_and_nothing_is_saved(client, world, field, value, words):
    client.force_login(world.admin)
    response = client.post(settings_url(world.tenant), {**VALID, field: value})
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not AlertSettings.objects.filter(tenant=world.tenant).exists()


@pytest.mark.parametrize("role", ["customer", "support"])
def test_others_read_the_settings_but_cannot_change_them(client, world, role):
    AlertSettings.objects.create(tenant=world.tenant, recipients=["drift@nordlys.dk"], failures_threshold=25)
    client.force_login(getattr(world, role))
    body = client.get(settings_url(world.tenant)).content.decode()
    assert f"Only administrators of {world.tenant.name} can change these settings." in body
    assert '<fieldset class="plain" disabled>' in body and "Save alert settings" not in body
    assert "drift@nordlys.dk" in body and 'value="25"' in body
    assert client.post(settings_url(world.tenant), VALID).status_code == 403
    assert AlertSettings.objects.get(tenant=world.tenant).failures_threshold == 25


def test_a_stranger_gets_404_and_the_nav_links_the_screen(client, world):
    client.force_login(world.outsider)
    assert client.get(settings_url(world.tenant)).status_code == 404
    assert client.post(settings_url(world.tenant), VALID).status_code == 404
    client.force_login(world.customer)
    assert f'href="{settings_url(world.tenant)}"' in client.get(home_url(world.tenant)).content.decode()


def test_the_banner_lists_firing_alerts_with_links_and_is_gone_when_all_is_well(client, world):
    client.force_login(world.customer)
    assert 'id="alerts-banner"' not in client.get(home_url(world.tenant)).content.decode()
    InboundEvent.objects.create(tenant=world.tenant, integration=world.integration, system="webcrm",
                                entity="organisation", action="updated", external_id="17", state=EventState.FAILED)
    Connection.objects.filter(pk=world.integration.erp_connection_id).update(status=ConnectionStatus.FAILED)
    body = client.get(home_url(world.tenant)).content.decode()
    assert 'id="alerts-banner"' in body and "2 alerts" in body
    assert "1 change waits as dead letters for a person to replay (threshold 1)." in body
    assert f'href="/t/{world.tenant.slug}/dead-letters/"' in body
    assert f'href="/t/{world.tenant.slug}/connections/"' in body
    # Switched off, they leave the banner.
    AlertSettings.objects.create(tenant=world.tenant, dead_letters_enabled=False, connection_failing_enabled=False)
    assert 'id="alerts-banner"' not in client.get(home_url(world.tenant)).content.decode()


def test_the_dashboard_shows_the_webhook_miss_rate_per_integration_and_week(client, world):
    now = timezone.now()
    for days_ago, checked, drift in ((1, 200, 6), (2, 200, 2), (9, 100, 10), (40, 100, 50)):
        DriftRecord.objects.create(tenant=world.tenant, integration=world.integration, entity="organisation",
                                   at=now - dt.timedelta(days=days_ago), checked=checked, drift=drift)
    DriftRecord.objects.create(tenant=world.other_tenant, integration=world.other_integration, entity="organisation",
                               at=now - dt.timedelta(days=1), checked=10, drift=10)
    client.force_login(world.customer)
    body = client.get(home_url(world.tenant)).content.decode()
    assert 'id="webhook-miss-rates"' in body
    assert f'data-integration="{world.integration.pk}"' in body
    assert f'data-integration="{world.other_integration.pk}"' not in body
    assert '2.0%</span> <span class="muted">(8/400)</span>' in body  # this week: 8 of 400
    assert '10.0%</span> <span class="muted">(10/100)</span>' in body  # the week before
    assert 'data-total-percent="3.6"' in body  # 18 of 500 over 4 weeks; the 40-day-old run is outside


def test_the_miss_rate_table_is_absent_without_reconciliations(client, world):
    client.force_login(world.admin)
    assert 'id="webhook-miss-rates"' not in client.get(home_url(world.tenant)).content.decode()
