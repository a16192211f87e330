"""The alert settings, the banner and the miss-rate table fit a phone's width (390 px) and a desktop's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from alerts.models import AlertSettings, DriftRecord
from integrations.models import Connection, ConnectionStatus
from tests.browser.login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_alert_screens_never_scroll_sideways(page, live_server, world):
    world.rows.dead_letter  # noqa: B018 — made on first use: one dead letter fires an alert
    Connection.objects.filter(pk=world.integration.erp_connection_id).update(
        status=ConnectionStatus.FAILED, failing_since=timezone.now())
    AlertSettings.objects.create(tenant=world.tenant, recipients=[f"drift{n}@nordlys-handel-og-service.dk"
                                                                   for n in range(4)])
    for days_ago in (1, 8, 15, 22):
        DriftRecord.objects.create(tenant=world.tenant, integration=world.integration, entity="organisation",
                                   at=timezone.now() - dt.timedelta(days=days_ago), checked=1200, drift=37)
    log_in(page, live_server, "anna-admin")
    for size in ({"width": 390, "height": 844}, {"width": 1400, "height": 900}):
        page.set_viewport_size(size)
        for path in (f"/t/{world.tenant.slug}/", f"/t/{world.tenant.slug}/settings/"):
            page.goto(live_server.url + path)
            assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, (size, path)
    page.goto(f"{live_server.url}/t/{world.tenant.slug}/")
    assert page.locator("#alerts-banner li").count() == 2
    assert page.locator("#webhook-miss-rates tbody tr").count() == 1
