"""Reads for possible matches: the list per tenant or integration, one match, and both records side by side.

Every query starts from ``scoped()``: nothing here can reach another tenant's rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from integrations.engine import identity
from integrations.engine.review import RecordWords, decision_summary
from integrations.models import Integration, MatchState, PossibleMatch
from tenants.access import get_scoped_or_404, scoped
from tenants.models import Tenant

#: The list filter: which matches to show.
SHOWN = {"open": [MatchState.OPEN], "decided": [MatchState.LINKED, MatchState.CREATED, MatchState.SKIPPED],
         "all": None}
LIST_LIMIT = 200


def possible_matches(*, tenant: Tenant, integration: Integration | None = None, shown: str = "open"
                     ) -> QuerySet[PossibleMatch]:
    """The tenant's possible matches (of one integration, when given): "open", "decided" or "all", newest first."""
    matches = scoped(PossibleMatch, tenant).select_related(
        "integration__crm_connection", "integration__erp_connection", "decided_by")
    if integration is not None:
        matches = matches.filter(integration=integration)
    states = SHOWN.get(shown, SHOWN["open"])
    if states is not None:
        matches = matches.filter(state__in=states)
    return matches.order_by("-updated_at", "-pk")


def possible_match_get(*, tenant: Tenant, match_id: int) -> PossibleMatch:
    """One possible match of ``tenant``; 404 for another tenant's or a missing one."""
    matches = scoped(PossibleMatch, tenant).select_related(
        "integration__crm_connection", "integration__erp_connection", "decided_by")
    return get_scoped_or_404(matches, tenant, pk=match_id)


def possible_matches_open_counts(*, tenant: Tenant) -> dict[int, int]:
    """Open possible matches per integration id of ``tenant`` (integrations without any are left out)."""
    rows = (scoped(PossibleMatch, tenant).filter(state=MatchState.OPEN).values("integration")
            .annotate(n=Count("id")).order_by())
    return {row["integration"]: row["n"] for row in rows}


# -- both records side by side --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CandidateCell:
    value: Any
    same: bool  # the same as the waiting record's value (ignoring case, spaces and punctuation)


@dataclass(frozen=True)
class ComparisonRow:
    field: str
    source: Any
    candidates: list[CandidateCell]


@dataclass(frozen=True)
class CandidateView:
    id: str
    label: str
    evidence_for: list[str]
    evidence_against: list[str]
    chosen: bool


@dataclass(frozen=True)
class MatchView:
    """A possible match ready for the screen: names of both sides, rows to compare, evidence, the decision."""

    match: PossibleMatch
    source_name: str
    target_name: str
    rows: list[ComparisonRow]
    candidates: list[CandidateView]
    decided: str


def _key(value: Any, field: str = "") -> str:
    """How a row's two values are compared: as the engine weighs them (org. numbers, names, e-mails by key)."""
    if _blank(value):
        return ""
    if field == "Org./VAT no.":
        key = identity.org_key(value)
        return key[2:] if key and not key.startswith("?") else key.lstrip("?")
    if field == "Name":
        return identity.name_key(value)
    if field == "E-mail":
        return identity.email_key(value)
    return re.sub(r"[\W_]+", "", str(value)).casefold()


def _blank(value: Any) -> bool:
    return value is None or str(value).strip() == ""


#: The order of the comparison's rows: the identity fields as the engine names them, strongest first.
FIELD_ORDER = ("Name", "Org./VAT no.", "Number", "E-mail", "Phone")


def comparison_rows(*, source_values: dict[str, Any], candidates: list[dict[str, Any]]) -> list[ComparisonRow]:
    """One row per identity field either side has: the waiting record's value against each candidate's."""
    named = {*source_values, *(name for c in candidates for name in (c.get("values") or {}))}
    # Stored as JSON, whose key order PostgreSQL does not keep: identity fields first, the rest by name.
    fields = [f for f in FIELD_ORDER if f in named] + sorted(named - set(FIELD_ORDER))
    rows = []
    for name in fields:
        source = source_values.get(name)
        cells = []
        for candidate in candidates:
            value = (candidate.get("values") or {}).get(name)
            cells.append(CandidateCell(value=value, same=bool(_key(source, name)) and
                                       _key(source, name) == _key(value, name)))
        rows.append(ComparisonRow(field=name, source=source, candidates=cells))
    return rows


def match_view(match: PossibleMatch) -> MatchView:
    """What the screen shows of ``match``."""
    words = RecordWords(match)
    candidates = [c for c in (match.candidates or []) if isinstance(c, dict)]
    return MatchView(
        match=match, source_name=words.source_name, target_name=words.target_name,
        rows=comparison_rows(source_values=match.source_values or {}, candidates=candidates),
        candidates=[CandidateView(id=str(c.get("id", "")), label=str(c.get("label", "") or ""),
                                  evidence_for=[str(r) for r in c.get("for") or []],
                                  evidence_against=[str(r) for r in c.get("against") or []],
                                  chosen=match.state == MatchState.LINKED and str(c.get("id", "")) == match.chosen_id)
                    for c in candidates],
        decided=decision_summary(match))
