"""The dashboard's chart of syncs and failures per day, as plain SVG geometry (no JavaScript, no CDN).

Bar heights follow a square-root scale: a quiet day of 20 syncs stays visible beside a busy day of 2,000 (a
tenth of its height rather than a hundredth), and every bar carries its real count, so nothing is read off
the scale alone. The gridlines are labelled with real counts at their square-root positions.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.utils import timezone

from .selectors import HourBucket

DAYS = 7
GROUP = 92  # px per day: a synced bar and a failed bar side by side
BAR = 34
HEIGHT = 190
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 22, 34
MIN_GRID_GAP = 18  # px between labelled gridlines
# The narrow chart for phones: one row per day, bars lying down, on the same square-root scale.
ROW, ROW_LEFT, ROW_PLOT, ROW_WIDTH = 34, 78, 200, 330


@dataclass(frozen=True)
class DayBar:
    """One day: ``x`` is the left edge of its synced bar; heights are in px of the plot; counts are real."""

    day: str
    label: str
    x: int
    label_x: int
    syncs: int
    failures: int
    sync_y: float
    sync_height: float
    failure_x: int
    failure_y: float
    failure_height: float
    title: str
    row_y: int = 0
    sync_length: float = 0.0
    failure_length: float = 0.0

    @property
    def sync_middle(self) -> float:
        return self.x + BAR / 2

    @property
    def failure_middle(self) -> float:
        return self.failure_x + BAR / 2

    @property
    def sync_end(self) -> float:
        """Where the narrow chart prints the count: just past the end of the lying bar."""
        return round(ROW_LEFT + self.sync_length + 4, 2)

    @property
    def failure_end(self) -> float:
        return round(ROW_LEFT + self.failure_length + 4, 2)


@dataclass(frozen=True)
class GridLine:
    y: float
    value: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: int
    baseline: int
    peak: int
    bar_width: int
    bars: list[DayBar]
    grid: list[GridLine]
    total_syncs: int
    total_failures: int
    row_left: int = ROW_LEFT
    row_width: int = ROW_WIDTH
    row_height: int = ROW * DAYS + 4


def bar_height(count: int, *, peak: int, plot: float) -> float:
    """Height in px of a bar of ``count`` on a square-root scale whose ``peak`` fills ``plot`` px (0 for 0)."""
    if count <= 0 or peak <= 0:
        return 0.0
    return round(plot * math.sqrt(count) / math.sqrt(peak), 2)


def _nice_values(peak: int) -> list[int]:
    """1, 2, 5, 10, 20, 50, … below ``peak``, largest first."""
    values, magnitude = [], 1
    while magnitude < peak:
        values.extend(v for v in (magnitude, 2 * magnitude, 5 * magnitude) if v < peak)
        magnitude *= 10
    return sorted(set(values), reverse=True)


def _grid(peak: int, *, plot: float, baseline: int) -> list[GridLine]:
    """Labelled gridlines: the peak at the top, then round counts at least ``MIN_GRID_GAP`` px apart."""
    if peak <= 0:
        return []
    lines = [GridLine(y=round(baseline - plot, 2), value=peak)]
    for value in _nice_values(peak):
        y = round(baseline - bar_height(value, peak=peak, plot=plot), 2)
        if y - lines[-1].y >= MIN_GRID_GAP and baseline - y >= MIN_GRID_GAP:
            lines.append(GridLine(y=y, value=value))
    return lines


def _days(buckets: list[HourBucket]) -> list[tuple[dt.date, int, int]]:
    """(local date, syncs, failures) of the last ``DAYS`` local days that the hourly buckets reach, oldest first."""
    per_day: dict[dt.date, list[int]] = {}
    for bucket in buckets:
        day = timezone.localtime(bucket.hour).date()
        counts = per_day.setdefault(day, [0, 0])
        counts[0] += bucket.syncs
        counts[1] += bucket.failures
    today = timezone.localdate()
    if buckets:
        today = max(today, max(per_day))
    wanted = [today - dt.timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    return [(day, *per_day.get(day, [0, 0])) for day in wanted]


def activity_chart(buckets: list[HourBucket]) -> Chart:
    """Per local day of the last seven: a synced bar and a failed bar, on one square-root scale.

    ``buckets`` are the hourly counts from ``selectors.hourly_activity`` (oldest first); hours before the
    oldest of the seven days are left out, so the totals are those of the bars drawn.
    """
    plot = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot
    days = _days(buckets)
    peak = max((max(syncs, failures) for _, syncs, failures in days), default=0)
    bars = []
    for n, (day, syncs, failures) in enumerate(days):
        x = LEFT + n * GROUP + (GROUP - 2 * BAR - 4) // 2
        sync_height = bar_height(syncs, peak=peak, plot=plot)
        failure_height = bar_height(failures, peak=peak, plot=plot)
        bars.append(DayBar(
            day=day.isoformat(), label=f"{day:%a %d %b}", x=x, label_x=LEFT + n * GROUP + GROUP // 2,
            syncs=syncs, failures=failures, sync_y=round(baseline - sync_height, 2), sync_height=sync_height,
            failure_x=x + BAR + 4, failure_y=round(baseline - failure_height, 2), failure_height=failure_height,
            title=f"{day:%A %d %B}: {syncs} synced, {failures} failed", row_y=n * ROW + 2,
            sync_length=bar_height(syncs, peak=peak, plot=ROW_PLOT),
            failure_length=bar_height(failures, peak=peak, plot=ROW_PLOT)))
    return Chart(width=LEFT + DAYS * GROUP + RIGHT, height=HEIGHT, left=LEFT, right=LEFT + DAYS * GROUP, top=TOP,
                 baseline=baseline, peak=peak, bar_width=BAR, bars=bars, grid=_grid(peak, plot=plot, baseline=baseline),
                 total_syncs=sum(b.syncs for b in bars), total_failures=sum(b.failures for b in bars))
