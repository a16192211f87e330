"""Runs over whole entities: the safety reconciliation and the initial import.

Reconciliation pages through both sides, compares each record with its link's hash, and stores an
event for every record that differs (or has no link but should): webhooks that never arrived are
caught here. When nothing differs it makes no writes at all. The count of differences is the drift.

The initial import stores an event per active ERP record; workers process them like any other change,
and the run's progress is how many of its events are finished. It is resumable: the cursor remembers
how many records were already stored, and a second start skips them.
"""

from __future__ import annotations

from itertools import islice

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from integrations.models import (
    EventSource,
    EventState,
    Integration,
    LogAction,
    MatchState,
    PossibleMatch,
    RunKind,
    RunState,
    SyncLink,
    SyncRun,
)
from integrations.systems.base import Record, WebhookAction
from integrations.systems.catalog import Entity
from integrations.systems.words import joined

from .activation import LEFT_TO_IMPORT, changed_after_activation
from .apply import _gates
from .context import CRM, ERP, SideContext, SyncContext, context_for
from .documents_sync import DOCUMENT_ENTITIES
from .drift import linked_record_differs, list_proofs_store
from .ingest import events_ingest_batch
from .log import log_entry_create
from .mapping import TO_CRM, TO_ERP, is_blank
from .pending import KEY_ROLE

BATCH = 200


def run_start(*, integration: Integration, kind: str, entity: str, user=None) -> SyncRun:
    return SyncRun.objects.create(tenant_id=integration.tenant_id, integration=integration, kind=kind,
                                  entity=entity, started_by=user if getattr(user, "is_authenticated", False) else None)


def run_finish(run: SyncRun, *, error: str = "") -> None:
    SyncRun.objects.filter(pk=run.pk).update(state=RunState.FAILED if error else RunState.DONE,
                                             finished_at=timezone.now(), error=error[:2000])


def _is_active(side: SideContext, record: Record) -> bool:
    active, blocked = side.role_field("active"), side.role_field("blocked")
    if active and record.get(active) is not None and not record.get(active):
        return False
    return not (blocked and record.get(blocked) and not is_blank(record.get(blocked)))


def reconcile_entity(*, run: SyncRun, client_options: dict | None = None) -> int:
    """Compare both sides of ``run.entity`` with the links; store an event for each difference."""
    ctx = context_for(run.integration, run.entity, **{"bulk": True, **(client_options or {})})
    if ctx is None:
        run_finish(run, error="This integration does not sync that entity.")
        return 0
    drift = seen = 0
    from .preview import guard_holds  # the guard plans through the engine's own path, which imports this module

    try:
        if guard_holds(run=run, client_options=client_options):
            return 0  # held before anything is stored: an admin confirms or cancels it
        for side, flow in ((ctx.crm, TO_ERP), (ctx.erp, TO_CRM)):
            if flow not in ctx.flows():
                continue
            # A link with writes still pending (a worker stopped mid-way) is drift until they are done.
            hashes = {record_id: "" if pending else digest for record_id, digest, pending in
                      SyncLink.objects.filter(integration=ctx.integration, entity=ctx.entity)
                      .exclude(**{f"{side.role}_id": ""})
                      .values_list(f"{side.role}_id", f"{side.role}_hash", "pending")}
            records = side.client.list_records(side.entity)
            keys: dict[str, list[str]] = {}
            listed: set[str] = set()
            while batch := list(islice(records, BATCH)):
                _keys_seen(side, batch, keys)
                # A list item marked deleted (Customers 1st may list soft-deleted customers) is not there: it is
                # checked by id with the unlisted ones (``_deleted_linked``), never sent as a change.
                present = [r for r in batch if not side.client.is_deleted(side.entity, r)]
                listed.update(side.record_id(r) for r in present)
                differing = [r for r in present if _differs(ctx, side, r, hashes)]
                _store(ctx, side, differing, EventSource.RECONCILE, run)
                list_proofs_store(ctx, side)
                drift += len(differing)
                seen += len(batch)
                left = ctx.__dict__.get("left_to_import")
                if left:  # this worker owns the run's own counters (``log.run_count``)
                    run.counts = {**(run.counts or {}), LEFT_TO_IMPORT: len(left)}
                SyncRun.objects.filter(pk=run.pk).update(done=seen, drift=drift, counts=run.counts)
            _report_copies(ctx, side, keys, run)
            gone = _deleted_linked(ctx, side, [record_id for record_id in hashes if record_id not in listed], run)
            if gone:
                drift += gone
                SyncRun.objects.filter(pk=run.pk).update(drift=drift)
        from alerts.services import drift_history_record  # the drift history outlives the run

        drift_history_record(run=run, checked=seen, drift=drift)
        # Listed: the run goes on until the events it stored are processed (or parked), counted by run_progress.
        waiting = run.events.count()
        if waiting:
            SyncRun.objects.filter(pk=run.pk).update(total=waiting, done=run.events.filter(
                state__in=FINISHED_STATES).count(), cursor={**(run.cursor or {}), "listed": seen})
            run.refresh_from_db()
            run_progress(run)
        else:
            run_finish(run)
    except Exception as error:
        run_finish(run, error=f"The reconciliation stopped: {error}")
        raise
    finally:
        ctx.close()
    return drift


def _deleted_linked(ctx: SyncContext, side: SideContext, unlisted: list[str], run: SyncRun) -> int:
    """Linked records of ``side`` its list did not show: each is read by id, and only one proven deleted (not found,
    or marked deleted: ``deletes.record_gone``) counts; a record a list page left out but still readable is not.

    Those are handed to the delete handling a delete notice gets: with ``side``'s delete notices switched on for the
    entity, a "deleted" event of the run (processed by ``deletes.record_delete``, which reads the record again and
    applies the entity's rules); with them off, nothing is deleted and the link is removed with a log entry
    (``deletes.deleted_while_notices_off``). Either way the pair is unlinked, so the next reconciliation finds
    nothing. Returns how many were found deleted (drift).

    Orders, invoices, POS sales and day reports are left out: a deleted one is never carried over (accounting keeps
    its history, ``documents_sync.document_sync``), so there is nothing to repair.
    """
    from mappings.models import WebhookToggle

    from .deletes import deleted_while_notices_off, record_gone

    if Entity(ctx.entity) in DOCUMENT_ENTITIES or ctx.entity in (Entity.POS_SALE, Entity.DAILY_REPORT):
        return 0
    gone = [record_id for record_id in sorted(unlisted) if record_gone(side, record_id)]
    if not gone:
        return 0
    notices_on = WebhookToggle.objects.filter(integration=ctx.integration, system=side.system, entity=ctx.entity,
                                              action=WebhookAction.DELETED, enabled=True).exists()
    if notices_on:
        events_ingest_batch(integration=ctx.integration, system=side.system, entity=ctx.entity, external_ids=gone,
                            source=EventSource.RECONCILE, run_id=run.pk, action=WebhookAction.DELETED)
        return len(gone)
    target = ctx.other(side)
    for record_id in gone:
        link = SyncLink.objects.filter(integration=ctx.integration, entity=ctx.entity,
                                       **{f"{side.role}_id": record_id}).first()
        if link is None:
            continue
        outcome = deleted_while_notices_off(ctx, source=side, target=target, link=link, external_id=record_id)
        log_entry_create(integration=ctx.integration, entity=ctx.entity, action=outcome.action,
                         direction=TO_ERP if side.role == CRM else TO_CRM, crm_id=outcome.crm_id,
                         erp_id=outcome.erp_id, label=outcome.label, reason=outcome.reason, run=run)
    return len(gone)


def _keys_seen(side: SideContext, records: list[Record], keys: dict[str, list[str]]) -> None:
    """Collect the Synkro keys (``pending.KEY_ROLE``) of listed documents: key → the ids of the records holding it."""
    field = side.role_field(KEY_ROLE) if side.role == ERP else None
    if not field:
        return
    for record in records:
        key = str(record.get(field) or "").strip()
        if key:
            keys.setdefault(key, []).append(side.record_id(record))


def _report_copies(ctx: SyncContext, side: SideContext, keys: dict[str, list[str]], run: SyncRun) -> int:
    """Log each Synkro key that more than one document of ``side`` carries: copies an attempt whose answer was lost
    made before creates looked for their key. Nothing is deleted; a person checks. Returns how many were found."""
    copies = {key: ids for key, ids in keys.items() if len(ids) > 1}
    what = "Invoices" if side.entity == Entity.INVOICE else "Sales orders"
    for key, ids in sorted(copies.items()):
        log_entry_create(
            integration=ctx.integration, entity=ctx.entity, action=LogAction.REVIEW, erp_id=ids[0], run=run,
            label=f"{what} {', '.join(ids)}",
            reason=f"{what} {joined(ids)} in {side.name} carry the same Synkro key "
                   f"({key}): all but one are copies made by an attempt whose answer was lost. Keep the one webCRM "
                   f"names and delete the others in {side.name}.")
    if copies:
        run.counts = {**(run.counts or {}), "copies": len(copies)}
        SyncRun.objects.filter(pk=run.pk).update(counts=run.counts)
    return len(copies)


def _differs(ctx: SyncContext, side: SideContext, record: Record, hashes: dict[str, str]) -> bool:
    """Whether ``record`` needs an event: linked and changed since the last sync, or unlinked, wanted on the
    other side and changed after the integration was switched on.

    A linked record is compared only on what its list answer holds; where the list leaves out fields the link
    covers, the record is read whole unless a list proof shows nothing changed (``drift``).

    An unlinked record older than that (or whose vendor keeps no modification time) is the initial import's,
    which a person starts: it is left alone and counted on the running reconciliation.
    """
    record_id = side.record_id(record)
    known = hashes.get(record_id)
    if known is None:
        if record_id in _waiting_for_a_person(ctx, side):
            return False  # a possible match waits (or a person chose to skip it): not drift, nothing to repeat
        gate, _ = _gates(ctx, source=side, target=ctx.other(side), record=record, linked=False)
        if not (gate.go and _is_active(side, record)):
            return False
        if changed_after_activation(integration=ctx.integration, side=side, record=record):
            return True
        _left_to_import(ctx, side, record_id)
        return False
    return linked_record_differs(ctx, side, record, known)


def _waiting_for_a_person(ctx: SyncContext, side: SideContext) -> set[str]:
    """Ids of ``side``'s unlinked records that wait as a possible match or were skipped by a person (read once)."""
    cache = ctx.__dict__.setdefault("waiting_for_a_person", {})
    if side.role not in cache:
        cache[side.role] = set(PossibleMatch.objects.filter(
            integration=ctx.integration, entity=ctx.entity, source_role=side.role,
            state__in=(MatchState.OPEN, MatchState.SKIPPED)).values_list("source_id", flat=True))
    return cache[side.role]


def _left_to_import(ctx: SyncContext, side: SideContext, record_id: str) -> None:
    """Remember an unlinked record left to the initial import; the reconciliation counts them on its run.

    Kept as a set of distinct records, so listing (or planning) the same records again never inflates it.
    """
    ctx.__dict__.setdefault("left_to_import", set()).add((side.role, record_id))


def _store(ctx: SyncContext, side: SideContext, records: list[Record], source: str, run: SyncRun) -> None:
    """One event per record of the batch, in one transaction, each belonging to ``run`` unless it already had one."""
    events_ingest_batch(integration=ctx.integration, system=side.system, entity=ctx.entity,
                        external_ids=[side.record_id(record) for record in records], source=source, run_id=run.pk)


def import_entity(*, run: SyncRun, client_options: dict | None = None) -> int:
    """Store an event for every active record of the ERP (resuming where a crashed start stopped)."""
    ctx = context_for(run.integration, run.entity, **{"bulk": True, **(client_options or {})})
    if ctx is None:
        run_finish(run, error="This integration does not sync that entity.")
        return 0
    side = ctx.erp if TO_CRM in ctx.flows() else ctx.crm
    already = int((run.cursor or {}).get("listed", 0))
    listed = stored = 0
    from .preview import guard_holds  # the guard plans through the engine's own path, which imports this module

    try:
        if guard_holds(run=run, client_options=client_options):
            return 0  # held before anything is stored: an admin confirms or cancels it
        records = side.client.list_records(side.entity)
        while batch := list(islice(records, BATCH)):
            start = listed
            listed += len(batch)
            if listed <= already:
                continue
            wanted = [r for r in batch[max(0, already - start):] if _is_active(side, r)]
            with transaction.atomic():
                _store(ctx, side, wanted, EventSource.IMPORT, run)
                SyncRun.objects.filter(pk=run.pk).update(cursor={"listed": listed})
            stored += len(wanted)
        total = run.events.count()
        SyncRun.objects.filter(pk=run.pk).update(total=total)
    except Exception as error:
        run_finish(run, error=f"The import stopped after {listed} records: {error}. Start it again to resume.")
        raise
    finally:
        ctx.close()
    return stored


#: Event states that end an event's part in a run: synced (or skipped, superseded, covered), dropped, or parked.
FINISHED_STATES = (EventState.DONE, EventState.DROPPED, EventState.FAILED)
#: Event states in which an event still waits for a worker (or is being worked on).
WAITING_STATES = (EventState.PENDING, EventState.PROCESSING)


def runs_settle() -> int:
    """Bring every running run that waits for its events up to date (so a run finishes without anyone looking);
    returns how many finished."""
    running = SyncRun.objects.filter(state=RunState.RUNNING, total__isnull=False,
                                     kind__in=(RunKind.IMPORT, RunKind.REPLAY, RunKind.RECONCILE))
    return sum(run_progress(run).state != RunState.RUNNING for run in running)


def run_done_count(*, total: int | None, waiting: int, finished: int) -> int:
    """How many of a run's events are behind it, for its progress bar.

    Once the run knows its ``total`` (it has stored all its events), every event not ``waiting`` is done — also one
    that left the run since: replayed again under a newer replay run, or removed with old log data; counting only
    the ``finished`` ones still there would leave such a run short of its total for good. Before that (an import
    still listing) it is the ``finished`` ones.
    """
    if total is None:
        return finished
    return max(0, min(total, total - waiting))


def run_progress(run: SyncRun) -> SyncRun:
    """Bring a running run's progress up to date and finish it when none of its events waits any more.

    An import and a replay are measured by their events (``done`` of ``total``, see ``run_done_count``); so is a
    reconciliation once it has listed both sides (``total`` is then the number of differences it stored; while it
    lists, ``done`` counts what it listed). A run finishes when every event it stored is done, skipped, dropped,
    superseded, parked as failed, or gone; never while one still waits.
    """
    if run.state != RunState.RUNNING:
        return run
    if run.kind in (RunKind.IMPORT, RunKind.REPLAY) or (run.kind == RunKind.RECONCILE and run.total is not None):
        states = dict(run.events.order_by().values("state").annotate(n=Count("id")).values_list("state", "n"))
        waiting = sum(states.get(state, 0) for state in WAITING_STATES)
        finished = sum(states.get(state, 0) for state in FINISHED_STATES)
        done = run_done_count(total=run.total, waiting=waiting, finished=finished)
        SyncRun.objects.filter(pk=run.pk, state=RunState.RUNNING).update(done=done)
        if run.total is not None and not waiting:
            run_finish(run)
    run.refresh_from_db()
    return run


def run_state_words(run: SyncRun, *, failed: int = 0) -> str:
    """A run's state in plain words for its row: "Running, 3 of 10 waiting", "Finished", "Finished with 1 failed".

    ``failed`` is how many of the run's changes were parked as failed (its log's "failed" entries, which stay the
    run's even when the change is replayed again later). A run with work still waiting never reads "Finished".
    """
    if run.state == RunState.RUNNING:
        if run.total is not None and run.kind != RunKind.PREVIEW:
            waiting = max(0, run.total - run.done)
            return f"Running, {waiting} of {run.total} waiting" if waiting else "Running"
        if not run.done and not run.cursor and run.kind in (RunKind.RECONCILE, RunKind.IMPORT):
            return "Queued: starts when a bulk worker is free"  # behind an import or a reconciliation
        return "Running"
    if run.state == RunState.DONE:
        return f"Finished with {failed} failed" if failed else "Finished"
    return str(run.get_state_display())


def reconciliations_due(*, now=None) -> list:
    """Entity settings whose safety reconciliation interval has passed since their last run."""
    from datetime import timedelta

    from mappings.models import EntitySync

    now = now or timezone.now()
    due = []
    syncs = (EntitySync.objects.exclude(direction="off").exclude(reconcile_interval_hours=0)
             .filter(integration__active=True, integration__tenant__active=True)
             .select_related("integration__erp_connection"))
    for entity_sync in syncs:
        if not entity_sync.integration.erp_connection.provider.catalog().supports(entity_sync.entity):
            continue  # the ERP keeps no such records (Fortnox has no contact persons): nothing to compare
        last = (SyncRun.objects.filter(integration=entity_sync.integration, entity=entity_sync.entity,
                                       kind=RunKind.RECONCILE).order_by("-started_at").first())
        # The first one comes a full interval after the integration was (last) switched on, never at once.
        activated = entity_sync.integration.activated_at or entity_sync.integration.created_at
        since = max(last.started_at, activated) if last else activated
        if since + timedelta(hours=entity_sync.reconcile_interval_hours) <= now:
            due.append(entity_sync)
    return due


__all__ = [
    "CRM",
    "ERP",
    "import_entity",
    "reconcile_entity",
    "reconciliations_due",
    "run_done_count",
    "run_finish",
    "run_progress",
    "run_start",
    "run_state_words",
    "runs_settle",
]
