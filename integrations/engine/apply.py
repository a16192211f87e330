"""Carrying out the sync of one changed record: read it, decide, write the other side, link, log.

Idempotent by construction: the record is always re-read from its source, a target is searched for a
match before anything is created (so a crash between "created" and "linked" is repaired by adoption),
and our own writes coming back are recognised by the hash of the mapped fields.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.models import Conflict, InboundEvent, LogAction, SyncLink, SyncRun
from integrations.systems.base import Record
from integrations.systems.catalog import Entity
from integrations.systems.errors import ChangedSinceRead, NotFoundError, VendorValidationError

from . import identity, plan, pos
from .activation import timestamp_zone, vendor_moment
from .candidates import record_label
from .context import CRM, ERP, SideContext, SyncContext
from .documents_sync import DOCUMENT_ENTITIES, document_sync
from .limits import SHORTEN, value_fit
from .links import link_insert
from .log import log_entry_create
from .mapping import (
    TO_CRM,
    TO_ERP,
    FieldRule,
    as_synced,
    changed_fields,
    is_blank,
    jsonable,
    map_record,
    map_value,
    payload_hash,
)
from .matching import (
    counterpart_find,
    link_adopt,
    link_for,
    number_collision_on_update,
    parent_reference,
)
from .merge import merge_two_way
from .outcome import Outcome, ids_for
from .possible import possible_matches_settle
from .unchanged import still_as_read
from .values import COUNTRY_KINDS, COUNTRY_NAME, country_name_like, same_country


class LinkedMeanwhile(Exception):
    """The target refused a create because the record was linked to its match in the meantime."""


def project(record: Record, names: list[str]) -> dict[str, Any]:
    return {name: record.get(name) for name in names}


def side_hash(ctx: SyncContext, side: SideContext, record: Record) -> str:
    return payload_hash(project(record, ctx.mapped_fields(side)))


def record_sync(ctx: SyncContext, *, source: SideContext, external_id: str, action: str,
                event: InboundEvent | None = None, run: SyncRun | None = None) -> Outcome:
    """Sync one record of ``source`` to the other side; log what was done and return it."""
    target = ctx.other(source)
    flow = TO_ERP if source.role == CRM else TO_CRM
    try:
        outcome = _sync(ctx, source=source, target=target, flow=flow, external_id=str(external_id), action=action)
    except LinkedMeanwhile:
        # The other side's notice of the same pair adopted this record while we were creating it
        # (their leases are per record, not per pair): what is left to do is an update.
        outcome = _sync(ctx, source=source, target=target, flow=flow, external_id=str(external_id), action=action)
    if outcome.action != "echo":
        log_entry_create(
            integration=ctx.integration, entity=ctx.entity, action=outcome.action, direction=flow,
            crm_id=outcome.crm_id, erp_id=outcome.erp_id, label=outcome.label, changes=outcome.changes,
            reason=outcome.reason, event=event, run=run, replayable=outcome.replayable,
            config_version_id=ctx.config_version_id,
        )
    return outcome


def _sync(ctx: SyncContext, *, source: SideContext, target: SideContext, flow: str, external_id: str,
          action: str) -> Outcome:
    documents = Entity(ctx.entity) in DOCUMENT_ENTITIES
    if flow not in ctx.flows():
        if link_for(ctx, source, external_id, DOCUMENT_ENTITIES if documents else None) is not None:
            # our own write coming back from the side we only write to
            return Outcome("echo", "A change on the receiving side only.", **ids_for(source, external_id, ""))
        return Outcome(LogAction.SKIPPED, f"{ctx.label} are synced {ctx.entity_sync.get_direction_display()} "
                       f"here, so a change in {source.name} is not sent to {target.name}.",
                       **ids_for(source, external_id, ""))
    if documents:
        return document_sync(ctx, source=source, target=target, flow=flow, external_id=external_id, action=action)
    if ctx.entity == Entity.POS_SALE:
        return pos.pos_sale_sync(ctx, source=source, target=target, external_id=external_id, action=action)
    if ctx.entity == Entity.DAILY_REPORT:
        return _daily_report(ctx, external_id=external_id)
    link = link_for(ctx, source, external_id)
    if action == "deleted":
        return _delete(ctx, source=source, target=target, link=link, external_id=external_id)
    try:
        record = source.client.get_record(source.entity, external_id)
    except NotFoundError:
        return Outcome(LogAction.SKIPPED, f"The record no longer exists in {source.name}; nothing to send.",
                       **ids_for(source, external_id, getattr(link, f"{target.role}_id") if link else ""))
    label = record_label(source, record)
    source_hash = side_hash(ctx, source, record)
    if link is not None and getattr(link, f"{source.role}_hash") == source_hash and not link.pending:
        return Outcome("echo", "No mapped field changed since the last sync (or it was our own write).",
                       **ids_for(source, external_id, getattr(link, f"{target.role}_id")), label=label)

    gate, set_back = _gates(ctx, source=source, target=target, record=record, linked=link is not None)
    if not gate.go:
        return Outcome(LogAction.SKIPPED, gate.reason, **ids_for(source, external_id, ""), label=label,
                       replayable=gate.replayable)

    mapped = map_record(record, ctx.rules(flow))
    values = dict(mapped.values)
    if ctx.entity == Entity.ORGANISATION and flow == TO_CRM and link is None:
        type_field = target.role_field("type")
        if ctx.entity_sync.erp_created_type and type_field:
            values[type_field] = ctx.entity_sync.erp_created_type  # "Set type for ERP customers"
    if ctx.entity == Entity.PERSON and flow == TO_CRM and link is None and ctx.entity_sync.relevant_flag_field:
        values[ctx.entity_sync.relevant_flag_field] = True  # a contact of the ERP is relevant for the ERP

    values = pos.pos_values(ctx, source=source, record=record, values=values, creating=link is None)
    parent = parent_reference(ctx, source=source, target=target, record=record)
    if isinstance(parent, plan.Verdict):
        return Outcome(LogAction.SKIPPED, parent.reason, **ids_for(source, external_id, ""), label=label,
                       replayable=parent.replayable)
    values.update(parent)

    notes: list[str] = []
    adopted = False
    if link is None:
        found = counterpart_find(ctx, source=source, target=target, record=record, values=values, label=label)
        if found.outcome is not None:
            return found.outcome
        if found.adopt is None:
            return _create(ctx, source=source, target=target, flow=flow, record=record, values=values,
                           missing=mapped.missing_required, label=label, source_hash=source_hash,
                           fit_notes=mapped.notes)
        link = link_adopt(ctx, source=source, target=target, source_id=external_id, match=found.adopt)
        notes.append(f"Matched an existing record in {target.name} and linked it ({found.note}).")
        adopted = True
    if set_back is not None:
        notes.append(gate.reason)
    outcome = _update(ctx, source=source, target=target, flow=flow, record=record, values=values, link=link,
                      label=label, notes=notes, set_back=set_back, fit_notes=mapped.notes)
    if adopted and not outcome.plan:
        outcome.plan = "link"
    return outcome


def _gates(ctx: SyncContext, *, source: SideContext, target: SideContext, record: Record,
           linked: bool) -> tuple[plan.Verdict, str | None]:
    """Whether the record goes over at all, and the Type to set back in webCRM (type lock), if any."""
    entity_sync = ctx.entity_sync
    if ctx.entity == Entity.ORGANISATION and source.role == CRM and entity_sync.trigger_field:
        trigger_field = source.role_field(entity_sync.trigger_field)
        if trigger_field:
            verdict = plan.trigger_verdict(
                trigger_label=entity_sync.get_trigger_field_display(), trigger_values=entity_sync.trigger_values,
                value=record.get(trigger_field), linked=linked, type_lock=entity_sync.type_lock,
                lock_value=entity_sync.erp_created_type)
            if not verdict.create_allowed:
                return plan.Verdict.skip(verdict.reason), None
            return plan.Verdict(True, verdict.reason), verdict.set_back_to
    if ctx.entity == Entity.PERSON and source.role == CRM:
        flag = entity_sync.relevant_flag_field
        return plan.relevance_verdict(flag_field=flag, value=record.get(flag) if flag else None), None
    if ctx.entity in (Entity.PERSON, Entity.USER) and source.role == ERP:
        email_field = source.role_field("email")
        what = "contact" if ctx.entity == Entity.PERSON else "employee"
        return plan.email_verdict(system_name=source.name, what=what,
                                  email=record.get(email_field) if email_field else None), None
    return plan.Verdict.ok(), None


def _daily_report(ctx: SyncContext, *, external_id: str) -> Outcome:
    """A register was closed at the till: post its day now, or leave it to the daily schedule."""
    due = pos.daily_report_due(integration=ctx.integration)
    settings = pos.pos_settings_of(ctx)
    if settings is not None and settings.daily_report_time is not None and due is None:
        return Outcome("echo", f"The day is posted at {settings.daily_report_time:%H:%M} by the schedule.",
                       crm_id=external_id)
    posted = pos.daily_report_post(ctx, day=timezone.localdate())
    return Outcome("echo", f"Posted {len(posted)} daily report(s).", crm_id=external_id)


def create_payload(ctx: SyncContext, *, source: SideContext, target: SideContext, flow: str, source_id: str,
                   values: dict[str, Any], missing: list[str], label: str) -> dict[str, Any] | Outcome:
    """What a create of the record in ``target`` sends (mapped values without blanks, the target's create defaults,
    no customer number where the ERP assigns it), or the skip outcome when a required value or the number rule
    stops the create. One rule for the single path and the bulk path (:mod:`.bulk_create`)."""
    verdict = plan.required_verdict(missing=missing, target_name=target.name)
    number_field = target.role_field("number")
    if verdict.go and ctx.entity == Entity.ORGANISATION and flow == TO_ERP and number_field:
        source_rule = next((r for r in ctx.rules(flow) if r.target == number_field), None)
        verdict = plan.number_verdict(
            authority=ctx.entity_sync.number_authority, number_value=values.get(number_field),
            number_source=source_rule.source if source_rule else f"the field mapped to {number_field}",
            target_name=target.name)
    if not verdict.go:
        return Outcome(LogAction.SKIPPED, verdict.reason, **ids_for(source, source_id, ""), label=label,
                       replayable=verdict.replayable)
    payload = {k: v for k, v in values.items() if not is_blank(v)}
    if ctx.entity == Entity.ORGANISATION and flow == TO_ERP and number_field and \
            ctx.entity_sync.number_authority == "erp":
        payload.pop(number_field, None)  # the ERP assigns customer numbers; its number is written back
    if target.spec is not None:
        for name, value in target.spec.create_defaults:
            payload.setdefault(name, value)
        spec = target.spec.field(number_field) if number_field else None
        if ctx.entity == Entity.USER and spec is not None and spec.required and is_blank(payload.get(number_field)):
            payload[number_field] = f"W{source_id}"  # an employee number is required; webCRM's user id keeps it unique
    return payload


def _create(ctx: SyncContext, *, source: SideContext, target: SideContext, flow: str, record: Record,
            values: dict[str, Any], missing: list[str], label: str, source_hash: str,
            fit_notes: dict[str, str] | None = None) -> Outcome:
    source_id = source.record_id(record)
    payload = create_payload(ctx, source=source, target=target, flow=flow, source_id=source_id, values=values,
                             missing=missing, label=label)
    if isinstance(payload, Outcome):
        return payload
    try:
        created = target.client.create_record(target.entity, payload)
    except VendorValidationError:
        if link_for(ctx, source, source_id) is not None:
            raise LinkedMeanwhile from None
        raise
    target_id = target.record_id(created)
    link = SyncLink(tenant_id=ctx.integration.tenant_id, integration=ctx.integration, entity=ctx.entity,
                    **{f"{source.role}_id": source_id, f"{target.role}_id": target_id})
    if _number_comes_back(ctx) and source.role == CRM:
        # Stored with the link, so a crash before the write-back leaves it to do, not "done".
        link.pending = {"write_back": CRM}
    _remember(ctx, link, source=source, source_record=record, target=target, target_record=created, save=False)
    if not link_insert(link):  # a link of one of the two records was made meanwhile: it is brought up to date
        with transaction.atomic():
            pending, digests = link.pending, _digests(link)
            link, _ = SyncLink.objects.update_or_create(
                tenant_id=ctx.integration.tenant_id, integration=ctx.integration, entity=ctx.entity,
                **{f"{source.role}_id": source_id}, defaults={f"{target.role}_id": target_id})
            link.pending = pending
            for name, value in digests.items():
                setattr(link, name, value)
            link.save()
    possible_matches_settle(ctx, link)
    writes = 1 + _write_back_number(ctx, link=link, just_created=True, **_by_role(source, record, target, created))
    shortened = [note for name, note in (fit_notes or {}).items() if name in payload]
    return Outcome(LogAction.CREATED, " ".join([f"Created in {target.name}.", *shortened]),
                   **ids_for(source, source_id, target_id),
                   changes={k: [None, jsonable(v)] for k, v in payload.items()}, label=label, writes=writes)


def _number_comes_back(ctx: SyncContext) -> bool:
    """Whether the ERP assigns organisations' numbers, which then go back into webCRM."""
    return ctx.entity == Entity.ORGANISATION and ctx.entity_sync.number_authority == "erp"


def _by_role(source: SideContext, source_record: Record, target: SideContext, target_record: Record
             ) -> dict[str, Any]:
    """The two sides and their records named by role: ``crm``, ``crm_record``, ``erp``, ``erp_record``."""
    if source.role == CRM:
        return {"crm": source, "crm_record": source_record, "erp": target, "erp_record": target_record}
    return {"crm": target, "crm_record": target_record, "erp": source, "erp_record": source_record}


def _write_back_number(ctx: SyncContext, *, link: SyncLink, crm: SideContext, crm_record: Record, erp: SideContext,
                       erp_record: Record, just_created: bool = False) -> int:
    """When the ERP assigned the customer number, put it into webCRM's mapped number field; returns the writes.

    Done after a create, and after any later sync that finds webCRM's number still empty (a worker stopped before
    the write-back, or the debtor was adopted after a create whose answer was lost). A different number webCRM
    holds is replaced only by the create that made the debtor (or its write-back left pending): the ERP gave the
    number then, in place of the one webCRM had. Clears the link's pending write-back once webCRM holds it.
    """
    written = 0
    number_field = erp.role_field("number")
    row = next((r for r in ctx.rows if r.erp_field == number_field), None) if _number_comes_back(ctx) else None
    number = erp_record.get(number_field) if row is not None else None
    held = crm_record.get(row.crm_field) if row is not None else None
    replace_held = just_created or (link.pending or {}).get("write_back") == CRM
    if row is not None and not is_blank(number) and str(held or "") != str(number) and \
            (is_blank(held) or replace_held):
        changed = {row.crm_field: number}
        answer = crm.client.update_record(crm.entity, crm.record_id(crm_record), changed,
                                          check=still_as_read(crm_record, changed, system=crm.name))
        crm_record = as_synced(crm_record, changed, answer)
        written = 1
    if written:
        link.pending = {}
        _remember(ctx, link, source=crm, source_record=crm_record, target=erp, target_record=erp_record)
    elif link.pending:  # nothing left to write: only the mark goes (the digests were stored with the link)
        link.pending = {}
        link.save(update_fields=["pending"])
    return written


def _update(ctx: SyncContext, *, source: SideContext, target: SideContext, flow: str, record: Record,
            values: dict[str, Any], link: SyncLink, label: str, notes: list[str], set_back: str | None,
            fit_notes: dict[str, str] | None = None) -> Outcome:
    source_id = source.record_id(record)
    target_id = getattr(link, f"{target.role}_id")
    try:
        current = target.client.get_record(target.entity, target_id)
    except NotFoundError:
        link.delete()
        return Outcome(LogAction.FAILED, f"The linked record {target_id} no longer exists in {target.name}. "
                       "The link was removed; the next change or a reconciliation will create it again.",
                       **ids_for(source, source_id, target_id), label=label)
    to_target, to_source, conflicts = _decide(ctx, source=source, target=target, flow=flow, record=record,
                                              current=current, values=values, link=link)
    to_target = without_respellings(target, current, to_target)
    to_source = without_respellings(source, record, to_source)
    number_field = target.role_field("number")
    # The target as just read, handed to its client's write so that a client which reads before it writes need
    # not read the same record again ms later. The client takes it only while nothing went to the target since
    # (``ApiClient.read_is_latest``; a number search does) and where its vendor allows (webCRM reads again).
    just_read: Record | None = current
    if ctx.entity == Entity.ORGANISATION and target.role == ERP and number_field in to_target:
        just_read = None
        collision = number_collision_on_update(ctx, source=source, target=target, record=record, target_id=target_id,
                                               number=to_target[number_field], label=label)
        if collision is not None:
            return Outcome(LogAction.SKIPPED, collision, **ids_for(source, source_id, target_id), label=label,
                           plan="refused", replayable=True)
    trigger_field = source.role_field(ctx.entity_sync.trigger_field) if ctx.entity_sync.trigger_field else None
    if set_back is not None and trigger_field:
        to_source[trigger_field] = set_back
    writes = 0
    changes: dict[str, list[Any]] = {}
    if to_target:
        changes.update(changed_fields(project(current, list(to_target)), to_target))
        answer = target.client.update_record(target.entity, target_id, to_target,
                                             check=still_as_read(current, to_target, system=target.name),
                                             read=just_read)
        current = as_synced(current, to_target, answer)
        writes += 1
    if to_source:
        changes.update({f"{source.name}: {k}": v for k, v in
                        changed_fields(project(record, list(to_source)), to_source).items()})
        try:
            answer = source.client.update_record(source.entity, source_id, to_source,
                                                 check=still_as_read(record, to_source, system=source.name))
        except ChangedSinceRead:
            if writes:  # what went to the target stays known, so the retry sees only the person's edit as new
                _remember(ctx, link, source=source, source_record=record, target=target, target_record=current)
            raise
        record = as_synced(record, to_source, answer)
        writes += 1
    entry_action = LogAction.CONFLICT if conflicts else (LogAction.UPDATED if writes else LogAction.SKIPPED)
    if conflicts:  # the link and its conflicts are stored together
        with transaction.atomic():
            _remember(ctx, link, source=source, source_record=record, target=target, target_record=current)
            for conflict in conflicts:
                Conflict.objects.create(tenant_id=ctx.integration.tenant_id, integration=ctx.integration, link=link,
                                        entity=ctx.entity, **conflict)
    else:  # one statement: no transaction needed around it
        _remember(ctx, link, source=source, source_record=record, target=target, target_record=current)
    number_written = _write_back_number(ctx, link=link, **_by_role(source, record, target, current))
    if number_written:
        writes += number_written
        entry_action = LogAction.CONFLICT if conflicts else LogAction.UPDATED
        notes.append("The customer number the ERP gave it was written back to webCRM.")
    if not writes:
        notes.append(f"{target.name} already holds the same values.")
    elif conflicts:
        notes.append("Changed on both sides: " + "; ".join(
            f"{c['erp_field']}/{c['crm_field']} kept the {'webCRM' if c['winner'] == CRM else 'ERP'} value"
            for c in conflicts) + ".")
    else:
        notes.append(f"Updated in {target.name if to_target else source.name}.")
    notes.extend(note for name, note in (fit_notes or {}).items() if name in to_target)
    return Outcome(entry_action, " ".join(notes), **ids_for(source, source_id, target_id), changes=changes, label=label,
                   writes=writes)


def without_respellings(side: SideContext, current: Record, writes: dict[str, Any]) -> dict[str, Any]:
    """``writes`` less those that would only respell an identifier ``side`` already holds.

    "DK 12 34 56 78" over "12345678", "556677-8899" over "SE556677889901" or an e-mail differing only in
    case or stray spaces names the same company or person: rewriting it changes nothing but the spelling
    its owner chose, and would count as an identity rewrite. Likewise a country: "Sweden" over "Sverige" is
    left alone, and a new country name is written in the language of the name the record holds.
    """
    vat, email = side.role_field("vat"), side.role_field("email")
    kinds = {f.name: f.value_kind for f in side.spec.fields if f.value_kind} if side.spec is not None else {}
    kept = {}
    for name, value in writes.items():
        if name == vat and identity.org_keys_agree(identity.org_key(value), identity.org_key(current.get(name))):
            continue
        if name == email and identity.email_key(value) and \
                identity.email_key(value) == identity.email_key(current.get(name)):
            continue
        if kinds.get(name) in COUNTRY_KINDS:
            if same_country(value, current.get(name)):
                continue
            if kinds[name] == COUNTRY_NAME:
                value = country_name_like(value, current.get(name))
        kept[name] = value
    return kept


def _decide(ctx: SyncContext, *, source: SideContext, target: SideContext, flow: str, record: Record,
            current: Record, values: dict[str, Any], link: SyncLink
            ) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """What to write on each side: one-way takes the mapped values; two-way merges field by field."""
    if ctx.entity_sync.direction != "two_way":
        return plan.pending_changes(project(current, list(values)), values), {}, []
    crm_record, erp_record = (record, current) if source.role == CRM else (current, record)
    to_erp_rules = {r.key: r for r in ctx.rules(TO_ERP)}
    to_crm_rules = {r.key: r for r in ctx.rules(TO_CRM)}
    both = [k for k in to_erp_rules if k in to_crm_rules]
    crm_values = {k: map_value(to_erp_rules[k], crm_record.get(to_erp_rules[k].source)) for k in both}
    # An ERP value longer than webCRM holds is compared as webCRM keeps it, shortened: otherwise the shortened
    # copy would look like a change on one side for ever. Only a change webCRM can see counts.
    erp_values = {k: value_fit(erp_record.get(to_erp_rules[k].target), target=to_crm_rules[k].target_spec).value
                  for k in both}
    owners = {k: to_erp_rules[k].conflict_owner for k in both if to_erp_rules[k].conflict_owner}
    result = merge_two_way(crm=crm_values, erp=erp_values, base=link.synced_values or None, owners=owners,
                           default_owner=ctx.entity_sync.conflict_owner,
                           crm_is_newer=crm_changed_last(**_by_role(source, record, target, current),
                                                         handling=source.role))
    to_erp = {to_erp_rules[k].target: v for k, v in result.to_erp.items()}
    to_crm = {to_crm_rules[k].target: _back(to_crm_rules[k], v) for k, v in result.to_crm.items()}
    # Rows narrowed to one direction flow that way only, like one-way sync.
    for rules, from_record, to_record, writes in ((to_erp_rules, crm_record, erp_record, to_erp),
                                                  (to_crm_rules, erp_record, crm_record, to_crm)):
        for key, rule in rules.items():
            if key not in both:
                desired = {rule.target: map_value(rule, from_record.get(rule.source))}
                writes.update(plan.pending_changes(project(to_record, [rule.target]), desired))
    conflicts = [{"crm_field": to_crm_rules[c.key].target, "erp_field": to_erp_rules[c.key].target,
                  "crm_value": jsonable(c.crm_value), "erp_value": jsonable(c.erp_value), "owner": c.owner,
                  "winner": c.winner, "resolved_value": jsonable(c.resolved_value)} for c in result.conflicts]
    link.synced_values = {k: jsonable(v) for k, v in result.agreed.items()}
    if source.role == CRM:
        return to_erp, to_crm, conflicts
    return to_crm, to_erp, conflicts


def crm_changed_last(*, crm: SideContext, crm_record: Record, erp: SideContext, erp_record: Record,
                     handling: str) -> bool:
    """Whether webCRM's record changed after the ERP's, for "newest change wins".

    Compares the records' own change times (the catalogs' ``modified_field``: webCRM's ``…UpdatedAt``, Visma.net's
    ``lastModifiedDateTime`` …), each read in its vendor's timestamp zone (``activation.timestamp_zone``). Where one
    side keeps no change time on the record (Uniconta debtors, Fortnox customers) or both fall in the same second,
    the change being handled (``handling``: the role of the side whose notice this is) counts as the newer.
    """
    crm_at, erp_at = changed_at(crm, crm_record), changed_at(erp, erp_record)
    if crm_at is not None and erp_at is not None:
        # Compared in whole seconds: webCRM keeps seconds, others milliseconds; within one second neither is "later".
        crm_second, erp_second = crm_at.replace(microsecond=0), erp_at.replace(microsecond=0)
        if crm_second != erp_second:
            return crm_second > erp_second
    return handling == CRM


def changed_at(side: SideContext, record: Record) -> datetime | None:
    """When ``record`` last changed by its own change time (the catalog's ``modified_field``, read in the vendor's
    timestamp zone), as an aware datetime; None when it keeps none."""
    name = side.spec.modified_field if side.spec is not None else None
    return vendor_moment(record.get(name), zone=timestamp_zone(side)) if name else None


def _back(rule: FieldRule, value: Any) -> Any:
    """A merged value (in ERP terms) as webCRM spells it."""
    return map_value(rule, value)


def _digests(link: SyncLink) -> dict[str, Any]:
    """What :func:`_remember` sets on a link, by field name."""
    return {name: getattr(link, name) for name in ("crm_hash", "erp_hash", "synced_values", "label", "synced_at")}


def _remember(ctx: SyncContext, link: SyncLink, *, source: SideContext, source_record: Record,
              target: SideContext, target_record: Record, save: bool = True) -> None:
    """Store both sides' hashes after a write: the next notice with the same hash is our own echo.

    ``save`` False only sets them on ``link`` (the caller stores it, e.g. with :func:`.links.link_insert`)."""
    setattr(link, f"{source.role}_hash", side_hash(ctx, source, source_record))
    setattr(link, f"{target.role}_hash", side_hash(ctx, target, target_record))
    if ctx.entity_sync.direction == "two_way" and not link.synced_values:
        crm_record = source_record if source.role == CRM else target_record
        # After the write nothing may be refused any more: the agreed values are what each row writes, shortened.
        link.synced_values = {r.key: jsonable(map_value(replace(r, overflow=SHORTEN), crm_record.get(r.source)))
                              for r in ctx.rules(TO_ERP)}
    link.label = record_label(source, source_record) or link.label
    link.synced_at = timezone.now()
    if save:
        link.save()


def _delete(ctx: SyncContext, *, source: SideContext, target: SideContext, link: SyncLink | None,
            external_id: str) -> Outcome:
    """Verified, guarded deletes: see :mod:`.deletes`."""
    from .deletes import record_delete

    return record_delete(ctx, source=source, target=target, link=link, external_id=external_id)
