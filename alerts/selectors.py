"""Reads for alerts: a tenant's settings, the facts each alert kind is decided on, and the webhook-miss history.

Every query starts from ``scoped()``; each function is one or two grouped queries, so the dashboard stays cheap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Q, Sum

from integrations.models import (
    Connection,
    ConnectionStatus,
    EventSource,
    InboundEvent,
    Integration,
    WebhookStat,
)
from support.selectors import dead_letters, unresolved_failures
from tenants.access import scoped
from tenants.models import Tenant

from .models import AlertDigestState, AlertSettings, DriftRecord


def alert_settings_get(*, tenant: Tenant) -> AlertSettings:
    """The tenant's saved settings, or the defaults (unsaved: no recipients, every kind on) when none were saved."""
    return scoped(AlertSettings, tenant).first() or AlertSettings(tenant=tenant)


def digest_state_get(*, tenant: Tenant) -> AlertDigestState | None:
    """What the tenant's last digest e-mail said, or None before the first one."""
    return scoped(AlertDigestState, tenant).first()


def failures_unresolved_count(*, tenant: Tenant, since: dt.datetime) -> int:
    """Failures logged at or after ``since`` that no later success of the same record resolved
    (``support.selectors.unresolved_failures``, the count the dashboard shows) and that nobody has put back in the
    queue since (``SyncLogEntry.replayed``: a replay that fails again logs a failure of its own)."""
    return unresolved_failures(tenant=tenant, since=since).filter(replayed=False).count()


def dead_letters_count(*, tenant: Tenant) -> int:
    """The dead letters the Dead letters screen lists (``support.selectors.dead_letters``): events parked as failed
    whose record no later change has synced since."""
    return dead_letters(tenant=tenant).count()


@dataclass(frozen=True)
class NoticeSilence:
    """One system of one running integration: when it last sent a notice, and what else found its changes.

    ``last_notice_at`` is the newest notice of the system (webhooks, and Fortnox's change stream, which goes through
    the same intake): the newest ``InboundEvent.last_notice_at`` or ``WebhookStat.last_received_at``; None when it
    never sent one. ``found_by_reconcile`` and ``found_by_poll`` count the changes of that system stored by a
    reconciliation / by polling since the window's start (``InboundEvent.source``); ``reconciled_at`` is when the
    newest of those reconciliation changes was stored.
    """

    integration: Integration
    system: str
    system_name: str
    last_notice_at: dt.datetime | None
    found_by_reconcile: int
    reconciled_at: dt.datetime | None
    found_by_poll: int

    @property
    def quiet_since(self) -> dt.datetime:
        """Since when a notice was due and none came: the last notice, or when the integration was (last) switched on
        if that is later (a paused integration's webhooks are taken down on purpose)."""
        switched_on = self.integration.activated_at or self.integration.created_at
        return max(self.last_notice_at, switched_on) if self.last_notice_at else switched_on


def notice_silences(*, tenant: Tenant, since: dt.datetime) -> list[NoticeSilence]:
    """For every system of every running integration of ``tenant``: its last notice and the changes that polling
    and reconciliations found from it at or after ``since``. Three queries whatever the number of integrations."""
    integrations = list(scoped(Integration, tenant).filter(active=True)
                        .select_related("crm_connection", "erp_connection"))
    if not integrations:
        return []
    # stored notices are counted on their events, the counter rows hold the rest (``engine.intake``): one query
    last_notice: dict[tuple[int, str], dt.datetime] = {}
    counted = (scoped(WebhookStat, tenant).values("integration", "system").annotate(last=Max("last_received_at"))
               .order_by())
    stored = (scoped(InboundEvent, tenant).filter(notices__gt=0).values("integration", "system")
              .annotate(last=Max("last_notice_at")).order_by())
    for row in counted.union(stored, all=True):
        key = (row["integration"], row["system"])
        if row["last"] is not None and (key not in last_notice or row["last"] > last_notice[key]):
            last_notice[key] = row["last"]
    found = {(row["integration"], row["system"]): row for row in
             scoped(InboundEvent, tenant)
             .filter(received_at__gte=since, source__in=[EventSource.RECONCILE, EventSource.POLL])
             .values("integration", "system")
             .annotate(reconcile=Count("id", filter=Q(source=EventSource.RECONCILE)),
                       poll=Count("id", filter=Q(source=EventSource.POLL)),
                       reconciled_at=Max("received_at", filter=Q(source=EventSource.RECONCILE))).order_by()}
    silences = []
    for integration in integrations:
        for connection in (integration.crm_connection, integration.erp_connection):
            key = (integration.pk, connection.system)
            row = found.get(key, {})
            silences.append(NoticeSilence(
                integration=integration, system=connection.system, system_name=connection.get_system_display(),
                last_notice_at=last_notice.get(key), found_by_reconcile=row.get("reconcile", 0),
                reconciled_at=row.get("reconciled_at"), found_by_poll=row.get("poll", 0)))
    return silences


def connections_failing(*, tenant: Tenant) -> list[Connection]:
    """The tenant's connections whose credentials the vendor refuses (``Connection.status == failed``), by name."""
    return list(scoped(Connection, tenant).filter(status=ConnectionStatus.FAILED).order_by("name", "pk"))


@dataclass(frozen=True)
class MissRate:
    """Drift against records checked over one stretch of time: the share of changes webhooks had missed."""

    start: dt.datetime
    checked: int
    drift: int
    reconciliations: int

    @property
    def percent(self) -> float | None:
        """Drift ÷ checked in percent (one decimal), None when nothing was checked."""
        return round(100 * self.drift / self.checked, 1) if self.checked else None


@dataclass(frozen=True)
class MissRateRow:
    integration_id: int
    integration_name: str
    weeks: list[MissRate]  # oldest first
    total: MissRate


def webhook_miss_rates(*, tenant: Tenant, now: dt.datetime, weeks: int = 4) -> list[MissRateRow]:
    """Per integration, the webhook-miss rate of each of the last ``weeks`` weeks (7 × 24 h back from ``now``,
    oldest first) and of them together, from the drift history (``DriftRecord``). One grouped query; integrations
    without a reconciliation in that time are left out."""
    starts = [now - dt.timedelta(days=7 * (weeks - n)) for n in range(weeks)]
    ends = [*starts[1:], now + dt.timedelta(seconds=1)]
    buckets = {}
    for n, (start, end) in enumerate(zip(starts, ends, strict=True)):
        window = Q(at__gte=start, at__lt=end)
        buckets[f"checked_{n}"] = Sum("checked", filter=window, default=0)
        buckets[f"drift_{n}"] = Sum("drift", filter=window, default=0)
        buckets[f"runs_{n}"] = Count("id", filter=window)
    rows = (scoped(DriftRecord, tenant).filter(at__gte=starts[0])
            .values("integration", "integration__name").annotate(**buckets).order_by("integration__name"))
    result = []
    for row in rows:
        weekly = [MissRate(start=start, checked=row[f"checked_{n}"], drift=row[f"drift_{n}"],
                           reconciliations=row[f"runs_{n}"]) for n, start in enumerate(starts)]
        result.append(MissRateRow(
            integration_id=row["integration"], integration_name=row["integration__name"], weeks=weekly,
            total=MissRate(start=starts[0], checked=sum(w.checked for w in weekly),
                           drift=sum(w.drift for w in weekly), reconciliations=sum(w.reconciliations for w in weekly))))
    return result
