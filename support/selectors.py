"""Reads for the support screens and API: the filtered log, keyset pages, a log entry's chain, the dashboard.

Every query starts from ``scoped()``: nothing here can reach another tenant's rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from integrations.engine.intake import webhook_notices
from integrations.models import (
    Conflict,
    EventSource,
    EventState,
    InboundEvent,
    Integration,
    LogAction,
    RunKind,
    SyncLink,
    SyncLogEntry,
    SyncRun,
    WebhookStat,
)
from mappings.models import Direction, EntitySync, WebhookToggle
from tenants.access import get_scoped_or_404, row_id, scoped
from tenants.models import Tenant

from .filters import FIRST_DAY, LAST_DAY, LogEntryFilter
from .review_selectors import possible_matches_open_counts

PAGE_SIZE = 50

# -- failures, and which of them a later success resolved -------------------------------------------------------

#: Log actions that prove a record of a failure was synced since: something was written (or deleted) for it, or a
#: conflict was resolved by its owner. A skip proves nothing: the change was not carried out.
RESOLVING_ACTIONS = (LogAction.CREATED, LogAction.UPDATED, LogAction.DELETED, LogAction.CONFLICT)


def failure_resolved() -> Q:
    """The condition, on ``SyncLogEntry`` rows, "a failure that a later success of the same record resolved".

    Resolved means: a later entry (``at`` later, or the same moment and a higher id) of the same integration, entity
    and direction, with an action of ``RESOLVING_ACTIONS``, for the same record — each record id the failure names
    (``crm_id``, ``erp_id``; a failure usually names only its source's) must be the success's too; or the failure's
    own change, taken up again (replayed, retried), ended done — also when it found nothing left to write, which
    writes no entry. Otherwise a failure naming no record is never resolved. Correlated ``EXISTS`` subqueries on the
    (integration, crm_id) and (integration, erp_id) indexes: no query per entry. Use it on any queryset of log
    entries; it is true only of failures.
    """
    later = SyncLogEntry.objects.filter(
        Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), pk__gt=OuterRef("pk")),
        integration=OuterRef("integration"), entity=OuterRef("entity"), direction=OuterRef("direction"),
        action__in=RESOLVING_ACTIONS)
    by_crm = Exists(later.filter(crm_id=OuterRef("crm_id")))
    by_erp = Exists(later.filter(erp_id=OuterRef("erp_id")))
    by_both = Exists(later.filter(crm_id=OuterRef("crm_id"), erp_id=OuterRef("erp_id")))
    return Q(action=LogAction.FAILED) & (
        (Q(erp_id="") & ~Q(crm_id="") & by_crm)
        | (Q(crm_id="") & ~Q(erp_id="") & by_erp)
        | (~Q(crm_id="") & ~Q(erp_id="") & by_both)
        # its own change was taken up again (a replay, a retry) and ended well, even with nothing left to write:
        # the record was back to what was last synced
        | Q(event__state=EventState.DONE))


def unresolved_failures(*, tenant: Tenant, entries: QuerySet[SyncLogEntry] | None = None,
                        since: dt.datetime | None = None) -> QuerySet[SyncLogEntry]:
    """The failures of ``tenant`` that no later success of the same record resolved (``failure_resolved``).

    ``entries`` narrows what is looked at (a filtered log, one integration); it is scoped to ``tenant`` here as well.
    ``since`` keeps failures logged at or after that moment (aware datetime). Returns a queryset of failed
    ``SyncLogEntry`` rows, unordered, for counting (``.count()``, ``.values(...).annotate(...)``) or listing. This is
    the one place that says which failures still count: the dashboard, the dead letters, the replay offers and the
    alerts use it.
    """
    failures = (entries if entries is not None else SyncLogEntry.objects.all()).filter(
        tenant=tenant, action=LogAction.FAILED)
    if since is not None:
        failures = failures.filter(at__gte=since)
    return failures.exclude(failure_resolved())


def replayable_entries() -> Q:
    """The condition on ``SyncLogEntry`` rows of "offers Replay": a failure still parked that no later success of
    the same record resolved (``failure_resolved``), or a skip for data a person can fix (``SyncLogEntry.replayable``)
    whose change has finished and was not replayed yet. Skips that are final by design (direction, trigger, paused)
    are never replayable."""
    return ((Q(action=LogAction.FAILED, event__state=EventState.FAILED) & ~failure_resolved())
            | Q(action=LogAction.SKIPPED, replayable=True, replayed=False, event__state=EventState.DONE))


def log_entry_replayable(entry: SyncLogEntry) -> bool:
    """Whether ``entry`` offers "Replay" (see ``replayable_entries``); reads the entry's event, and for a failure
    whether a later success resolved it."""
    event = entry.event
    if event is None:
        return False
    if entry.action == LogAction.FAILED:
        return (event.state == EventState.FAILED
                and not SyncLogEntry.objects.filter(pk=entry.pk).filter(failure_resolved()).exists())
    return (entry.action == LogAction.SKIPPED and entry.replayable and not entry.replayed
            and event.state == EventState.DONE)


SUCCESS_ACTIONS = [LogAction.CREATED, LogAction.UPDATED, LogAction.DELETED, LogAction.SKIPPED, LogAction.CONFLICT]


# -- the sync log ---------------------------------------------------------------------------------------------

def log_filter(*, tenant: Tenant, params: Any) -> LogEntryFilter:
    """The log entries of ``tenant`` narrowed by the filter form's ``params`` (a QueryDict or dict)."""
    entries = scoped(SyncLogEntry, tenant).select_related("integration")
    return LogEntryFilter(params if params is not None else {}, queryset=entries, tenant=tenant)


@dataclass(frozen=True)
class Keyset:
    """Where a page of the newest-first log starts: strictly after the entry (at, id)."""

    at: dt.datetime
    id: int

    @classmethod
    def from_params(cls, params: Any) -> Keyset | None:
        """The position in ``after_at`` / ``after_id``; None (the first page) when either is not a valid one:
        a malformed or impossible moment, one outside the years 1900–9998, or an id no row can have."""
        pk = row_id(params.get("after_id"))
        try:
            at = parse_datetime(str(params.get("after_at") or ""))
            if at is None or pk is None or not FIRST_DAY.year <= at.year <= LAST_DAY.year:
                return None
            if timezone.is_naive(at):
                at = timezone.make_aware(at)
        except (ValueError, OverflowError):
            return None
        return cls(at=at, id=pk)

    def as_params(self) -> dict[str, str]:
        return {"after_at": self.at.isoformat(), "after_id": str(self.id)}


@dataclass
class LogPage:
    entries: list[SyncLogEntry]
    next: Keyset | None


def log_page(*, entries: QuerySet[SyncLogEntry], after: Keyset | None = None, size: int = PAGE_SIZE) -> LogPage:
    """One page, newest first, after ``after``: a range read on the (…, -at, -id) indexes, never an OFFSET.

    Entries written meanwhile are newer than every page already shown, so pages neither overlap nor skip.
    """
    ordered = entries.order_by("-at", "-id")
    if after is not None:
        ordered = ordered.filter(Q(at__lte=after.at) & (Q(at__lt=after.at) | Q(id__lt=after.id)))
    rows = list(ordered[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return LogPage(entries=rows, next=Keyset(at=rows[-1].at, id=rows[-1].pk) if more and rows else None)


def log_entry_get(*, tenant: Tenant, entry_id: int) -> SyncLogEntry:
    queryset = scoped(SyncLogEntry, tenant).select_related("integration__crm_connection",
                                                          "integration__erp_connection", "event", "run")
    return get_scoped_or_404(queryset, tenant, pk=entry_id)


@dataclass
class EntryChain:
    """What led to a log entry: its event, its run, the settings in force and the link of both records."""

    entry: SyncLogEntry
    event: InboundEvent | None
    run: SyncRun | None
    entity_sync: EntitySync | None
    mappings: list = field(default_factory=list)
    link: SyncLink | None = None
    replays: list[SyncRun] = field(default_factory=list)
    #: Whether the entry offers "Replay": a parked failure, or a skip a person can fix (``log_entry_replayable``).
    replayable: bool = False
    #: A failure that a later success of the same record settled (``failure_resolved``): nothing left to replay.
    resolved: bool = False


def log_entry_chain(*, tenant: Tenant, entry: SyncLogEntry) -> EntryChain:
    entity_sync = scoped(EntitySync, tenant).filter(integration=entry.integration, entity=entry.entity).first()
    record = Q()
    if entry.crm_id:
        record |= Q(crm_id=entry.crm_id)
    if entry.erp_id:
        record |= Q(erp_id=entry.erp_id)
    link = (scoped(SyncLink, tenant).filter(record, integration=entry.integration, entity=entry.entity).first()
            if record else None)
    replays = []
    if entry.event is not None:
        replays = list(scoped(SyncRun, tenant).filter(kind=RunKind.REPLAY, events=entry.event))
    return EntryChain(entry=entry, event=entry.event, run=entry.run, entity_sync=entity_sync,
                      mappings=list(entity_sync.field_mappings.all()) if entity_sync else [], link=link,
                      replays=replays, replayable=log_entry_replayable(entry),
                      resolved=entry.action == LogAction.FAILED and
                      SyncLogEntry.objects.filter(pk=entry.pk).filter(failure_resolved()).exists())


# -- the dashboard ---------------------------------------------------------------------------------------------

@dataclass
class EntityHealth:
    entity_sync: EntitySync
    last_success: dt.datetime | None
    pending: int
    failed_24h: int
    last_reconcile: SyncRun | None


@dataclass
class IntegrationHealth:
    integration: Integration
    entities: list[EntityHealth]
    #: Possible matches waiting for a person to decide.
    open_matches: int = 0

    @property
    def pending(self) -> int:
        return sum(e.pending for e in self.entities)

    @property
    def failed_24h(self) -> int:
        return sum(e.failed_24h for e in self.entities)


def dashboard(*, tenant: Tenant, now: dt.datetime | None = None) -> list[IntegrationHealth]:
    """Per integration and synced entity: last success, events waiting, failures in 24 h, last reconciliation."""
    now = now or timezone.now()
    integrations = list(scoped(Integration, tenant).select_related("crm_connection", "erp_connection"))
    syncs = scoped(EntitySync, tenant).exclude(direction=Direction.OFF).select_related("integration")
    pending = {(r["integration"], r["entity"]): r["n"] for r in
               scoped(InboundEvent, tenant).filter(state=EventState.PENDING)
               .values("integration", "entity").annotate(n=Count("id"))}
    failed = {(r["integration"], r["entity"]): r["n"] for r in
              unresolved_failures(tenant=tenant, since=now - dt.timedelta(hours=24))
              .values("integration", "entity").annotate(n=Count("id")).order_by()}
    by_integration: dict[int, list[EntityHealth]] = {}
    for entity_sync in syncs:
        key = (entity_sync.integration_id, entity_sync.entity)
        last = (scoped(SyncLogEntry, tenant).filter(integration_id=key[0], entity=key[1],
                                                    action__in=SUCCESS_ACTIONS)
                .order_by("-at", "-id").values_list("at", flat=True).first())
        reconcile = (scoped(SyncRun, tenant).filter(integration_id=key[0], entity=key[1], kind=RunKind.RECONCILE)
                     .order_by("-started_at", "-id").first())
        by_integration.setdefault(key[0], []).append(EntityHealth(
            entity_sync=entity_sync, last_success=last, pending=pending.get(key, 0), failed_24h=failed.get(key, 0),
            last_reconcile=reconcile))
    open_matches = possible_matches_open_counts(tenant=tenant)
    return [IntegrationHealth(integration=i, entities=by_integration.get(i.pk, []),
                              open_matches=open_matches.get(i.pk, 0)) for i in integrations]


@dataclass(frozen=True)
class HourBucket:
    hour: dt.datetime
    syncs: int
    failures: int


def hourly_activity(*, tenant: Tenant, now: dt.datetime | None = None, hours: int = 7 * 24) -> list[HourBucket]:
    """Syncs and failures per hour over the last ``hours`` hours (oldest first), from one grouped query.

    A failure counts only while no later success of the same record resolved it (``failure_resolved``); a resolved
    one is neither a failure nor a sync (its success is counted when it happened)."""
    now = now or timezone.now()
    last = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    first = last - dt.timedelta(hours=hours - 1)
    failed = Q(action=LogAction.FAILED)
    rows = (scoped(SyncLogEntry, tenant).filter(at__gte=first)
            .annotate(hour=TruncHour("at", tzinfo=dt.UTC)).values("hour")
            .annotate(failed=Count("id", filter=failed), failures=Count("id", filter=failed & ~failure_resolved()),
                      total=Count("id")).order_by())
    counts = {row["hour"].astimezone(dt.UTC): (row["total"] - row["failed"], row["failures"]) for row in rows}
    buckets = []
    for n in range(hours):
        hour = first + dt.timedelta(hours=n)
        syncs, failures = counts.get(hour, (0, 0))
        buckets.append(HourBucket(hour=hour, syncs=syncs, failures=failures))
    return buckets


# -- runs, conflicts, dead letters -----------------------------------------------------------------------------

def runs_recent(*, tenant: Tenant, limit: int = 50) -> list[SyncRun]:
    return list(scoped(SyncRun, tenant).select_related("integration", "started_by")
                .order_by("-started_at", "-id")[:limit])


def run_get(*, tenant: Tenant, run_id: int) -> SyncRun:
    return get_scoped_or_404(scoped(SyncRun, tenant).select_related("integration", "started_by"), tenant, pk=run_id)


def run_counts(*, tenant: Tenant, runs: list[SyncRun]) -> dict[int, dict[str, int]]:
    """What each run's events did, counted from the log by action (one grouped query for all runs)."""
    counts: dict[int, dict[str, int]] = {run.pk: {} for run in runs}
    rows = (scoped(SyncLogEntry, tenant).filter(run__in=[r.pk for r in runs])
            .values("run", "action").annotate(n=Count("id")).order_by())
    for row in rows:
        counts[row["run"]][row["action"]] = row["n"]
    return counts


def conflicts_recent(*, tenant: Tenant, integration: Integration | None = None, limit: int = 100) -> list[Conflict]:
    conflicts = scoped(Conflict, tenant).select_related("integration", "link").order_by("-at", "-id")
    if integration is not None:
        conflicts = conflicts.filter(integration=integration)
    return list(conflicts[:limit])


def _parked(tenant: Tenant) -> QuerySet[InboundEvent]:
    return scoped(InboundEvent, tenant).filter(state=EventState.FAILED)


def _open_parked(tenant: Tenant) -> Q:
    """Of parked events: those with a failure no later success resolved (``unresolved_failures``), and those without
    a logged failure at all (nothing proves them resolved)."""
    failures = SyncLogEntry.objects.filter(event=OuterRef("pk"), action=LogAction.FAILED)
    return (Exists(unresolved_failures(tenant=tenant).filter(event=OuterRef("pk")))
            | ~Exists(failures))


def dead_letters(*, tenant: Tenant) -> QuerySet[InboundEvent]:
    """Events parked as failed that wait for a person to replay them: newest first, without those whose record was
    synced since by a later change (their failure is resolved, ``failure_resolved``)."""
    return (_parked(tenant).filter(_open_parked(tenant)).select_related("integration")
            .order_by("-received_at", "-id"))


def dead_letters_resolved_count(*, tenant: Tenant) -> int:
    """How many parked events are left out of ``dead_letters`` because a later success resolved their failure."""
    return _parked(tenant).exclude(_open_parked(tenant)).count()


def dead_letter_get(*, tenant: Tenant, event_id: int) -> InboundEvent:
    """A dead letter of ``tenant`` (as ``dead_letters`` lists them); 404 for anything else."""
    return get_scoped_or_404(dead_letters(tenant=tenant), tenant, pk=event_id)


# -- webhooks and the queue ------------------------------------------------------------------------------------

@dataclass
class WebhookHealth:
    system: str
    entity: str
    enabled_actions: list[str]
    last_received: dt.datetime | None
    received_24h: int
    total_received: int
    dropped_by_toggle: int
    dropped_while_paused: int
    last_error: str
    last_error_at: dt.datetime | None


def webhook_health(*, tenant: Tenant, integration: Integration, now: dt.datetime | None = None
                   ) -> dict[str, list[WebhookHealth]]:
    """Per system of the integration, per entity: last received, how many in 24 h, the last error."""
    now = now or timezone.now()
    webhook_events = scoped(InboundEvent, tenant).filter(integration=integration, source=EventSource.WEBHOOK)
    # notices, not stored changes: five notices of one change are five, as the "ever" figure counts them; counted on
    # every event that holds notices (an import's event that absorbed one too), so the day's figure is part of "ever"
    recent = {(r["system"], r["entity"]): r["n"] for r in
              scoped(InboundEvent, tenant).filter(integration=integration, notices__gt=0,
                                                  last_notice_at__gte=now - dt.timedelta(hours=24))
              .values("system", "entity").annotate(n=Sum("notices")).order_by()}
    last_ever = {(r["system"], r["entity"]): r["last"] for r in
                 webhook_events.values("system", "entity").annotate(last=Max("received_at")).order_by()}
    stats = {(s.system, s.entity): s for s in scoped(WebhookStat, tenant).filter(integration=integration)}
    # stored notices are counted on their events; the counter row holds the rest (dropped ones, removed events')
    notices = {(system, entity): count for (_, system, entity), count in
               webhook_notices(events=scoped(InboundEvent, tenant).filter(integration=integration)).items()}
    toggles: dict[tuple[str, str], list[str]] = {}
    for toggle in scoped(WebhookToggle, tenant).filter(integration=integration).order_by("system", "entity"):
        actions = toggles.setdefault((toggle.system, toggle.entity), [])
        if toggle.enabled:
            actions.append(toggle.action)
    health: dict[str, list[WebhookHealth]] = {}
    for key in sorted(set(toggles) | set(stats) | set(last_ever) | set(notices)):
        stat = stats.get(key)
        count = recent.get(key, 0)
        stored = notices.get(key)
        candidates = [t for t in (last_ever.get(key), stat.last_received_at if stat else None,
                                  stored.last_notice_at if stored else None) if t]
        health.setdefault(key[0], []).append(WebhookHealth(
            system=key[0], entity=key[1], enabled_actions=toggles.get(key, []),
            last_received=max(candidates) if candidates else None, received_24h=count,
            total_received=(stat.received if stat else 0) + (stored.notices if stored else 0),
            dropped_by_toggle=stat.dropped_by_toggle if stat else 0,
            dropped_while_paused=stat.dropped_while_paused if stat else 0,
            last_error=stat.last_error if stat else "", last_error_at=stat.last_error_at if stat else None))
    return health


@dataclass
class QueueOverview:
    depth: int | None
    pending_events: int
    failed_events: int
    failed_tasks: list[dict] | None  # platform staff only


def queue_overview(*, tenant: Tenant, staff: bool, limit: int = 20) -> QueueOverview:
    """The task queue's depth for everyone; failed tasks (which name other tenants' work) for platform staff only."""
    from django_q.brokers import get_broker
    from django_q.models import Failure

    try:
        depth = get_broker().queue_size()
    except Exception:  # a broker that cannot be reached is shown as unknown, not as an error page
        depth = None
    events = scoped(InboundEvent, tenant)
    failed_tasks = None
    if staff:
        failed_tasks = [{"func": task.func, "name": task.name, "stopped": task.stopped,
                         "result": str(task.result or "")[:200]}
                        for task in Failure.objects.order_by("-stopped")[:limit]]
    return QueueOverview(depth=depth, pending_events=events.filter(state=EventState.PENDING).count(),
                         failed_events=dead_letters(tenant=tenant).count(), failed_tasks=failed_tasks)
