"""The main screens in a browser at 1400 × 900 and on a phone at 390 × 844: nothing wider than the screen, dates on
one line, a chart where a quiet day is visible beside a busy one, and forms that keep what a person chose.

Set ``SCREENSHOTS_DIR`` to keep a screenshot of every main screen at both sizes there.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path

import pytest
from django.utils import timezone

from integrations.models import SyncLogEntry, SyncRun
from mappings.models import ConfigChange
from tests.browser.login import log_in
from tests.factories import ConnectionFactory, IntegrationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = os.environ.get("SCREENSHOTS_DIR", "")


def shoot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        size = page.viewport_size
        page.screenshot(path=f"{SHOTS}/{name}-{size['width']}.png", full_page=True)


def seed_activity(world, *, busy: int, quiet: int) -> None:
    """``busy`` syncs today and ``quiet`` syncs three days ago, with a couple of failures."""
    integration = world.integration
    now = timezone.localtime()
    quiet_day = (now - dt.timedelta(days=3)).replace(hour=12, minute=0)
    rows = [SyncLogEntry(tenant=world.tenant, integration=integration, entity="organisation", action="updated",
                         direction="to_erp", crm_id=str(n), erp_id=f"D{n}", label=f"Havbrise Byg {n}",
                         reason="OrganisationCity changed") for n in range(busy + quiet)]
    rows += [SyncLogEntry(tenant=world.tenant, integration=integration, entity="organisation", action="failed",
                          direction="to_crm", crm_id="77", erp_id="D77", label="Fjordlys Marine ApS",
                          error="Uniconta refused the debtor: the e-mail address is not valid.")]
    SyncLogEntry.objects.bulk_create(rows)
    ids = list(SyncLogEntry.objects.filter(tenant=world.tenant, crm_id__in=[str(n) for n in range(quiet)])
               .values_list("pk", flat=True))
    SyncLogEntry.objects.filter(pk__in=ids).update(at=quiet_day)
    SyncLogEntry.objects.filter(tenant=world.tenant).exclude(pk__in=ids).update(
        at=now - dt.timedelta(minutes=5))


def main_screens(world) -> dict[str, str]:
    """Name → path of each main screen of the world's tenant."""
    t, i = f"/t/{world.tenant.slug}", world.integration.pk
    return {
        "home": f"{t}/", "connections": f"{t}/connections/", "integrations": f"{t}/integrations/",
        "integration": f"{t}/integrations/{i}/", "mapping": f"{t}/integrations/{i}/settings/organisation/",
        "webhooks": f"{t}/integrations/{i}/webhooks/", "webhook-health": f"{t}/integrations/{i}/webhook-health/",
        "schedules": f"{t}/integrations/{i}/schedules/", "audit": f"{t}/integrations/{i}/audit/",
        "log": f"{t}/log/", "log-detail": f"{t}/log/{world.rows.log_entry.pk}/", "dead-letters": f"{t}/dead-letters/",
        "runs": f"{t}/runs/", "conflicts": f"{t}/conflicts/", "possible-matches": f"{t}/possible-matches/",
        "queue": f"{t}/queue/",
    }


def page_overflow(page) -> int:
    """How many px the page is wider than the window (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_no_main_screen_scrolls_sideways_on_a_phone(page, live_server, world):
    seed_activity(world, busy=40, quiet=5)
    world.rows.conflict, world.rows.dead_letter  # noqa: B018 — made on first use
    ConfigChange.objects.create(tenant=world.tenant, integration=world.integration, user=world.admin,
                                action="updated", subject="Organisations",
                                changes={"direction": ["off", "two_way"]})
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/accounts/login/")
    assert page_overflow(page) <= 0
    shoot(page, "login")
    log_in(page, live_server, "anna-admin")
    too_wide = {}
    for name, path in main_screens(world).items():
        page.goto(live_server.url + path)
        if (overflow := page_overflow(page)) > 0:
            too_wide[name] = overflow
        shoot(page, name)
    assert too_wide == {}
    # The dashboard's chart lies down on a phone: every day a row, all of it on the screen.
    page.goto(live_server.url + main_screens(world)["home"])
    rows_chart = page.locator("#activity-chart-rows")
    assert rows_chart.is_visible() and not page.locator("#activity-chart").is_visible()
    box = rows_chart.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert rows_chart.locator("g.day").count() == 7
    # Every link of the top navigation is on the screen, and every button is big enough for a thumb.
    page.goto(live_server.url + main_screens(world)["runs"])
    for link in page.locator("header.top nav a").all():
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    for button in page.locator("main button:visible").all():
        assert button.bounding_box()["height"] >= 32


def test_desktop_screens_use_the_width_and_keep_dates_on_one_line(page, live_server, world):
    seed_activity(world, busy=30, quiet=5)
    SyncRun.objects.create(tenant=world.tenant, integration=world.integration, kind="reconcile",
                           entity="organisation", state="done", started_by=world.admin)
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, "anna-admin")
    screens = main_screens(world)
    for name in ("log", "runs", "dead-letters", "audit"):
        page.goto(live_server.url + screens[name])
        shoot(page, name)
        assert page_overflow(page) <= 0
        dates = page.locator("main table time.when")
        if name == "audit" and dates.count() == 0:
            continue
        assert dates.count() > 0, name
        line = float(page.evaluate("parseFloat(getComputedStyle(document.querySelector('main table time.when'))"
                                   ".lineHeight)"))
        heights = dates.evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
        assert max(heights) <= line * 1.2, (name, heights, line)
    page.goto(live_server.url + screens["log"])
    assert page.locator("main").bounding_box()["width"] >= 1300

    page.goto(live_server.url + screens["connections"])
    shoot(page, "connections")
    row = page.locator("#connections tbody tr").first
    tops = [b.bounding_box()["y"] for b in row.locator("td:last-child button, td:last-child a.btn").all()]
    assert len(tops) == 3 and max(tops) - min(tops) < 2, tops
    cell, cells = row.locator("td:last-child").bounding_box(), row.locator("td").first.bounding_box()
    assert abs(cell["height"] - cells["height"]) < 1  # the actions cell is as tall as its row
    if SHOTS:  # the other main screens, to look at
        for name, path in screens.items():
            page.goto(live_server.url + path)
            shoot(page, name)


def test_a_quiet_day_is_visible_beside_a_busy_day(page, live_server, world):
    seed_activity(world, busy=600, quiet=24)
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, "carl-customer")
    page.goto(f"{live_server.url}/t/{world.tenant.slug}/")
    shoot(page, "home")
    days = page.locator("#activity-chart g.day")
    assert days.count() == 7
    drawn = {}
    for day in days.all():
        syncs = int(day.get_attribute("data-syncs"))
        bar = day.locator("rect.syncs")
        drawn[syncs] = bar.bounding_box()["height"] if bar.count() else 0.0
        if syncs:
            assert day.locator("text.count").first.text_content() == str(syncs)  # the real count is printed
    busy, quiet = max(drawn), min(n for n in drawn if n)
    assert quiet == 24 and busy >= 600
    assert drawn[quiet] > 4  # visible, not a sliver
    assert drawn[quiet] / drawn[busy] == pytest.approx(math.sqrt(quiet / busy), rel=0.05)


def test_the_integration_stays_chosen_after_starting_a_run(page, live_server, world):
    second = IntegrationFactory(tenant=world.tenant, name="webCRM ↔ Fortnox",
                                crm_connection=world.integration.crm_connection,
                                erp_connection=ConnectionFactory(tenant=world.tenant, system="fortnox",
                                                                 name="Fortnox"))
    from mappings.defaults import integration_setup_defaults

    integration_setup_defaults(integration=second)
    second.entity_syncs.filter(entity="item").update(direction="to_crm")
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, "sofie-support")
    page.goto(f"{live_server.url}/t/{world.tenant.slug}/runs/")
    assert page.input_value("#run-start select[name=integration]") != str(second.pk)  # not the first choice
    page.select_option("#run-start select[name=integration]", str(second.pk))
    page.select_option("#run-start select[name=entity]", "item")
    page.get_by_role("button", name="Reconcile now").click()
    page.wait_for_selector(".messages li")
    assert SyncRun.objects.filter(integration=second, entity="item", kind="reconcile").exists()
    assert page.input_value("#run-start select[name=integration]") == str(second.pk)
    assert page.input_value("#run-start select[name=entity]") == "item"
