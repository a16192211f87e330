"""The tenant dashboard: health per integration and entity, and the daily chart drawn as SVG."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from integrations.models import InboundEvent, SyncLogEntry, SyncRun
from support.selectors import hourly_activity

from .conftest import url

pytestmark = pytest.mark.django_db


def hour_start(hours_ago: int) -> dt.datetime:
    now = timezone.now().astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return now - dt.timedelta(hours=hours_ago)


def test_the_chart_counts_syncs_and_failures_per_hour_and_draws_them_per_day(client, world, log):
    SyncLogEntry.objects.all().delete()
    three_ago, day_ago = hour_start(3), hour_start(30)
    for minute in (1, 20, 59):
        log(at=three_ago + dt.timedelta(minutes=minute), action="updated")
    log(at=three_ago + dt.timedelta(minutes=5), action="failed")
    log(at=day_ago + dt.timedelta(minutes=30), action="created")
    log(at=day_ago + dt.timedelta(minutes=31), action="failed")
    log(at=day_ago + dt.timedelta(minutes=32), action="failed")
    log(at=hour_start(7 * 24 + 2), action="failed")  # older than 7 days: not drawn
    log(at=three_ago, action="failed", integration=world.other_integration)  # another tenant: not counted

    buckets = hourly_activity(tenant=world.tenant)
    assert len(buckets) == 168 and buckets[-1].hour == hour_start(0)
    by_hour = {b.hour: (b.syncs, b.failures) for b in buckets}
    assert by_hour[three_ago] == (3, 1) and by_hour[day_ago] == (1, 2)
    assert sum(b.syncs for b in buckets) == 4 and sum(b.failures for b in buckets) == 3

    client.force_login(world.customer)
    body = client.get(url("tenant-home", world)).content.decode()
    svg = body[body.index('<svg class="chart"'):body.index("</svg>")]
    drawn = {day: (int(s), int(f)) for day, s, f in re.findall(
        r'data-day="([^"]+)" data-syncs="(\d+)" data-failures="(\d+)"', svg)}
    assert len(drawn) == 7 and max(drawn) == timezone.localdate().isoformat()
    expected: dict[str, list[int]] = {}
    for moment, syncs, failures in ((three_ago, 3, 1), (day_ago, 1, 2)):
        counts = expected.setdefault(timezone.localtime(moment).date().isoformat(), [0, 0])
        counts[0] += syncs
        counts[1] += failures
    assert {day: list(counts) for day, counts in drawn.items() if counts != (0, 0)} == expected
    assert svg.count('class="failures"') == len(expected) and svg.count('class="syncs"') == len(expected)
    # Every day's real count is printed beside its bar.
    busiest = max(expected, key=lambda day: expected[day][0])
    day_group = re.search(rf'data-day="{busiest}".*?</g>', svg, re.S).group(0)
    assert f">{expected[busiest][0]}</text>" in day_group and f"{expected[busiest][0]} synced" in day_group
    assert "<script" not in body.split("</head>")[1]


def test_the_dashboard_shows_each_entitys_health(client, world, log):
    SyncLogEntry.objects.all().delete()
    InboundEvent.objects.filter(tenant=world.tenant).delete()
    world.integration.entity_syncs.filter(entity="organisation").update(direction="two_way")
    log(action="updated", minutes_ago=90)
    log(action="failed", minutes_ago=30)
    log(action="failed", minutes_ago=60 * 30)  # more than 24 h ago
    for n in range(2):
        InboundEvent.objects.create(tenant=world.tenant, integration=world.integration, system="webcrm",
                                    entity="organisation", action="updated", external_id=f"p{n}")
    SyncRun.objects.create(tenant=world.tenant, integration=world.integration, kind="reconcile",
                           entity="organisation", state="done", drift=7)
    client.force_login(world.support)
    response = client.get(url("tenant-home", world))
    [health] = [h for h in response.context["health"] if h.integration == world.integration]
    [organisations] = [e for e in health.entities if e.entity_sync.entity == "organisation"]
    assert organisations.pending == 2 and organisations.failed_24h == 1
    assert organisations.last_success is not None
    assert organisations.last_reconcile.drift == 7
    body = response.content.decode()
    row = body[body.index('data-entity="organisation"'):]
    row = row[:row.index("</tr>")]
    assert "1\xa0hour" in row and ">7<" in row and ">2<" in row
    assert "Syncs and failures per day" in body


def test_the_empty_states_remain(client, world):
    from tests.factories import MembershipFactory, TenantFactory

    tenant = TenantFactory(slug="empty")
    member = MembershipFactory(tenant=tenant, role="support").user
    client.force_login(member)
    body = client.get(f"/t/{tenant.slug}/").content.decode()
    assert "Nothing is connected yet" in body and "<svg" not in body
