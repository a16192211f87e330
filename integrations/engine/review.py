"""A person decides a possible match: link it to a candidate, create a new record, or skip it.

The engine raises a possible match when it cannot prove which record on the other side is the same
(``matching.py``); nothing is written until someone decides here. A decision is one transaction: the
match's state, the link (for "link"), an audit entry in the sync log and, where there is something to
sync, a manual event for the waiting record so that the workers carry it on.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.models import (
    EventSource,
    Integration,
    LogAction,
    MatchState,
    PossibleMatch,
    SyncLink,
    SyncLogEntry,
)
from integrations.systems.base import WebhookAction

from .context import CRM, ERP
from .ingest import event_ingest
from .log import log_entry_create

LINK, CREATE, SKIP = "link", "create", "skip"
DECISIONS = {LINK: MatchState.LINKED, CREATE: MatchState.CREATED, SKIP: MatchState.SKIPPED}


class DecisionRefused(Exception):
    """A decision cannot be carried out; the message says why in plain words."""


def possible_match_decide(*, match: PossibleMatch, decision: str, candidate_id: str = "", user: Any) -> PossibleMatch:
    """Carry out a person's ``decision`` ("link", "create" or "skip") on an open possible match.

    "link" needs ``candidate_id``, one of the match's candidates: the two records are linked and the waiting
    record syncs onto the candidate. "create" lets the waiting record be created anew on the other side;
    "skip" leaves it alone on every later change. "link" and "create" store a manual event for the waiting
    record so that the workers sync it on; "skip" stores none, as there is nothing to write. Returns the match
    as decided; raises
    :class:`DecisionRefused` (and writes nothing) when the match is decided already, the candidate is not
    one of its candidates, or a record involved is linked already.
    """
    if decision not in DECISIONS:
        raise DecisionRefused("Choose one of: link these, create new, or skip.")
    candidate_id = str(candidate_id or "").strip()
    with transaction.atomic():
        match = (PossibleMatch.objects.select_for_update(of=("self",)).select_related(
            "integration__crm_connection", "integration__erp_connection", "decided_by").get(pk=match.pk))
        words = RecordWords(match)
        if match.state != MatchState.OPEN:
            raise DecisionRefused(f"This possible match was decided already: {decision_summary(match)}")
        candidate = None
        if decision == LINK:
            candidate = next((c for c in match.candidates if str(c.get("id", "")) == candidate_id), None)
            if candidate is None:
                raise DecisionRefused(f"{words.target_name} {candidate_id or '(none given)'} is not one of the "
                                      f"candidates for {words.source()}; choose one of those shown.")
        _refuse_if_linked(match, words, candidate_id if decision == LINK else "")

        match.state = DECISIONS[decision]
        match.decided_by = user
        match.decided_at = timezone.now()
        if candidate is not None:
            match.chosen_id = candidate_id
            try:
                with transaction.atomic():
                    SyncLink.objects.create(
                        tenant_id=match.tenant_id, integration=match.integration, entity=match.entity,
                        label=match.source_label[:200],
                        **{f"{words.source_role}_id": match.source_id, f"{words.target_role}_id": candidate_id})
            except IntegrityError:  # linked by a worker a moment ago
                raise DecisionRefused("One of the two records was linked a moment ago; reload the page to see how."
                                      ) from None
        match.save(update_fields=["state", "decided_by", "decided_at", "chosen_id", "updated_at"])
        _audit(match, words, candidate=candidate, user=user)
        if decision in (LINK, CREATE):
            event_ingest(integration=match.integration, system=words.source_system, entity=match.entity,
                         action=WebhookAction.UPDATED, external_id=match.source_id, source=EventSource.MANUAL,
                         payload={"possible_match": match.pk, "decision": decision})
    return match


def _refuse_if_linked(match: PossibleMatch, words: RecordWords, candidate_id: str) -> None:
    links = SyncLink.objects.filter(integration=match.integration, entity=match.entity)
    source_link = links.filter(**{f"{words.source_role}_id": match.source_id}).first()
    if source_link is not None:
        other = getattr(source_link, f"{words.target_role}_id")
        raise DecisionRefused(f"{words.source()} is already linked to {words.target_name} {other} in this "
                              "integration, so it no longer waits for a decision.")
    if candidate_id:
        candidate_link = links.filter(**{f"{words.target_role}_id": candidate_id}).first()
        if candidate_link is not None:
            other = getattr(candidate_link, f"{words.source_role}_id")
            raise DecisionRefused(f"{words.target_name} {candidate_id} is already linked to {words.source_name} "
                                  f"{other} in this integration; a record is linked to one record only.")


def _audit(match: PossibleMatch, words: RecordWords, *, candidate: dict[str, Any] | None, user: Any) -> SyncLogEntry:
    who = _username(user)
    if match.state == MatchState.LINKED and candidate is not None:
        reason = f"{who} linked {words.source()} to {words.target(candidate)}."
    elif match.state == MatchState.CREATED:
        reason = f"{who} chose to create a new {words.target_name} for {words.source()}."
    else:
        reason = f"{who} chose to skip {words.source()}: it is not sent to {words.target_system_name}."
    ids = {f"{words.source_role}_id": match.source_id, f"{words.target_role}_id": match.chosen_id}
    return log_entry_create(integration=match.integration, entity=match.entity, action=LogAction.REVIEW,
                            direction="to_erp" if words.source_role == CRM else "to_crm",
                            label=match.source_label, reason=reason, **ids)


class RecordWords:
    """How a possible match's two sides are named in sentences: "webCRM organisation 305 “Sjöviks VVS AB”"."""

    def __init__(self, match: PossibleMatch) -> None:
        integration: Integration = match.integration
        self.match = match
        self.source_role = CRM if match.source_role == CRM else ERP
        self.target_role = ERP if self.source_role == CRM else CRM
        source_conn = integration.crm_connection if self.source_role == CRM else integration.erp_connection
        target_conn = integration.erp_connection if self.source_role == CRM else integration.crm_connection
        self.source_system = source_conn.system
        self.source_system_name = source_conn.provider.name
        self.target_system_name = target_conn.provider.name
        self.source_name = f"{self.source_system_name} {record_noun(source_conn, match.entity)}"
        self.target_name = f"{self.target_system_name} {record_noun(target_conn, match.entity)}"

    def source(self) -> str:
        label = f" “{self.match.source_label}”" if self.match.source_label else ""
        return f"{self.source_name} {self.match.source_id}{label}"

    def target(self, candidate: dict[str, Any]) -> str:
        label = f" “{candidate['label']}”" if candidate.get("label") else ""
        return f"{self.target_name} {candidate.get('id', '')}{label}"


def record_noun(connection, entity: str) -> str:
    """What a system calls one record of ``entity``, in lower case: organisation, customer, debtor."""
    spec = connection.provider.catalog().entity(entity)
    label = (spec.label if spec is not None and spec.label else str(entity)).strip().lower()
    if label.endswith("s") and not label.endswith("ss"):
        label = label[:-1]
    return label.replace("_", " ")


def _username(user: Any) -> str:
    if user is None:
        return "Someone"
    return user.get_username() if hasattr(user, "get_username") else str(user)


def decision_summary(match: PossibleMatch) -> str:
    """Who decided what and when, in one sentence; "" while the match is open."""
    if match.state == MatchState.OPEN:
        return ""
    who = _username(match.decided_by) if match.decided_by_id else "Someone"
    when = timezone.localtime(match.decided_at).strftime("%Y-%m-%d %H:%M") if match.decided_at else "an unknown time"
    if match.state == MatchState.LINKED:
        chosen = next((c for c in match.candidates if str(c.get("id", "")) == match.chosen_id), {"id": match.chosen_id})
        what = f"linked it to {RecordWords(match).target(chosen)}"
    elif match.state == MatchState.CREATED:
        what = "chose to create a new record"
    else:
        what = "chose to skip it"
    return f"{who} {what} on {when}."
