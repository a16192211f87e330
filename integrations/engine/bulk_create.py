"""Creating an import's or a reconciliation's new records in batches: one list insert for many records.

An initial import stores one event per source record. Where the target system has a list insert whose answer names
each new record (Uniconta ``InsertList``; ``ApiClient.list_insert_size``), a bulk worker takes the due import and
reconciliation events of one integration, entity and source system together (``events_batch_process``) and:

1. claims them and holds each record's lease, as the single path does (:mod:`.process`, :mod:`.locks`);
2. re-reads each record from its source and applies the single path's own steps to it — direction, gates and
   triggers (``apply._gates``), mapping, parent reference, the counterpart search with its identity proof and
   possible matches (``matching.counterpart_find``) — with the target's match searches for the whole batch asked
   in few list reads (``ApiClient.find_records_each`` for the whole batch) instead of one or more per record;
3. sends the records planned "create on the other side" in one list call per ``list_insert_size`` rows, then links,
   writes the customer number back and logs each exactly as ``apply._create`` does.

Nothing is weaker than the single path: a record that is linked already, deleted, adopted by its match, or that
shares an identity value with another record of the same batch (the single path would have found the first one's
new record) is handed to the single path (``process``) once the batch's records are linked; a record whose
evidence disagrees waits under Possible matches with the same words.

Failures end each row where the single path would leave it: a list refused as a whole (Uniconta applies a list as
one transaction, so one bad row refuses all) is sent again row by row, so only the refused row fails — parked with
the vendor's words, replayable — and the others are created; a list whose answer is lost (time-out, 5xx) or does not
name each new record is retried later, and the retry's counterpart search finds the records it made (their number,
org./VAT number and name are the source's) and links them instead of creating them again: the same proof the single
path relies on after a crash between its create and its link.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.models import EventState, InboundEvent, LogAction, SyncLink
from integrations.systems.base import ApiClient, Record, normalise_match_value
from integrations.systems.catalog import Entity
from integrations.systems.errors import ChangedSinceRead, ExternalSystemError, NotFoundError, VendorValidationError

from . import plan, pos, process
from .apply import _by_role, _gates, _number_comes_back, _remember, _write_back_number, create_payload
from .candidates import SEARCH_ROLES, _spellings, number_from_other_integration, record_label
from .context import CRM, SideContext, SyncContext, context_for
from .documents_sync import DOCUMENT_ENTITIES
from .ingest import BULK_SOURCES
from .leases import event_held, event_let_go
from .locks import RecordBusy, record_key, record_locked
from .log import log_entry_create
from .mapping import TO_CRM, TO_ERP, is_blank, jsonable, map_record
from .matching import _source_identity, counterpart_find, link_for, parent_reference
from .outcome import Outcome, ids_for
from .possible import possible_matches_settle

logger = logging.getLogger(__name__)

#: Entities whose records are created alone: documents carry lines, POS sales and day reports their own rules.
SINGLE_ONLY = (*DOCUMENT_ENTITIES, Entity.POS_SALE, Entity.DAILY_REPORT)


@dataclass
class Planned:
    """One claimed event on its way through the batch: its record as read, and what is to be created from it."""

    event: InboundEvent
    record: Record | None = None
    label: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    #: ``(target field, normalised value)`` of every match search made for it: a second record of the batch sharing
    #: one is left to the single path, which then finds the first one's new record.
    keys: set[tuple[str, str]] = field(default_factory=set)

    @property
    def external_id(self) -> str:
        return str(self.event.external_id)


class BatchFinder:
    """A target client whose match searches answer from rows read for the whole batch.

    ``prefetch`` asks the vendor for every ``(field, value)`` the batch's searches will ask, in as few requests as
    it can (``ApiClient.find_records_each``: Uniconta joins them with ``or``); ``find_records`` and
    ``find_records_each`` then answer a prefetched term from those rows — each term's rows are what the vendor's
    ``find_records`` answers for it — and send any other term to the vendor as before, so an answer never depends on
    what was prefetched. Everything else is the client's.
    """

    def __init__(self, client: ApiClient, entity: Entity):
        self._client = client
        self._entity = entity
        self._answers: dict[tuple[str, str], list[Record]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def prefetch(self, terms: list[tuple[str, Any]]) -> None:
        fresh = list({(name, normalise_match_value(value)): (name, value) for name, value in terms
                      if (name, normalise_match_value(value)) not in self._answers}.values())
        if not fresh:
            return
        for (name, value), rows in zip(fresh, self._client.find_records_each(self._entity, fresh), strict=True):
            self._answers[(name, normalise_match_value(value))] = rows

    def find_records_each(self, entity: Entity, terms: list[tuple[str, Any]]) -> list[list[Record]]:
        if entity != self._entity:
            return self._client.find_records_each(entity, terms)
        keys = [(name, normalise_match_value(value)) for name, value in terms]
        missing = [term for term, key in zip(terms, keys, strict=True) if key not in self._answers]
        asked = iter(self._client.find_records_each(entity, missing) if missing else [])
        return [[dict(r) for r in self._answers[key]] if key in self._answers else next(asked) for key in keys]

    def find_records(self, entity: Entity, field_name: str, value: Any) -> list[Record]:
        return self.find_records_each(entity, [(field_name, value)])[0]


def events_batch_process(*, event_ids: list[int], client_options: dict | None = None) -> int:
    """Process a chunk of events handed to a bulk worker; returns how many it (or a batch it led) processed.

    Each bulk event (an import's or a reconciliation's) leads a batch of the due bulk events of its integration,
    entity and source system (``batch_process``) where the target has a list insert; every other event goes the
    single path. An event already taken (by this chunk's earlier batch, or another worker) is left alone.
    """
    bulk = process.bulk_events(event_ids)
    handled = 0
    for event_id in event_ids:
        if event_id in bulk:
            handled += batch_process(event_id=event_id, client_options=client_options)
        elif process.event_process(event_id=event_id, client_options=client_options) is not None:
            handled += 1
    return handled


def batch_process(*, event_id: int, client_options: dict | None = None) -> int:
    """Take the due bulk event ``event_id`` and, when its target has a list insert, up to ``list_insert_size`` due
    bulk events of the same integration, entity and system with it; sync them (see the module). Returns how many
    events were processed (0 when ``event_id`` was not due or already taken)."""
    now = timezone.now()
    lead = (InboundEvent.objects.filter(pk=event_id, state=EventState.PENDING, source__in=BULK_SOURCES)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .select_related("integration__crm_connection", "integration__erp_connection").first())
    if lead is None:
        return 0
    options = {**(client_options or {}), "bulk": True}
    ctx = context_for(lead.integration, lead.entity, **options)
    size = _batch_size(ctx, lead)
    if size <= 1:
        if ctx is not None:
            ctx.close()
        return int(process.event_process(event_id=event_id, client_options=client_options) is not None)
    due = list(InboundEvent.objects.filter(
        integration_id=lead.integration_id, entity=lead.entity, system=lead.system, state=EventState.PENDING,
        source__in=BULK_SOURCES).exclude(action="deleted").exclude(pk=lead.pk)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("received_at", "pk").values_list("pk", flat=True)[:size - 1])
    claimed = [pk for pk in [lead.pk, *due] if process.event_claim(event_id=pk) is not None]
    events = list(InboundEvent.objects.filter(pk__in=claimed).order_by("received_at", "pk")
                  .select_related("integration__crm_connection", "integration__erp_connection",
                                  "integration__tenant", "run"))
    if not events:  # taken by another worker meanwhile
        ctx.close()
        return 0
    for event in events:
        event_held(event.pk)
    try:
        later = _batch_sync(ctx, events)
    finally:
        ctx.close()
        for event in events:
            event_let_go(event.pk)
    for event in later:  # after the batch's links exist, as a one-by-one run would have met them
        event_held(event.pk)
        try:
            process._event_process(event, client_options=client_options)
        finally:
            event_let_go(event.pk)
    return len(events)


def _batch_size(ctx: SyncContext | None, event: InboundEvent) -> int:
    """Rows per list insert into the side ``event``'s record goes to; 1 when it is created alone."""
    if ctx is None or event.action == "deleted" or Entity(ctx.entity) in SINGLE_ONLY:
        return 1
    try:
        source = ctx.side(event.system)
    except LookupError:
        return 1
    flow = TO_ERP if source.role == CRM else TO_CRM
    if flow not in ctx.flows():
        return 1
    target = ctx.other(source)
    return max(1, int(target.client.list_insert_size(target.entity)))


def _batch_sync(ctx: SyncContext, events: list[InboundEvent]) -> list[InboundEvent]:
    """Sync the claimed ``events`` (one integration, entity and source system); returns those left to the single
    path, still claimed."""
    source = ctx.side(events[0].system)
    target = ctx.other(source)
    flow = TO_ERP if source.role == CRM else TO_CRM
    finder = BatchFinder(target.client, target.entity)
    searching = replace(target)
    searching.__dict__["client"] = finder  # the side's cached client, answering searches from the batch's reads
    search_ctx = replace(ctx, crm=searching if target.role == CRM else ctx.crm,
                         erp=searching if target.role != CRM else ctx.erp)
    later: list[InboundEvent] = []
    creating: list[Planned] = []
    creating_keys: set[tuple[str, str]] = set()
    with ExitStack() as held:
        readable: list[Planned] = []
        for event in events:
            if link_for(ctx, source, str(event.external_id)) is not None:
                later.append(event)  # linked: an update, the single path's
                continue
            try:
                held.enter_context(record_locked(record_key(
                    integration_id=ctx.integration.pk, entity=event.entity, system=event.system,
                    external_id=event.external_id)))
            except RecordBusy:
                process._retry_later(event, "Another worker is writing this record; trying again in a moment.",
                                     delay=timedelta(seconds=2), count_attempt=False)
                continue
            planned = Planned(event)
            try:
                outcome = _prepare(ctx, planned, source=source, target=target, flow=flow)
            except Exception as error:
                _failed(ctx, event, error)
                continue
            if outcome is not None:
                _done(ctx, planned, outcome, flow)
            elif planned.record is None:
                later.append(event)
            else:
                readable.append(planned)
        try:
            _prefetch(ctx, finder, readable, source=source, target=target)
        except Exception as error:  # the target did not answer the batch's searches: each event as on its own
            for planned in readable:
                _failed(ctx, planned.event, error)
            readable = []
        for planned in readable:
            if planned.keys & creating_keys:  # one by one, it would find the record created just before it
                later.append(planned.event)
                continue
            try:
                found = counterpart_find(search_ctx, source=source, target=searching, record=planned.record,
                                         values=planned.values, label=planned.label)
            except Exception as error:
                _failed(ctx, planned.event, error)
                continue
            if found.outcome is not None:
                _done(ctx, planned, found.outcome, flow)
            elif found.adopt is not None:
                later.append(planned.event)  # adopted: linked and updated by the single path
            else:
                verdict = _payload(ctx, planned, source=source, target=target, flow=flow)
                if verdict is not None:
                    _done(ctx, planned, verdict, flow)
                else:
                    creating.append(planned)
                    creating_keys.update(planned.keys)
        size = max(1, int(target.client.list_insert_size(target.entity)))
        for start in range(0, len(creating), size):
            _create_list(ctx, creating[start:start + size], source=source, target=target, flow=flow, later=later)
    return later


def _prepare(ctx: SyncContext, planned: Planned, *, source: SideContext, target: SideContext,
             flow: str) -> Outcome | None:
    """The single path's steps before its match search (``apply._sync``) for an unlinked record: read it, gates,
    mapping, parent. Returns the outcome when it ends there; None with ``planned.record`` set when it goes on,
    None without a record when it is the single path's (gone at its source: that path says so)."""
    external_id = planned.external_id
    try:
        record = source.client.get_record(source.entity, external_id)
    except NotFoundError:
        return None
    label = record_label(source, record)
    gate, _set_back = _gates(ctx, source=source, target=target, record=record, linked=False)
    if not gate.go:
        return Outcome(LogAction.SKIPPED, gate.reason, **ids_for(source, external_id, ""), label=label,
                       replayable=gate.replayable)
    mapped = map_record(record, ctx.rules(flow))
    values = dict(mapped.values)
    if ctx.entity == Entity.ORGANISATION and flow == TO_CRM:
        type_field = target.role_field("type")
        if ctx.entity_sync.erp_created_type and type_field:
            values[type_field] = ctx.entity_sync.erp_created_type  # "Set type for ERP customers"
    if ctx.entity == Entity.PERSON and flow == TO_CRM and ctx.entity_sync.relevant_flag_field:
        values[ctx.entity_sync.relevant_flag_field] = True
    values = pos.pos_values(ctx, source=source, record=record, values=values, creating=True)
    parent = parent_reference(ctx, source=source, target=target, record=record)
    if isinstance(parent, plan.Verdict):
        return Outcome(LogAction.SKIPPED, parent.reason, **ids_for(source, external_id, ""), label=label,
                       replayable=parent.replayable)
    values.update(parent)
    planned.record, planned.label, planned.values = record, label, values
    planned.missing, planned.notes = mapped.missing_required, mapped.notes
    return None


def _prefetch(ctx: SyncContext, finder: BatchFinder, batch: list[Planned], *, source: SideContext,
              target: SideContext) -> None:
    """Ask the target at once for every term the batch's counterpart searches will ask (the roles and spellings of
    ``candidates.candidates_find``); note each record's search keys."""
    terms: list[tuple[str, Any]] = []
    for planned in batch:
        foreign = source.role == CRM and number_from_other_integration(ctx, planned.external_id)
        identity = _source_identity(ctx, source=source, target=target, record=planned.record, values=planned.values,
                                    drop=("number",) if foreign else ())
        for role in SEARCH_ROLES.get(ctx.entity, ()):
            name = target.role_field(role)
            if not name or is_blank(identity.get(role)):
                continue
            for spelling in _spellings(role, identity[role]):
                terms.append((name, spelling))
                planned.keys.add((name, normalise_match_value(spelling)))
    finder.prefetch(terms)


def _payload(ctx: SyncContext, planned: Planned, *, source: SideContext, target: SideContext,
             flow: str) -> Outcome | None:
    """What ``apply._create`` would send for the record (its checks, defaults and number rule), into
    ``planned.payload``; returns the skip outcome instead when a check refuses it."""
    payload = create_payload(ctx, source=source, target=target, flow=flow, source_id=planned.external_id,
                             values=planned.values, missing=planned.missing, label=planned.label)
    if isinstance(payload, Outcome):
        return payload
    planned.payload = payload
    return None


def _create_list(ctx: SyncContext, rows: list[Planned], *, source: SideContext, target: SideContext, flow: str,
                 later: list[InboundEvent]) -> None:
    """One list insert of ``rows``; then link, write back and log each. A list refused as a whole goes again row by
    row (only the refused row fails); a lost or unreadable answer sends every row back to the queue."""
    try:
        created = target.client.create_records(target.entity, [dict(p.payload) for p in rows])
    except VendorValidationError as error:
        if len(rows) == 1:
            if link_for(ctx, source, rows[0].external_id) is not None:
                later.append(rows[0].event)  # linked meanwhile by the other side's notice: an update now
            else:
                _failed(ctx, rows[0].event, error)
            return
        for one in rows:  # one transaction at the vendor: nothing of the list was made
            _create_list(ctx, [one], source=source, target=target, flow=flow, later=later)
        return
    except Exception as error:
        for planned in rows:
            _failed(ctx, planned.event, error)
        return
    if not _answer_names_each(target, rows, created):
        for planned in rows:
            process._retry_later(planned.event, f"{target.name}'s answer to the list of new records did not name "
                                 "each one; the next attempt looks them up before creating anything.",
                                 delay=timedelta(seconds=30))
        return
    for planned, made in zip(rows, created, strict=True):
        try:
            _link_and_log(ctx, planned, made, source=source, target=target, flow=flow)
        except Exception as error:
            _failed(ctx, planned.event, error)


def _answer_names_each(target: SideContext, rows: list[Planned], created: list[Record]) -> bool:
    """Whether the list insert's answer has one record per row sent, in order, each with its new key and holding
    the name (and number, when one was sent) of its row: only then can each new record be linked to its source."""
    if not isinstance(created, list) or len(created) != len(rows):
        return False
    checked = [n for n in (target.role_field("name"), target.role_field("number")) if n]
    for planned, made in zip(rows, created, strict=True):
        try:
            if is_blank(target.record_id(made)):
                return False
        except (KeyError, TypeError):
            return False
        for name in checked:
            if name in planned.payload and \
                    normalise_match_value(made.get(name)) != normalise_match_value(planned.payload[name]):
                return False
    return True


def _link_and_log(ctx: SyncContext, planned: Planned, made: Record, *, source: SideContext, target: SideContext,
                  flow: str) -> None:
    """What ``apply._create`` does once the target answered: link, settle possible matches, write the number back,
    log "created" and finish the event."""
    source_id, record = planned.external_id, planned.record
    target_id = target.record_id(made)
    with transaction.atomic():
        link, _ = SyncLink.objects.update_or_create(
            tenant_id=ctx.integration.tenant_id, integration=ctx.integration, entity=ctx.entity,
            **{f"{source.role}_id": source_id}, defaults={f"{target.role}_id": target_id})
        if _number_comes_back(ctx) and source.role == CRM:
            link.pending = {"write_back": CRM}  # stored with the link: a crash before the write-back leaves it to do
        _remember(ctx, link, source=source, source_record=record, target=target, target_record=made)
        possible_matches_settle(ctx, link)
    writes = 1 + _write_back_number(ctx, link=link, just_created=True, **_by_role(source, record, target, made))
    shortened = [note for name, note in planned.notes.items() if name in planned.payload]
    outcome = Outcome(LogAction.CREATED, " ".join([f"Created in {target.name}.", *shortened]),
                      **ids_for(source, source_id, target_id),
                      changes={k: [None, jsonable(v)] for k, v in planned.payload.items()}, label=planned.label,
                      writes=writes)
    _done(ctx, planned, outcome, flow)


def _done(ctx: SyncContext, planned: Planned, outcome: Outcome, flow: str) -> None:
    """Log the outcome as ``apply.record_sync`` does and finish the event as ``process`` does."""
    event = planned.event
    if outcome.action != "echo":
        log_entry_create(
            integration=ctx.integration, entity=ctx.entity, action=outcome.action, direction=flow,
            crm_id=outcome.crm_id, erp_id=outcome.erp_id, label=outcome.label, changes=outcome.changes,
            reason=outcome.reason, event=event, run=event.run, replayable=outcome.replayable,
            config_version_id=ctx.config_version_id)
    process._finish(event, EventState.DONE, outcome.reason if outcome.action == "echo" else "")


def _failed(ctx: SyncContext, event: InboundEvent, error: Exception) -> None:
    """A failure ends the event as ``process`` ends one: retried later, or parked with the vendor's words."""
    if isinstance(error, RecordBusy):
        process._retry_later(event, "Another worker is writing this record; trying again in a moment.",
                             delay=timedelta(seconds=2), count_attempt=False)
    elif isinstance(error, ChangedSinceRead):
        process._retry_later(event, str(error), delay=timedelta(seconds=1))
    elif isinstance(error, ExternalSystemError):
        process._fail_or_retry(event, error, ctx)
    else:
        logger.exception("batch sync of event %s crashed", event.pk, exc_info=error)
        process._park(event, f"Synkro could not process this change ({error.__class__.__name__}: {error}). "
                             "It is parked and can be replayed once fixed.", ctx=ctx)


__all__ = ["BatchFinder", "batch_process", "events_batch_process"]
