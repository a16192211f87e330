"""Writes of the support screens: replaying failures and starting runs by hand.

A replay is itself recorded: one SyncRun of kind "replay" per integration touched, started by the person,
set on every event put back (so what those events do next is logged under that run), with its counts
saying how many were put back and how many were already covered by newer pending work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, QuerySet

from integrations.engine.process import event_replay
from integrations.engine.runs import run_finish, run_start
from integrations.models import (
    EventState,
    InboundEvent,
    Integration,
    LogAction,
    RunKind,
    SyncLogEntry,
    SyncRun,
)
from integrations.tasks import run_enqueue
from mappings.models import Direction, EntitySync
from tenants.access import scoped
from tenants.models import Tenant

from .selectors import replayable_entries

#: The most events one bulk replay puts back; a person can press again for the rest.
BULK_LIMIT = 5000


@dataclass
class ReplayOutcome:
    runs: list[SyncRun] = field(default_factory=list)
    put_back: int = 0
    covered: int = 0
    left_over: int = 0
    #: Of ``put_back``, the changes that had been skipped for data a person can fix (the rest had failed).
    skipped_put_back: int = 0

    @property
    def message(self) -> str:
        if not self.put_back and not self.covered:
            return "Nothing to replay: no failed change, nor a skipped one waiting for a fix, matches."
        failed, skipped = self.put_back - self.skipped_put_back, self.skipped_put_back
        parts = [f"{count} {kind} change{'s' if count != 1 else ''}" for count, kind in
                 ((failed, "failed"), (skipped, "skipped")) if count] or ["0 changes"]
        text = f"{' and '.join(parts)} put back in the queue"
        if self.covered:
            text += f", {self.covered} already covered by a newer waiting change"
        if self.left_over:
            text += f"; {self.left_over} more match: replay again for those"
        return text + "."


def _skipped_and_fixable(tenant: Tenant, event: InboundEvent) -> bool:
    """A finished change whose skip a person can fix (``SyncLogEntry.replayable``) and has not replayed yet."""
    return event.state == EventState.DONE and scoped(SyncLogEntry, tenant).filter(
        event=event, action=LogAction.SKIPPED, replayable=True, replayed=False).exists()


def replay_events(*, tenant: Tenant, events: Iterable[InboundEvent], user=None) -> ReplayOutcome:
    """Put events of ``tenant`` back in the queue, under one replay run per integration: failed ones, and
    finished ones skipped for data a person can fix (their replayable log entry); any other is left alone."""
    outcome = ReplayOutcome()
    runs: dict[int, SyncRun] = {}
    with transaction.atomic():
        for event in events:
            if event.tenant_id != tenant.pk:
                continue
            skipped = event.state != EventState.FAILED and _skipped_and_fixable(tenant, event)
            if event.state != EventState.FAILED and not skipped:
                continue
            key = event.integration_id
            if key not in runs:
                runs[key] = run_start(integration=event.integration, kind=RunKind.REPLAY, entity=event.entity,
                                      user=user)
            run = runs[key]
            if run.entity and run.entity != event.entity:
                run.entity = ""
            replayed = event_replay(event=event, run=run)
            scoped(SyncLogEntry, tenant).filter(event=event).filter(
                Q(action=LogAction.FAILED) | Q(action=LogAction.SKIPPED, replayable=True)).update(replayed=True)
            if replayed.pk == event.pk:
                outcome.put_back += 1
                outcome.skipped_put_back += int(skipped)
                run.counts["put_back"] = run.counts.get("put_back", 0) + 1
            else:
                outcome.covered += 1
                run.counts["covered"] = run.counts.get("covered", 0) + 1
        for run in runs.values():
            put_back = run.counts.get("put_back", 0)
            SyncRun.objects.filter(pk=run.pk).update(entity=run.entity, counts=run.counts, total=put_back)
            if not put_back:
                run_finish(run)
            outcome.runs.append(run)
    return outcome


def replay_entries(*, tenant: Tenant, entries: QuerySet[SyncLogEntry], user=None) -> ReplayOutcome:
    """Replay the events behind the replayable entries among ``entries`` (e.g. all that match a filter): parked
    failures and skips a person can fix (``support.selectors.replayable_entries``)."""
    event_ids = (entries.filter(replayable_entries(), tenant=tenant)
                 .order_by().values_list("event_id", flat=True).distinct())
    ids = list(event_ids[: BULK_LIMIT + 1])
    left_over = max(0, event_ids.count() - BULK_LIMIT) if len(ids) > BULK_LIMIT else 0
    events = scoped(InboundEvent, tenant).filter(pk__in=ids[:BULK_LIMIT]).select_related("integration")
    outcome = replay_events(tenant=tenant, events=events.order_by("received_at", "pk"), user=user)
    outcome.left_over = left_over
    return outcome


class RunRefused(Exception):
    """A run cannot start; the message says why in plain words."""


def entity_list_words(entity: str) -> str:
    """An entity's screen label in running text ("organisations / debtors"); never the key ("pos_sale")."""
    from integrations.engine.wording import entity_words
    from mappings.models import SyncEntity

    if entity in SyncEntity.values:
        label = str(SyncEntity(entity).label)
        return label if label[:3] == "POS" else label[:1].lower() + label[1:]
    return entity_words(entity)


def run_start_now(*, integration: Integration, kind: str, entity: str, user=None, guard_off: bool = False) -> SyncRun:
    """Start a safety reconciliation or an initial import of one entity now, on the workers.

    ``guard_off`` switches the blast-radius guard off for this run (admins only; the caller checks).
    """
    if kind not in (RunKind.RECONCILE, RunKind.IMPORT):
        raise RunRefused("Only a reconciliation or an initial import can be started by hand.")
    entity_sync = EntitySync.objects.filter(integration=integration, entity=entity).first()
    if entity_sync is None or entity_sync.direction == Direction.OFF:
        raise RunRefused(f"{integration.name} does not sync {entity_list_words(entity)} now: switch it on under "
                         "“What to sync” first.")
    with transaction.atomic():
        run = run_start(integration=integration, kind=kind, entity=entity, user=user)
        if guard_off:
            run.guard_off = True
            run.save(update_fields=["guard_off"])
        run_enqueue(run_id=run.pk)
    return run
