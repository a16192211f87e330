"""A record deleted on one side: prove it is gone, then delete its counterpart — unless that must not happen.

A delete notice is a hint like any other. The source is read again and only a record really gone there
(not found, or marked deleted by the vendor) goes on. Then the counterpart is deleted, except where the
target system's API cannot delete that kind of record, or where it is an ERP customer with activity
(sales orders or invoices): accounting records with activity are never deleted. Those end as a plain skip
with the reason, never as a failure; the link is removed so that no later write goes to a record that
is gone on the other side. The record left standing then waits for a person under "Possible matches" (without
candidates: its counterpart is gone): "Create new" makes it again on the other side, "Skip" keeps it out of the sync.
Until then nothing is created for it — not by its next change, nor by a reconciliation — so a record deleted on
purpose in one system is never brought back on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from integrations.models import LogAction, MatchState, PossibleMatch, SyncLink
from integrations.systems.base import Record
from integrations.systems.catalog import Entity
from integrations.systems.errors import NotFoundError

from .context import ERP, SideContext, SyncContext
from .outcome import Outcome, ids_for
from .review import record_noun


@dataclass(frozen=True)
class SourceCheck:
    """What reading the source again said: whether the record is gone, and if not, why that matters."""

    gone: bool
    why_not: str = ""


def source_check(*, found: bool, record: Record | None, marked_deleted: bool) -> SourceCheck:
    """Whether a re-read proves the record deleted.

    ``found`` is False when the source answered "no such record" (the only ordinary proof); a record read
    back and marked deleted by its vendor is proof too. A record read back unmarked still exists; an answer
    without a record proves nothing either way.
    """
    if not found or marked_deleted:
        return SourceCheck(gone=True)
    if not record:
        return SourceCheck(gone=False, why_not="answered without the record, so the deletion could not be confirmed")
    return SourceCheck(gone=False, why_not="it still exists there")


def guards_activity(*, entity: str, target_role: str) -> bool:
    """Only customers in the ERP (the books) are protected by their activity."""
    return entity == Entity.ORGANISATION and target_role == ERP


def noun(side: SideContext) -> str:
    """The side's word for one record, in lower case: "organisation", "debtor", "customer", "contact"."""
    return record_noun(side.connection, side.entity)


def plural(word: str) -> str:
    return f"{word[:-1]}ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else f"{word}s"


def record_delete(ctx: SyncContext, *, source: SideContext, target: SideContext, link: SyncLink | None,
                  external_id: str) -> Outcome:
    """Carry out a "deleted" notice of ``external_id`` in ``source``; returns what was done, for the log.

    Skipped (with the reason in words) when nothing was linked, when the source still has the record, when
    the target's API cannot delete it, or when it is an ERP customer with activity or whose activity is
    unknown. Otherwise the counterpart is deleted (already gone there is fine) and the link removed.
    """
    if link is None:
        return Outcome(LogAction.SKIPPED, f"Deleted in {source.name}; nothing was linked in {target.name}.",
                       **ids_for(source, external_id, ""))
    target_id = str(getattr(link, f"{target.role}_id"))
    ids, label = ids_for(source, external_id, target_id), link.label
    source_what = f"{source.name} {noun(source)} {external_id}"
    target_what = f"{target.name} {noun(target)} {target_id}"

    check = _read_source(source, external_id)
    if not check.gone:
        return Outcome(LogAction.SKIPPED, f"{source.name} sent a delete notice for {noun(source)} {external_id}, "
                       f"but {check.why_not}, so the {target_what} was not deleted.", **ids, label=label)

    if not target.client.can_delete(target.entity):
        link.delete()
        survivor_waits(ctx, survivor=target, survivor_id=target_id, label=label,
                       why=f"{source_what} was deleted, and {target.name}'s API cannot delete "
                           f"{plural(noun(target))}")
        return Outcome(LogAction.SKIPPED, f"{source_what} was deleted; {target.name}'s API cannot delete "
                       f"{plural(noun(target))}, so {noun(target)} {target_id} stays in {target.name} — delete it "
                       "there by hand if it should go.", **ids, label=label)

    if guards_activity(entity=ctx.entity, target_role=target.role):
        try:
            activity = target.client.has_activity(target.entity, target_id)
        except NotFoundError:
            return _gone_already(link, source_what=source_what, target_what=target_what, ids=ids, label=label)
        if activity is not False:
            link.delete()
            found = (f"{target_what} has invoices or orders" if activity else
                     f"{target.name} could not tell whether {noun(target)} {target_id} has invoices or orders")
            survivor_waits(ctx, survivor=target, survivor_id=target_id, label=label,
                           why=f"{source_what} was deleted; {found}, so it was kept")
            return Outcome(LogAction.SKIPPED, f"{source_what} was deleted. {found}, so it is not deleted; "
                           "accounting records with activity are never deleted.", **ids, label=label)

    try:
        target.client.delete_record(target.entity, target_id)
    except NotFoundError:
        return _gone_already(link, source_what=source_what, target_what=target_what, ids=ids, label=label)
    link.delete()
    return Outcome(LogAction.DELETED, f"Deleted in {source.name}, so deleted in {target.name} as well.", **ids,
                   label=label, writes=1, plan="delete")


def record_gone(source: SideContext, external_id: str) -> bool:
    """Whether ``external_id`` is proven deleted in ``source`` by reading it by id (see ``source_check``): not found,
    or read back marked deleted. A record merely missing from a list page is never proof; vendor errors other than
    "not found" are raised."""
    return _read_source(source, external_id).gone


def deleted_while_notices_off(ctx: SyncContext, *, source: SideContext, target: SideContext, link: SyncLink,
                              external_id: str) -> Outcome:
    """A linked record found deleted in ``source`` by a reconciliation while ``source``'s delete notices are switched
    off for the entity: nothing is deleted in ``target`` (deletes are never carried over unless switched on); the link
    is removed, as on every other path that leaves the counterpart standing, so no later write goes to a record
    that is gone. Returns the skip, for the log."""
    target_id = str(getattr(link, f"{target.role}_id"))
    ids, label = ids_for(source, external_id, target_id), link.label
    link.delete()
    survivor_waits(ctx, survivor=target, survivor_id=target_id, label=label,
                   why=f"{source.name} {noun(source)} {external_id} was deleted while delete notices from "
                       f"{source.name} are switched off")
    return Outcome(LogAction.SKIPPED, f"{source.name} {noun(source)} {external_id} was deleted. Delete notices from "
                   f"{source.name} are switched off for {plural(noun(source))}, so {target.name} {noun(target)} "
                   f"{target_id} was left alone and the two are no longer linked.", **ids, label=label)


def survivor_waits(ctx: SyncContext, *, survivor: SideContext, survivor_id: str, label: str, why: str) -> None:
    """Have ``survivor_id`` of ``survivor``, whose counterpart was deleted, wait for a person: an open possible
    match without candidates, saying ``why`` (a clause, without the full stop). See ``counterpart_deleted_waits``."""
    reason = (f"{why}. Its counterpart is gone, so nothing is created for it until a person decides: "
              f"“Create new” makes it again in the other system, “Skip” keeps it out of the sync.")
    PossibleMatch.objects.update_or_create(
        integration=ctx.integration, entity=ctx.entity, source_role=survivor.role, source_id=survivor_id,
        state=MatchState.OPEN, defaults={"tenant_id": ctx.integration.tenant_id, "source_label": label[:200],
                                         "source_values": {}, "candidates": [], "reason": reason})


def counterpart_deleted_waits(ctx: SyncContext, *, source: SideContext, source_id: str, label: str,
                              waiting: PossibleMatch | None | Literal[False] = False) -> Outcome | None:
    """The outcome for an unlinked record that waits because its counterpart was deleted (``survivor_waits``):
    nothing is written, the record waits for a person. None when it does not wait so.

    ``waiting``: the record's open possible match (or None) when the caller has read it already
    (``possible.record_standing``); by default it is read here."""
    if waiting is False:
        waiting = (PossibleMatch.objects.filter(integration=ctx.integration, entity=ctx.entity,
                                                source_role=source.role, source_id=source_id, state=MatchState.OPEN)
                   .only("candidates", "reason").first())
    if waiting is None or waiting.candidates:
        return None
    return Outcome(LogAction.REVIEW, f"{waiting.reason} Nothing was written; it waits under “Possible matches”.",
                   **ids_for(source, source_id, ""), label=label, plan="possible")


def _read_source(source: SideContext, external_id: str) -> SourceCheck:
    try:
        record = source.client.get_record(source.entity, external_id)
    except NotFoundError:
        return source_check(found=False, record=None, marked_deleted=False)
    marked = bool(record) and source.client.is_deleted(source.entity, record)
    return source_check(found=True, record=record, marked_deleted=marked)


def _gone_already(link: SyncLink, *, source_what: str, target_what: str, ids: dict[str, str],
                  label: str) -> Outcome:
    """The counterpart was gone before we came: the goal is reached, nothing was written."""
    link.delete()
    return Outcome(LogAction.DELETED, f"{source_what} was deleted, and the {target_what} was already gone.",
                   **ids, label=label, plan="delete")
