"""How long a tenant's sync history is kept, and the clean-up that removes what is older.

Sync history is the inbound events, the sync log, the finished runs and the conflicts the engine resolved. Each
tenant chooses how many days it keeps (``Tenant.retention_days``, 7–3650, 90 by default); a daily task
(:func:`history_clean_all`, scheduled in ``integrations.tasks.SCHEDULES``) removes what is older. Whatever still waits
for a person is kept, however old (the rules are the ``*_removable`` functions below):

- dead letters (events parked as failed) and the log entries of those events;
- events still waiting or being processed, and the log entries of those events;
- log entries still offered for replay (a skip a person can fix, not replayed yet);
- conflicts without a winner, and the log entries they point at;
- the "possible match" log entries of a record whose possible match still waits for a decision;
- held runs and running ones, and a run or an event that a kept row still points at.

The audit trail (``ConfigChange``) is not history: it is never removed here, so the settings version a kept log entry
names stays. Possible matches themselves are never removed here either.

Rows are removed in batches of :data:`BATCH_SIZE` ids, each batch in its own short transaction, with the rules
checked again in the statement that deletes (what changed in between is left alone). Order matters, so that nothing
kept loses a reference: conflicts, then log entries, then events no log entry points at, then runs nothing points at.
A run of the task stops when its :class:`Budget` (rows, seconds) is spent; the next run goes on where it stopped.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from integrations.engine.intake import webhook_notices_keep
from integrations.models import Conflict, EventState, InboundEvent, LogAction, RunState, SyncLogEntry, SyncRun
from integrations.safety import MatchState, PossibleMatch

from .models import RETENTION_DAYS_MAX, RETENTION_DAYS_MIN, Tenant

#: Ids per delete statement: small enough for short locks, large enough to get through a day's history quickly.
BATCH_SIZE = 1000
#: What one run of the daily task may remove at most (rows over all tenants) and for how long it may go on.
ROWS_PER_RUN = 200_000
SECONDS_PER_RUN = 300.0

#: Event states that are finished: only those events can go.
FINISHED_EVENTS = (EventState.DONE, EventState.DROPPED)
#: Run states that are finished: a held run waits for an admin, a running one is going.
FINISHED_RUNS = (RunState.DONE, RunState.FAILED)
#: The kinds of row the clean-up removes, in the order it removes them (see the module's docstring).
KINDS = ("conflicts", "log_entries", "events", "runs")


def retention_cutoff(*, now: dt.datetime, days: int) -> dt.datetime:
    """The moment before which history is old: ``now`` less ``days`` days (``days`` is clamped to 7–3650)."""
    return now - dt.timedelta(days=min(max(int(days), RETENTION_DAYS_MIN), RETENTION_DAYS_MAX))


# -- what may go (querysets, so that the rules are applied in the database) ---------------------------------------

def conflicts_removable(*, tenant: Tenant, cutoff: dt.datetime) -> QuerySet[Conflict]:
    """Conflicts of ``tenant`` from before ``cutoff`` that were resolved (a side won)."""
    return Conflict.objects.filter(tenant=tenant, at__lt=cutoff).exclude(winner="")


def log_entries_removable(*, tenant: Tenant, cutoff: dt.datetime) -> QuerySet[SyncLogEntry]:
    """Log entries of ``tenant`` from before ``cutoff`` that nothing waiting needs (see the module's docstring)."""
    event_waits = InboundEvent.objects.filter(
        pk=OuterRef("event_id"), state__in=[EventState.FAILED, EventState.PENDING, EventState.PROCESSING])
    conflict_points = Conflict.objects.filter(log_entry_id=OuterRef("pk"))
    match_waits = PossibleMatch.objects.filter(
        integration_id=OuterRef("integration_id"), entity=OuterRef("entity"), state=MatchState.OPEN).filter(
        Q(source_role="crm", source_id=OuterRef("crm_id")) | Q(source_role="erp", source_id=OuterRef("erp_id")))
    # as ``support.selectors.REPLAYABLE_ENTRIES`` offers them (a parked failure's entries go with its event above)
    offered_for_replay = Q(action=LogAction.SKIPPED, replayable=True, replayed=False) & Exists(
        InboundEvent.objects.filter(pk=OuterRef("event_id"), state=EventState.DONE))
    return (SyncLogEntry.objects.filter(tenant=tenant, at__lt=cutoff)
            .exclude(offered_for_replay)
            .exclude(Exists(event_waits))
            .exclude(Exists(conflict_points))
            .exclude(Q(action=LogAction.REVIEW) & Exists(match_waits)))


def events_removable(*, tenant: Tenant, cutoff: dt.datetime) -> QuerySet[InboundEvent]:
    """Finished events (done or dropped) of ``tenant`` received before ``cutoff`` that no log entry points at."""
    return (InboundEvent.objects.filter(tenant=tenant, received_at__lt=cutoff, state__in=FINISHED_EVENTS)
            .exclude(Exists(SyncLogEntry.objects.filter(event_id=OuterRef("pk")))))


def runs_removable(*, tenant: Tenant, cutoff: dt.datetime) -> QuerySet[SyncRun]:
    """Finished runs (done or failed) of ``tenant`` that ended before ``cutoff`` (started, when no end is known)
    and that no event or log entry points at. Their planned changes (a preview's) go with them."""
    return (SyncRun.objects.filter(tenant=tenant, state__in=FINISHED_RUNS)
            .alias(ended=Coalesce("finished_at", "started_at")).filter(ended__lt=cutoff)
            .exclude(Exists(InboundEvent.objects.filter(run_id=OuterRef("pk"))))
            .exclude(Exists(SyncLogEntry.objects.filter(run_id=OuterRef("pk")))))


REMOVABLE: dict[str, Callable[..., QuerySet]] = {
    "conflicts": conflicts_removable, "log_entries": log_entries_removable, "events": events_removable,
    "runs": runs_removable,
}


# -- the clean-up ---------------------------------------------------------------------------------------------------

@dataclass
class Budget:
    """How much one run of the clean-up may do: ``rows`` to remove, ``seconds`` to spend (by ``clock``)."""

    rows: int = ROWS_PER_RUN
    seconds: float = SECONDS_PER_RUN
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)
    removed: int = 0

    def __post_init__(self) -> None:
        self.started = self.clock()

    @property
    def spent(self) -> bool:
        return self.removed >= self.rows or self.clock() - self.started >= self.seconds


@dataclass
class CleanResult:
    """What one clean-up of one tenant removed, per kind of row; ``complete`` when nothing old was left behind."""

    removed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    complete: bool = True

    @property
    def total(self) -> int:
        return sum(self.removed.values())

    def as_json(self) -> dict[str, int | bool]:
        return {**self.removed, "complete": self.complete}


def _delete_batch(queryset: QuerySet, ids: list[int]) -> int:
    """Delete the rows of ``ids`` that ``queryset`` still selects, in one short transaction; returns how many of
    ``queryset``'s model went (rows removed with them, such as a preview's planned changes, are not counted)."""
    with transaction.atomic():
        if queryset.model is InboundEvent:  # the webhook health screen's "ever" figure keeps their notices
            webhook_notices_keep(events=queryset.filter(pk__in=ids))
        _, per_model = queryset.filter(pk__in=ids).delete()
    return per_model.get(queryset.model._meta.label, 0)


def history_clean(*, tenant: Tenant, now: dt.datetime | None = None, budget: Budget | None = None,
                  batch_size: int = BATCH_SIZE) -> CleanResult:
    """Remove ``tenant``'s history older than its retention, batch by batch, until done or ``budget`` is spent.

    Records the result on the tenant (``history_cleaned_at``, ``history_removed``) and returns it. Safe to run at any
    time and from several workers: each batch re-checks the rules as it deletes.
    """
    now = now or timezone.now()
    budget = budget or Budget()
    cutoff = retention_cutoff(now=now, days=tenant.retention_days)
    result = CleanResult()
    for kind in KINDS:
        removable = REMOVABLE[kind](tenant=tenant, cutoff=cutoff)
        while True:
            if budget.spent:
                result.complete = False
                break
            room = min(batch_size, budget.rows - budget.removed)
            ids = list(removable.order_by("pk").values_list("pk", flat=True)[:room])
            if not ids:
                break
            removed = _delete_batch(removable, ids)
            result.removed[kind] += removed
            budget.removed += removed
            if removed == 0:  # every row of the batch changed meanwhile: leave the rest for the next run
                result.complete = False
                break
        if not result.complete:
            break
    Tenant.objects.filter(pk=tenant.pk).update(history_cleaned_at=timezone.now(), history_removed=result.as_json())
    return result


def history_clean_all(*, budget: Budget | None = None, now: dt.datetime | None = None) -> int:
    """Clean every tenant's history, those cleaned longest ago first, within one ``budget``; returns rows removed.

    Tenants the budget did not reach are cleaned first by the next run.
    """
    budget = budget or Budget()
    removed = 0
    tenants = Tenant.objects.order_by(Coalesce("history_cleaned_at", "created_at").asc(nulls_first=True), "pk")
    for tenant in tenants:
        if budget.spent:
            break
        removed += history_clean(tenant=tenant, now=now, budget=budget).total
    return removed


@dataclass(frozen=True)
class RetentionState:
    """The retention of one tenant as its settings screen shows it."""

    days: int
    cleaned_at: dt.datetime | None
    removed: dict[str, int]
    complete: bool

    @property
    def removed_total(self) -> int:
        return sum(self.removed.values())


def retention_state(tenant: Tenant) -> RetentionState:
    """The tenant's retention, the last clean-up's time and what it removed (``{kind: n}`` over :data:`KINDS`)."""
    last = tenant.history_removed or {}
    return RetentionState(days=tenant.retention_days, cleaned_at=tenant.history_cleaned_at,
                          removed={kind: int(last.get(kind, 0) or 0) for kind in KINDS},
                          complete=bool(last.get("complete", True)))


def tenant_retention_set(*, tenant: Tenant, days: int) -> Tenant:
    """Keep ``tenant``'s sync history ``days`` days from now on (the next clean-up applies it).

    Raises ``ValueError`` for a number outside 7–3650; the form says that in words before it comes to this.
    """
    if not RETENTION_DAYS_MIN <= int(days) <= RETENTION_DAYS_MAX:
        raise ValueError(f"Keep history between {RETENTION_DAYS_MIN} and {RETENTION_DAYS_MAX} days.")
    tenant.retention_days = int(days)
    Tenant.objects.filter(pk=tenant.pk).update(retention_days=tenant.retention_days)
    return tenant
