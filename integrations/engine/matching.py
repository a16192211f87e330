"""Finding the other side's record before creating one, and a person's organisation on the other side.

Matching is what makes creates idempotent: a crash between "created in the target" and "link stored"
is repaired by finding (and adopting) that record on the next attempt instead of creating it twice.
Identity is proven, not guessed: a record is adopted only when the evidence of every identity field
both sides hold agrees (``identity.weigh``); when it disagrees, or several records fit, nothing is
written and the record waits for a person as a possible match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integrations.models import LogAction, MatchState, SyncLink
from integrations.systems.base import Record
from integrations.systems.catalog import Entity

from . import identity, plan
from .candidates import IDENTITY_ROLES, Candidate, candidates_find, identity_values, number_from_other_integration
from .context import CRM, SideContext, SyncContext
from .mapping import is_blank
from .outcome import Outcome, ids_for
from .possible import decided_skip_reason, possible_match_raise, possible_matches_settle, record_standing


def link_for(ctx: SyncContext, side: SideContext, record_id: str,
             entities: tuple[str, ...] | None = None) -> SyncLink | None:
    """The link of ``side``'s record ``record_id``, among ``entities`` (the context's entity by default).

    For a front record of the context's entity the same statement also tells whether another integration of the
    same front connection links it; kept in ``ctx.linked_elsewhere`` for :func:`counterpart_find`.
    """
    if side.role != CRM or entities is not None:
        return SyncLink.objects.filter(integration=ctx.integration, entity__in=entities or (ctx.entity,),
                                       **{f"{side.role}_id": record_id}).first()
    links = list(SyncLink.objects.filter(entity=ctx.entity, crm_id=record_id,
                                         integration__crm_connection_id=ctx.integration.crm_connection_id)
                 .order_by("pk"))
    ctx.linked_elsewhere[str(record_id)] = any(link.integration_id != ctx.integration.pk for link in links)
    return next((link for link in links if link.integration_id == ctx.integration.pk), None)


def counterpart_id(ctx: SyncContext, *, source: SideContext, target: SideContext, source_id: Any,
                   entity: str = Entity.ORGANISATION) -> str:
    """The id in ``target`` of ``source``'s record ``source_id`` (an organisation by default); "" when unlinked."""
    link = link_for(ctx, source, str(source_id), (entity,))
    return getattr(link, f"{target.role}_id") if link else ""


def parent_reference(ctx: SyncContext, *, source: SideContext, target: SideContext,
                     record: Record) -> dict[str, Any] | plan.Verdict:
    """A person's organisation, translated through the organisation links into the target's id."""
    source_field, target_field = source.role_field("organisation"), target.role_field("organisation")
    if not source_field or not target_field:
        return {}
    source_parent = record.get(source_field)
    if is_blank(source_parent) or str(source_parent) == "0":
        return {}
    target_parent = counterpart_id(ctx, source=source, target=target, source_id=source_parent)
    if target_parent:
        return {target_field: target_parent}
    spec = target.spec.field(target_field) if target.spec else None
    if spec is not None and spec.required:
        return plan.Verdict.skip(f"This record belongs to {source.name} organisation {source_parent}, "
                                 f"which is not synced to {target.name} yet; replay it once the organisation is.",
                                 replayable=True)
    return {}


@dataclass
class MatchResult:
    """What the search for a record's counterpart came to: adopt one, create one, or write nothing."""

    #: The target record proven to be the same company / person / item.
    adopt: Record | None = None
    #: Why it was adopted, in words (the evidence for it).
    note: str = ""
    #: Set when nothing may be written: a possible match waits, a number collision was refused, a person skipped.
    outcome: Outcome | None = None


def counterpart_find(ctx: SyncContext, *, source: SideContext, target: SideContext, record: Record,
                     values: dict[str, Any], label: str) -> MatchResult:
    """Find the target's record of an unlinked source record, proven by the evidence of every identity field.

    ``values`` are the record's mapped values in the target's field names. A candidate is adopted only when
    the evidence proves it and it alone (``identity.weigh``); conflicting evidence or several fitting
    candidates raise a possible match; with webCRM numbering, a typed number that belongs to another
    company is refused. Nothing found: create (an empty result).
    """
    source_id = source.record_id(record)
    from .deletes import counterpart_deleted_waits  # deletes reads the review words, which build on this module

    standing = record_standing(ctx, source=source, source_id=source_id)
    waits = counterpart_deleted_waits(ctx, source=source, source_id=source_id, label=label, waiting=standing.waiting)
    if waits is not None:  # its counterpart was deleted: a person decides whether it is made again
        return MatchResult(outcome=waits)
    decision = standing.decision
    if decision is not None and decision.state == MatchState.SKIPPED:
        return MatchResult(outcome=Outcome(LogAction.SKIPPED, decided_skip_reason(decision, source),
                                           **ids_for(source, source_id, ""), label=label))
    if decision is not None and decision.state == MatchState.CREATED:
        return MatchResult()
    # Known from the link's lookup (``link_for``) when it was made in this context; else asked now.
    foreign_number = source.role == CRM and ctx.linked_elsewhere.get(str(source_id))
    if source.role == CRM and foreign_number is None:
        foreign_number = number_from_other_integration(ctx, source_id)
    wanted = _source_identity(ctx, source=source, target=target, record=record, values=values,
                              drop=("number",) if foreign_number else ())
    candidates = candidates_find(ctx, source=source, target=target, search=wanted)
    if not candidates:
        return MatchResult()
    weighed = [(c, identity.weigh(ctx.entity, wanted, c.values, source_name=source.name, candidate_name=target.name,
                                  found_by=c.strongest_find)) for c in candidates]
    proven = [(c, e) for c, e in weighed if e.proven]
    mine = [(c, e) for c, e in proven if c.linked_to == source_id]
    if mine:  # linked to this very record meanwhile (the other side's notice adopted it): carry on as linked
        return MatchResult(adopt=mine[0][0].record, note=_because(mine[0][1]))
    free = [(c, e) for c, e in proven if not c.linked_to]
    if len(proven) == 1 and free:
        candidate, evidence = free[0]
        return MatchResult(adopt=candidate.record, note=_because(evidence))
    collision = _number_collision(ctx, source=source, target=target, weighed=weighed, wanted=wanted, label=label)
    if collision is not None:
        return MatchResult(outcome=Outcome(LogAction.SKIPPED, collision, **ids_for(source, source_id, ""),
                                           label=label, plan="refused", replayable=True))
    reviewable = [(c, e) for c, e in weighed if _worth_a_look(c, e)]
    if not reviewable:
        return MatchResult()
    return MatchResult(outcome=possible_match_raise(
        ctx, source=source, target=target, source_id=source_id, label=label, source_values=wanted,
        weighed=reviewable, reason=_review_reason(source, target, proven, reviewable, label)))


def _source_identity(ctx: SyncContext, *, source: SideContext, target: SideContext, record: Record,
                     values: dict[str, Any], drop: tuple[str, ...]) -> dict[str, Any]:
    """The source record's identity as the target would hold it: mapped values where a row maps the role."""
    wanted = identity_values(source, record, ctx.entity, drop=drop)
    for role in IDENTITY_ROLES.get(ctx.entity, ()):
        name = target.role_field(role)
        if role in drop or not name or is_blank(values.get(name)):
            continue
        if role in ("number", "name") or role not in wanted:
            wanted[role] = values[name]
    return wanted


def _worth_a_look(candidate: Candidate, evidence: identity.Evidence) -> bool:
    """Not a record found by its name alone whose org/VAT number says it is another company."""
    return not (candidate.found_by == {"name"} and evidence.verdict == "contradicted")


def _because(evidence: identity.Evidence) -> str:
    return "; ".join(evidence.for_) if evidence.for_ else "the same key"


def _review_reason(source: SideContext, target: SideContext, proven: list, reviewable: list, label: str) -> str:
    what = f"“{label}”" if label else "This record"
    if len(proven) > 1:
        return f"{what} in {source.name} fits {len(proven)} records in {target.name}; a person decides which."
    if proven and all(c.linked_to for c, _ in proven):
        candidate = proven[0][0]
        return (f"{what} in {source.name} looks like {target.name} record {candidate.target_id}, which is already "
                f"linked to {source.name} record {candidate.linked_to} (a possible duplicate); a person decides.")
    reasons = sorted({reason for _, e in reviewable for reason in e.against})
    if reasons:
        return (f"{what} in {source.name} shares an identity field with {_records(len(reviewable))} in {target.name}, "
                f"but the evidence disagrees: {'; '.join(reasons)}.")
    return (f"{what} in {source.name} resembles {_records(len(reviewable))} in {target.name}, but not enough to be "
            "sure it is the same.")


def _records(count: int) -> str:
    return "one record" if count == 1 else f"{count} records"


def _number_collision(ctx: SyncContext, *, source: SideContext, target: SideContext, weighed: list,
                      wanted: dict[str, Any], label: str) -> str | None:
    """With webCRM numbering, a typed customer number that already belongs to another company is refused."""
    if ctx.entity != Entity.ORGANISATION or source.role != CRM or ctx.entity_sync.number_authority != "crm":
        return None
    for candidate, evidence in weighed:
        if "number" in candidate.found_by and not evidence.proven:
            return collision_message(source=source, target=target, number=wanted.get("number"), label=label,
                                     source_values=wanted, other=candidate)
    return None


def collision_message(*, source: SideContext, target: SideContext, number: Any, label: str,
                      source_values: dict[str, Any], other: Candidate) -> str:
    """Both companies named: the one the number was typed for, and the one it belongs to."""
    def who(name: str, values: dict[str, Any]) -> str:
        org = f", org. no. {values['vat']}" if not is_blank(values.get("vat")) else ""
        return f"“{name}”{org}"

    other_name = str(other.values.get("name") or other.target_id)
    return (f"Customer number {number} typed in {source.name} for {who(label, source_values)} already belongs to "
            f"{target.name} customer {who(other_name, other.values)}. Nothing was written to {target.name}; "
            f"give the organisation another number in {source.name}.")


def number_collision_on_update(ctx: SyncContext, *, source: SideContext, target: SideContext, record: Record,
                               target_id: str, number: Any, label: str) -> str | None:
    """A linked record's new number that another record of the target already has: refused, in words."""
    name = target.role_field("number")
    if not name or is_blank(number):
        return None
    others = [r for r in target.client.find_records(target.entity, name, number) if target.record_id(r) != target_id]
    if not others:
        return None
    other = Candidate(others[0], target.record_id(others[0]))
    other.values = identity_values(target, other.record, ctx.entity)
    return collision_message(source=source, target=target, number=number, label=label,
                             source_values=identity_values(source, record, ctx.entity), other=other)


def link_adopt(ctx: SyncContext, *, source: SideContext, target: SideContext, source_id: str,
               match: Record) -> SyncLink:
    target_id = target.record_id(match)
    link, _ = SyncLink.objects.get_or_create(
        tenant_id=ctx.integration.tenant_id, integration=ctx.integration, entity=ctx.entity,
        **{f"{source.role}_id": source_id}, defaults={f"{target.role}_id": target_id})
    if getattr(link, f"{target.role}_id") != target_id:
        setattr(link, f"{target.role}_id", target_id)
        link.save(update_fields=[f"{target.role}_id"])
    possible_matches_settle(ctx, link)
    return link
