"""The dashboard's chart of syncs and failures per hour, as plain SVG geometry (no JavaScript, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from .selectors import HourBucket

BAR = 4  # px per hour
HEIGHT = 120
LEFT, TOP, BOTTOM = 36, 8, 22


@dataclass(frozen=True)
class Bar:
    hour: str
    x: int
    syncs: int
    failures: int
    sync_y: float
    sync_height: float
    failure_y: float
    failure_height: float
    title: str


@dataclass(frozen=True)
class DayTick:
    x: int
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    top: int
    baseline: int
    peak: int
    bars: list[Bar]
    days: list[DayTick]
    total_syncs: int
    total_failures: int


def activity_chart(buckets: list[HourBucket]) -> Chart:
    """Stacked bars per hour: syncs from the baseline, failures on top of them."""
    plot = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot
    peak = max((b.syncs + b.failures for b in buckets), default=0)
    scale = plot / peak if peak else 0
    bars, days = [], []
    for n, bucket in enumerate(buckets):
        x = LEFT + n * BAR
        sync_height = round(bucket.syncs * scale, 2)
        failure_height = round(bucket.failures * scale, 2)
        local = timezone.localtime(bucket.hour)
        bars.append(Bar(
            hour=bucket.hour.isoformat(), x=x, syncs=bucket.syncs, failures=bucket.failures,
            sync_y=round(baseline - sync_height, 2), sync_height=sync_height,
            failure_y=round(baseline - sync_height - failure_height, 2), failure_height=failure_height,
            title=f"{local:%a %d %b %H}:00 — {bucket.syncs} synced, {bucket.failures} failed"))
        if local.hour == 0 or (n == 0 and local.hour <= 12):  # no first label crowding the next midnight's
            days.append(DayTick(x=x, label=f"{local:%a %d}"))
    return Chart(width=LEFT + len(buckets) * BAR + 4, height=HEIGHT, left=LEFT, top=TOP, baseline=baseline,
                 peak=peak, bars=bars, days=days, total_syncs=sum(b.syncs for b in buckets),
                 total_failures=sum(b.failures for b in buckets))
