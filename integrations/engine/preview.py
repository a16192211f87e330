"""Previews: the engine reads both sides and plans, and writes nothing anywhere.

A preview runs the ordinary sync path (``apply.record_sync``) for each record, with both sides' clients
swapped for :class:`DryRunClient` (reads pass through, writes are answered as the vendor would but never
sent) and inside a database transaction that is rolled back, so the links, log entries, possible matches
and conflicts the path writes vanish again. What is kept is the plan: counts per entity, direction and
action on the run, and a sample of :class:`PlannedChange` rows with the fields that would change.

The blast-radius guard (``guard_holds``) plans the linked records a reconciliation or an import would
touch the same way, and holds the run when too many identities would be rewritten.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from integrations.models import (
    Integration,
    LogAction,
    PlanAction,
    PlannedChange,
    RunKind,
    RunState,
    SyncLink,
    SyncRun,
)
from integrations.systems.base import ApiClient, Record
from integrations.systems.catalog import Entity
from mappings.models import FieldMapping

from . import apply
from .context import CRM, SideContext, SyncContext, context_for
from .guard import ENTITY_PLURALS, IDENTITY_ROLES, guard_verdict, guard_words
from .log import log_entry_create
from .mapping import TO_CRM, TO_ERP, jsonable
from .matching import link_for
from .ratelimit import bucket_shape
from .runs import _differs, _is_active, run_finish

logger = logging.getLogger(__name__)

#: The id a record that would be created carries in a preview.
NEW_ID = "new"
#: Planned changes stored per run; the counts always cover every record.
SAMPLE_LIMIT = 2000
#: Record entities a preview covers (documents and POS sales are out of its scope), in the order they sync.
PREVIEW_ENTITIES = (Entity.ORGANISATION, Entity.PERSON, Entity.ITEM, Entity.USER)
PREVIEWS = ("activation", "reconcile", "import", "mapping")
#: How an outcome's action reads in a plan, unless the outcome says more (``Outcome.plan``).
PLAN_OF_ACTION = {
    LogAction.CREATED: PlanAction.CREATE, LogAction.UPDATED: PlanAction.UPDATE, LogAction.SKIPPED: PlanAction.SKIP,
    LogAction.REVIEW: PlanAction.POSSIBLE, LogAction.CONFLICT: PlanAction.UPDATE, LogAction.FAILED: PlanAction.FAIL,
    LogAction.DELETED: PlanAction.DELETE, "echo": PlanAction.UNCHANGED,
}
PROGRESS_EVERY = 25


class PreviewWriteRefused(RuntimeError):
    """A preview reached a write the dry-run client has no harmless answer for."""


class DryRunClient:
    """A client that reads through ``inner`` and sends no write.

    ``create_record`` answers with the payload as the record would come back, its id ``"new"``;
    ``update_record`` with the current record merged with the data; ``delete_record`` with None.
    Each swallowed write is counted in :attr:`writes_swallowed`. Any other writing method of a vendor's
    client (posting an invoice, inserting rows …) is refused with :class:`PreviewWriteRefused`.
    """

    WRITE_PREFIXES = ("create_", "update_", "delete_", "insert_", "post_", "subscribe", "register")

    def __init__(self, inner: ApiClient):
        self.inner = inner
        self.writes_swallowed = 0
        self._created: dict[tuple[str, str], Record] = {}
        self._recent: OrderedDict[tuple[str, str], Record] = OrderedDict()

    def __getattr__(self, name: str) -> Any:
        if name.startswith(self.WRITE_PREFIXES):
            raise PreviewWriteRefused(f"A preview writes nothing, so it cannot {name.replace('_', ' ')}.")
        return getattr(self.inner, name)

    def _remember(self, entity: Entity, record_id: str, record: Record) -> Record:
        self._recent[(str(entity), str(record_id))] = record
        while len(self._recent) > 16:
            self._recent.popitem(last=False)
        return record

    def get_record(self, entity: Entity, record_id: str) -> Record:
        placeholder = self._created.get((str(entity), str(record_id)))
        if placeholder is not None:
            return dict(placeholder)
        return self._remember(entity, record_id, self.inner.get_record(entity, record_id))

    def list_records(self, entity: Entity, **kwargs: Any) -> Iterator[Record]:
        return self.inner.list_records(entity, **kwargs)

    def find_records(self, entity: Entity, field_name: str, value: Any) -> list[Record]:
        return self.inner.find_records(entity, field_name, value)

    def record_id(self, entity: Entity, record: Record) -> str:
        return self.inner.record_id(entity, record)

    def create_records(self, entity: Entity, rows: list[Record]) -> list[Record]:
        return [self.create_record(entity, row) for row in rows]

    def create_record(self, entity: Entity, data: Record) -> Record:
        self.writes_swallowed += 1
        record = dict(data)
        record[self._id_field(entity)] = NEW_ID
        self._created[(str(entity), NEW_ID)] = record
        return dict(record)

    def update_record(self, entity: Entity, record_id: str, data: Record, *, check: Any = None,
                      read: Any = None) -> Record:
        self.writes_swallowed += 1
        key = (str(entity), str(record_id))
        current = self._created.get(key) or self._recent.get(key) or self.get_record(entity, record_id)
        merged = {**current, **data}
        if key in self._created:
            self._created[key] = merged
        else:
            self._remember(entity, record_id, merged)
        return dict(merged)

    def delete_record(self, entity: Entity, record_id: str) -> None:
        self.writes_swallowed += 1
        return None

    def close(self) -> None:
        self.inner.close()

    def _id_field(self, entity: Entity) -> str:
        from integrations.systems.registry import get_system

        spec = get_system(self.inner.system).catalog().entity(entity)
        return spec.id_field if spec is not None else "id"


class LocalRateLimiter:
    """The vendor's limit kept in this process: a preview's database transactions are rolled back, so the
    shared bucket would forget what the preview spent."""

    def __init__(self, *, limit: int, window: float):
        self.capacity, self.rate = bucket_shape(limit, window)
        self.tokens, self.at = self.capacity, time.monotonic()
        self.lock = threading.Lock()

    def acquire(self, cost: int = 1) -> None:
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
                self.at = now
                if self.tokens >= cost:
                    self.tokens -= cost
                    return
                wait = (cost - self.tokens) / self.rate
            time.sleep(wait)


def dry_run_context(integration: Integration, entity: str, *, client_options: dict | None = None,
                    config: dict | None = None) -> SyncContext | None:
    """A context of ``entity`` whose clients write nothing (with ``config``'s proposed settings and rows)."""
    options = dict(client_options or {})
    settings, rows = None, None
    if config:
        settings = dict(config.get("settings") or {})
        if config.get("rows") is not None:
            entity_sync = integration.entity_syncs.get(entity=entity)
            rows = [FieldMapping(tenant_id=integration.tenant_id, entity_sync=entity_sync, position=n,
                                 erp_field=row["erp_field"], crm_field=row["crm_field"],
                                 direction=row.get("direction") or "", value_map=row.get("value_map") or {},
                                 required=bool(row.get("required")), conflict_owner=row.get("conflict_owner") or "",
                                 overflow=row.get("overflow") or "shorten")
                    for n, row in enumerate(config["rows"], start=1)]
    ctx = context_for(integration, entity, entity_settings=settings, mapping_rows=rows, **options)
    if ctx is None:
        return None
    for side in (ctx.crm, ctx.erp):
        limit = side.provider.rate_limit
        if limit and "rate_limiter" not in side.client_options:
            side.client_options["rate_limiter"] = LocalRateLimiter(limit=limit[0], window=limit[1])
        side.__dict__["client"] = DryRunClient(side.client)
    return ctx


# -- planning one record ------------------------------------------------------------------------------------

def identity_fields(ctx: SyncContext, *, source: SideContext, target: SideContext) -> set[str]:
    """The names under which an identity rewrite shows in an outcome's changes, on either side it writes."""
    names = {target.role_field(role) for role in IDENTITY_ROLES} - {None}
    names |= {f"{source.name}: {source.role_field(role)}" for role in IDENTITY_ROLES if source.role_field(role)}
    return {str(name) for name in names}


def plan_record(ctx: SyncContext, *, source: SideContext, external_id: str, run: SyncRun | None = None
                ) -> PlannedChange:
    """What syncing ``source``'s record would do, as an unsaved planned change; nothing stays written.

    ``ctx`` must be a dry-run context (:func:`dry_run_context`).
    """
    target = ctx.other(source)
    flow = TO_ERP if source.role == CRM else TO_CRM
    linked_before = link_for(ctx, source, str(external_id)) is not None
    linked_after = linked_before
    try:
        with transaction.atomic():
            outcome = apply.record_sync(ctx, source=source, external_id=str(external_id), action="updated")
            linked_after = link_for(ctx, source, str(external_id)) is not None
            transaction.set_rollback(True)
    except Exception as error:  # a preview reports what would fail instead of stopping
        logger.info("preview of %s %s %s failed: %s", ctx.entity, source.system, external_id, error)
        ids = {"crm_id": str(external_id)} if source.role == CRM else {"erp_id": str(external_id)}
        return PlannedChange(tenant_id=ctx.integration.tenant_id, run=run, entity=ctx.entity, direction=flow,
                             action=PlanAction.FAIL, reason=str(error)[:2000], **ids)
    action = outcome.plan or PLAN_OF_ACTION.get(outcome.action, PlanAction.SKIP)
    if not outcome.plan and not linked_before and linked_after and action in (PlanAction.UPDATE, PlanAction.SKIP):
        action = PlanAction.LINK
    changes = jsonable(dict(outcome.changes or {}))
    identity = action in (PlanAction.UPDATE, PlanAction.LINK) and bool(
        set(changes) & identity_fields(ctx, source=source, target=target))
    return PlannedChange(tenant_id=ctx.integration.tenant_id, run=run, entity=ctx.entity, direction=flow,
                         action=action, crm_id=str(outcome.crm_id or "")[:120], erp_id=str(outcome.erp_id or "")[:120],
                         label=str(outcome.label or "")[:200], changes=changes, identity=identity,
                         reason=str(outcome.reason or "")[:2000])


# -- what a preview covers -------------------------------------------------------------------------------

def _flowing_sides(ctx: SyncContext) -> list[SideContext]:
    return [side for side, flow in ((ctx.crm, TO_ERP), (ctx.erp, TO_CRM)) if flow in ctx.flows()]


def _hashes(ctx: SyncContext, side: SideContext) -> dict[str, str]:
    return dict(SyncLink.objects.filter(integration=ctx.integration, entity=ctx.entity)
                .exclude(**{f"{side.role}_id": ""}).values_list(f"{side.role}_id", f"{side.role}_hash"))


def records_to_plan(ctx: SyncContext, previews: str) -> list[tuple[SideContext, str]]:
    """(side, record id) of every record a preview of kind ``previews`` plans."""
    chosen: list[tuple[SideContext, str]] = []
    if previews == "import":
        side = ctx.erp if TO_CRM in ctx.flows() else ctx.crm
        return [(side, side.record_id(r)) for r in side.client.list_records(side.entity) if _is_active(side, r)]
    for side in _flowing_sides(ctx):
        hashes = _hashes(ctx, side)
        for record in side.client.list_records(side.entity):
            record_id = side.record_id(record)
            if previews == "reconcile":
                wanted = _differs(ctx, side, record, hashes)
            elif previews == "activation":
                wanted = record_id not in hashes or _differs(ctx, side, record, hashes)
            else:  # "mapping": every record, planned with the proposed configuration
                wanted = True
            if wanted:
                chosen.append((side, record_id))
    return chosen


def linked_records_to_plan(ctx: SyncContext, kind: str) -> list[tuple[SideContext, str]]:
    """(side, record id) of the linked records a reconciliation or an import would touch: what the guard weighs."""
    chosen: list[tuple[SideContext, str]] = []
    if kind == RunKind.IMPORT:
        side = ctx.erp if TO_CRM in ctx.flows() else ctx.crm
        hashes = _hashes(ctx, side)
        for record in side.client.list_records(side.entity):
            record_id = side.record_id(record)
            if record_id in hashes and _is_active(side, record):
                chosen.append((side, record_id))
        return chosen
    for side in _flowing_sides(ctx):
        hashes = _hashes(ctx, side)
        for record in side.client.list_records(side.entity):
            record_id = side.record_id(record)
            if record_id in hashes and _differs(ctx, side, record, hashes):
                chosen.append((side, record_id))
    return chosen


# -- the plan of a run -----------------------------------------------------------------------------------

@dataclass
class PlanBook:
    """Counts of a plan and the sample of planned changes kept for it."""

    run: SyncRun
    counts: dict[str, dict[str, dict[str, int]]]
    stored: int = 0
    identity: int = 0

    def add(self, planned: list[PlannedChange]) -> None:
        sample = []
        for change in planned:
            by_action = self.counts.setdefault(change.entity, {}).setdefault(change.direction, {})
            by_action[change.action] = by_action.get(change.action, 0) + 1
            self.identity += int(change.identity)
            if change.action != PlanAction.UNCHANGED and self.stored + len(sample) < SAMPLE_LIMIT:
                change.run = self.run
                sample.append(change)
        PlannedChange.objects.bulk_create(sample, batch_size=500)
        self.stored += len(sample)


#: How long one task plans before it hands the rest of the preview to the next task: workers end a task
#: after ``Q_TIMEOUT`` (300 s by default), and a vendor's rate limit can make planning slow (webCRM: 250
#: requests a minute).
SLICE_SECONDS = 150.0


def preview_run(*, run: SyncRun, client_options: dict | None = None, slice_seconds: float = SLICE_SECONDS) -> int:
    """Carry out a preview run: plan the records it covers, store counts and a sample; return records planned.

    A preview plans for at most ``slice_seconds`` per call; where more is left, its place is kept in
    ``run.cursor["planned"]`` and the task layer hands the run to the workers again (``preview_unfinished``),
    so a long preview goes on in
    slices instead of being ended by the worker's time limit. Listing is repeated per slice; the records
    already planned are skipped.
    """
    integration = run.integration
    cursor = dict(run.cursor or {})
    config = cursor.get("config") if run.previews == "mapping" else None
    already = int(cursor.get("planned", 0))
    deadline = time.monotonic() + slice_seconds
    entities = [run.entity] if run.entity else [
        e for e in PREVIEW_ENTITIES
        if integration.entity_syncs.filter(entity=e).exclude(direction="off").exists()]
    contexts: list[SyncContext] = []
    try:
        work: list[tuple[SyncContext, SideContext, str]] = []
        for entity in entities:
            ctx = dry_run_context(integration, entity, client_options=client_options, config=config)
            if ctx is None:
                continue
            contexts.append(ctx)
            work += [(ctx, side, record_id) for side, record_id in records_to_plan(ctx, run.previews)]
        SyncRun.objects.filter(pk=run.pk).update(total=len(work), done=min(already, len(work)))
        book = PlanBook(run=run, counts=dict(run.plan or {}) if already else {},
                        stored=run.planned_changes.count() if already else 0)
        batch: list[PlannedChange] = []
        done = already
        for done, (ctx, side, record_id) in enumerate(work[already:], start=already + 1):
            batch.append(plan_record(ctx, source=side, external_id=record_id, run=run))
            out_of_time = time.monotonic() > deadline and done < len(work)
            if done % PROGRESS_EVERY == 0 or done == len(work) or out_of_time:
                book.add(batch)
                batch = []
                SyncRun.objects.filter(pk=run.pk).update(done=done, plan=book.counts)
            if out_of_time:
                break
        writes = int(cursor.get("writes_held_back", 0)) + sum(
            side.client.writes_swallowed for ctx in contexts for side in (ctx.crm, ctx.erp))
        if done < len(work):  # the task layer hands the rest to the next task (``preview_unfinished``)
            SyncRun.objects.filter(pk=run.pk).update(cursor={**cursor, "planned": done, "writes_held_back": writes})
            return done - already
        SyncRun.objects.filter(pk=run.pk).update(plan=book.counts, counts={"planned": len(work),
                                                                          "writes_held_back": writes})
        run_finish(run)
        return done - already
    except Exception as error:
        run_finish(run, error=f"The preview stopped: {error}")
        raise
    finally:
        for ctx in contexts:
            ctx.close()


def preview_unfinished(run_id: int) -> bool:
    """Whether a preview stopped at the end of a slice with records left to plan."""
    run = SyncRun.objects.filter(pk=run_id).values("state", "cursor", "total").first()
    return bool(run and run["state"] == RunState.RUNNING and run["total"] is not None
                and int((run["cursor"] or {}).get("planned", 0)) < run["total"])


# -- the blast-radius guard ---------------------------------------------------------------------------

def guard_holds(*, run: SyncRun, client_options: dict | None = None) -> bool:
    """Whether the guard holds ``run`` (a reconciliation or an initial import) before it stores anything.

    Unless the run was confirmed or started with the guard off, the linked records it would touch are
    planned without writing; when too many identities would be rewritten the run is held (state "held",
    its figures in ``run.guard``, the planned changes stored, a log entry) and True is returned.
    Nothing is planned when no record of the entity is linked.
    """
    if run.guard_off or run.confirmed_at is not None or run.kind not in (RunKind.RECONCILE, RunKind.IMPORT):
        return False
    integration = run.integration
    linked = SyncLink.objects.filter(integration=integration, entity=run.entity).count()
    if not linked:
        return False
    ctx = dry_run_context(integration, run.entity, client_options=client_options)
    if ctx is None:
        return False
    try:
        planned = [plan_record(ctx, source=side, external_id=record_id)
                   for side, record_id in linked_records_to_plan(ctx, run.kind)]
    finally:
        ctx.close()
    verdict = guard_verdict(identity_rewrites=sum(1 for p in planned if p.identity), linked=linked,
                            share=integration.guard_share, minimum=integration.guard_minimum)
    if not verdict.tripped:
        SyncRun.objects.filter(pk=run.pk).update(guard=verdict.as_dict())
        run.guard = verdict.as_dict()
        return False
    with transaction.atomic():
        book = PlanBook(run=run, counts={})
        book.add(planned)
        SyncRun.objects.filter(pk=run.pk).update(state=RunState.HELD, guard=verdict.as_dict(), plan=book.counts,
                                                 total=len(planned), done=0)
        what = run.get_kind_display().lower()
        log_entry_create(
            integration=integration, entity=run.entity, action=LogAction.REVIEW, run=run,
            reason=f"The {what} of {ENTITY_PLURALS.get(run.entity, run.entity)} is waiting for an admin: it "
                   f"{guard_words(verdict.as_dict(), run.entity)}. Nothing was written. Look at its plan and "
                   "confirm or cancel it on the runs page.")
    run.state, run.guard, run.plan = RunState.HELD, verdict.as_dict(), book.counts
    return True


__all__ = ["NEW_ID", "PREVIEWS", "PREVIEW_ENTITIES", "SAMPLE_LIMIT", "DryRunClient", "dry_run_context",
           "guard_holds", "plan_record", "preview_run", "preview_unfinished"]
