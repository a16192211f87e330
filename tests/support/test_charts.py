"""The dashboard chart's geometry: per local day, on a square-root scale, with real counts on the gridlines."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from support.charts import activity_chart, bar_height
from support.selectors import HourBucket


def hours_back(count: int) -> list[dt.datetime]:
    last = timezone.now().astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return [last - dt.timedelta(hours=n) for n in range(count - 1, -1, -1)]


def test_a_quiet_day_stays_visible_beside_a_busy_one():
    hours = hours_back(7 * 24)
    busy, quiet = hours[-1], hours[-1] - dt.timedelta(days=2)
    buckets = [HourBucket(hour=h, syncs=2000 if h == busy else 20 if h == quiet else 0, failures=0) for h in hours]
    chart = activity_chart(buckets)
    by_day = {bar.day: bar for bar in chart.bars}
    busy_bar = by_day[timezone.localtime(busy).date().isoformat()]
    quiet_bar = by_day[timezone.localtime(quiet).date().isoformat()]
    plot = chart.baseline - chart.top
    assert busy_bar.sync_height == pytest.approx(plot)
    # sqrt(20 / 2000) = 0.1: a tenth of the busy day's height, where a straight scale would give a hundredth.
    assert quiet_bar.sync_height == pytest.approx(plot * 0.1, abs=0.01)
    assert [bar.syncs for bar in chart.bars].count(0) == 5 and chart.total_syncs == 2020


def test_the_days_are_the_last_seven_local_days_oldest_first():
    chart = activity_chart([HourBucket(hour=h, syncs=1, failures=0) for h in hours_back(7 * 24)])
    days = [dt.date.fromisoformat(bar.day) for bar in chart.bars]
    today = timezone.localdate()
    assert days == [today - dt.timedelta(days=n) for n in range(6, -1, -1)]
    assert chart.total_syncs == sum(bar.syncs for bar in chart.bars) <= 7 * 24


def test_failures_share_the_scale_of_syncs():
    hour = hours_back(1)[0]
    chart = activity_chart([HourBucket(hour=hour, syncs=100, failures=25)])
    today = chart.bars[-1]
    assert today.failure_height == pytest.approx(today.sync_height / 2, abs=0.01)  # sqrt(25 / 100)


def test_gridlines_carry_real_counts_at_their_square_root_heights():
    hour = hours_back(1)[0]
    chart = activity_chart([HourBucket(hour=hour, syncs=900, failures=0)])
    plot = chart.baseline - chart.top
    assert chart.grid[0].value == 900 and chart.grid[0].y == chart.top
    for line in chart.grid[1:]:
        assert chart.baseline - line.y == pytest.approx(bar_height(line.value, peak=900, plot=plot), abs=0.01)
    assert 100 in {line.value for line in chart.grid}  # a third of the height: sqrt(100 / 900)


def test_nothing_to_draw_has_no_bars_and_no_gridlines():
    chart = activity_chart([HourBucket(hour=h, syncs=0, failures=0) for h in hours_back(24)])
    assert chart.peak == 0 and chart.grid == []
    assert all(bar.sync_height == 0 and bar.failure_height == 0 for bar in chart.bars)
