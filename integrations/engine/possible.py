"""Possible matches: records whose counterpart could not be proven wait here for a person.

Nothing is written to either system while a record waits. The engine raises (or refreshes) one open
possible match per record and honours what a person decided: "created" makes the record's next sync
create without matching, "skipped" keeps the record out of the sync, "linked" is a link like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, Q, Value, When
from django.utils import timezone

from integrations.models import LogAction, MatchState, PossibleMatch, SyncLink

from .candidates import Candidate, record_label
from .context import SideContext, SyncContext
from .identity import Evidence
from .mapping import jsonable
from .outcome import Outcome, ids_for

ROLE_WORDS = {"number": "Number", "vat": "Org./VAT no.", "name": "Name", "email": "E-mail", "phone": "Phone"}


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    return {ROLE_WORDS.get(role, role): jsonable(value) for role, value in values.items()}


def possible_match_raise(ctx: SyncContext, *, source: SideContext, target: SideContext, source_id: str,
                         label: str, source_values: dict[str, Any],
                         weighed: list[tuple[Candidate, Evidence]], reason: str) -> Outcome:
    """Store (or refresh) the record's open possible match; the outcome writes nothing and says why."""
    candidates = [{"id": c.target_id, "label": record_label(target, c.record)[:200] or c.target_id,
                   "values": _shown(c.values), "for": list(e.for_), "against": list(e.against)} for c, e in weighed]
    fields = {"source_label": label[:200], "source_values": _shown(source_values), "candidates": candidates,
              "reason": reason}
    key = {"integration": ctx.integration, "entity": ctx.entity, "source_role": source.role,
           "source_id": source_id, "state": MatchState.OPEN}
    if _mirror_waits(ctx, target=target, source_id=source_id, candidate_ids=[c["id"] for c in candidates]):
        return Outcome(LogAction.REVIEW, f"{reason} The same pair already waits for a person under “Possible "
                       "matches” (raised from the other side); nothing was written.",
                       **ids_for(source, source_id, ""), label=label, plan="possible")
    try:
        with transaction.atomic():
            updated = PossibleMatch.objects.filter(**key).update(**fields)
            if not updated:
                PossibleMatch.objects.create(tenant_id=ctx.integration.tenant_id, **key, **fields)
    except IntegrityError:  # raised by another worker this very moment: theirs holds the same evidence
        pass
    return Outcome(LogAction.REVIEW, f"{reason} Nothing was written; it waits for a person under "
                   "“Possible matches”.", **ids_for(source, source_id, ""), label=label, plan="possible")


def _mirror_waits(ctx: SyncContext, *, target: SideContext, source_id: str, candidate_ids: list[str]) -> bool:
    """Whether one of the candidates already waits with this record among its own candidates: one question."""
    waiting = PossibleMatch.objects.filter(integration=ctx.integration, entity=ctx.entity, source_role=target.role,
                                           source_id__in=candidate_ids, state=MatchState.OPEN)
    return any(source_id in {str(c.get("id")) for c in match.candidates} for match in waiting)


def possible_matches_settle(ctx: SyncContext, link: SyncLink) -> int:
    """Open possible matches of either record of a link just made are settled by it: nobody needs to decide.

    One statement for both records (each gets the other as the chosen counterpart); returns how many were settled.
    """
    sides = [(role, own, other) for role, own, other in (("crm", link.crm_id, link.erp_id),
                                                         ("erp", link.erp_id, link.crm_id)) if own]
    if not sides:
        return 0
    which = Q()
    for role, own, _ in sides:
        which |= Q(source_role=role, source_id=own)
    chosen = Case(*[When(source_role=role, then=Value(other)) for role, _, other in sides], default=Value(""),
                  output_field=CharField())
    return PossibleMatch.objects.filter(which, integration_id=link.integration_id, entity=link.entity,
                                        state=MatchState.OPEN).update(state=MatchState.LINKED, chosen_id=chosen,
                                                                      decided_at=timezone.now())


@dataclass
class Standing:
    """Where a record stands with people: its open possible match, and the latest decision that still steers it."""

    waiting: PossibleMatch | None = None
    decision: PossibleMatch | None = None


def record_standing(ctx: SyncContext, *, source: SideContext, source_id: str) -> Standing:
    """The record's open possible match (newest first) and the latest "created" / "skipped" decision about it
    (:func:`decision_for`), read in one statement."""
    rows = list(PossibleMatch.objects.filter(
        integration=ctx.integration, entity=ctx.entity, source_role=source.role, source_id=source_id,
        state__in=(MatchState.OPEN, MatchState.CREATED, MatchState.SKIPPED)).select_related("decided_by"))
    waiting = [m for m in rows if m.state == MatchState.OPEN]
    decided = [m for m in rows if m.state != MatchState.OPEN]
    waiting.sort(key=lambda m: (m.updated_at, m.pk), reverse=True)
    # As ``decision_for`` orders them: newest decision first (a missing time sorts last, as NULLs do there).
    decided.sort(key=lambda m: (m.decided_at is not None, m.decided_at or timezone.now(), m.pk), reverse=True)
    return Standing(waiting[0] if waiting else None, decided[0] if decided else None)


def decision_for(ctx: SyncContext, *, source: SideContext, source_id: str) -> PossibleMatch | None:
    """The latest decision a person took about this record's counterpart, when it still steers the sync."""
    return (PossibleMatch.objects.filter(integration=ctx.integration, entity=ctx.entity, source_role=source.role,
                                         source_id=source_id, state__in=(MatchState.CREATED, MatchState.SKIPPED))
            .select_related("decided_by").order_by("-decided_at", "-pk").first())


def decided_skip_reason(decision: PossibleMatch, source: SideContext) -> str:
    who = decision.decided_by.get_username() if decision.decided_by else "A person"
    when = f" on {decision.decided_at:%Y-%m-%d}" if decision.decided_at else ""
    return (f"{who} chose{when} not to sync this {source.name} record (possible match skipped); "
            "it stays out of the sync.")
