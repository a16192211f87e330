"""Whether a listed record differs from what its link last synced: drift that is real, never drift that is not.

A link keeps a digest per side of the values last synced (``SyncLink.crm_hash`` / ``erp_hash``: the mapped
fields, or for orders and invoices the whole document with its lines). A reconciliation and a poll read records
from list answers, and some lists carry far less than a read of one record: Fortnox's customer list has no
``WWW``, ``TermsOfPayment`` or ``Active`` and no list carries document rows (spec ``fortnox_CustomerListItem`` vs
``fortnox_Customer``; the client's ``list_fields`` names what a list item holds). A field a list leaves out is not
"different". So:

- Where the list shows every field the digest covers, the list item is compared as it is.
- Otherwise the record is read whole and compared, and the link remembers a *list proof*: a digest of what the
  list shows of it together with the link's digest at that moment. A later run finds the same proof, and the
  vendor's "changed since" filter (where it has one) does not list the record as changed since the previous
  completed reconciliation: nothing it could show or hide has changed, so it is neither drift nor read again.
  A change of the link (a sync), of the mapping or of a field the list shows breaks the proof.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from integrations.models import RunKind, RunState, SyncLink, SyncRun
from integrations.systems.base import Record
from integrations.systems.catalog import Entity
from integrations.systems.errors import NotFoundError

from .apply import side_hash
from .clock import client_window_start
from .context import SideContext, SyncContext
from .documents_sync import DOCUMENT_ENTITIES, document_hash
from .mapping import payload_hash

#: Entities whose processing compares a record with its link by digest (POS sales and day reports do not).
_NO_DIGEST = (Entity.POS_SALE, Entity.DAILY_REPORT)
LINES = "lines"


def link_digest(ctx: SyncContext, side: SideContext, record: Record) -> str:
    """The digest the engine keeps on a link for ``record`` of ``side``: of the document for orders and invoices,
    else of the mapped fields."""
    if Entity(ctx.entity) in DOCUMENT_ENTITIES:
        return document_hash(side, record)
    return side_hash(ctx, side, record)


def hidden_by_list(ctx: SyncContext, side: SideContext) -> set[str]:
    """Fields the link's digest covers that ``side``'s list items lack (``lines`` for documents); empty when a list
    item is the whole record."""
    shown = side.client.list_fields(side.entity)
    if shown is None:
        return set()
    hidden = {name for name in ctx.mapped_fields(side) if name not in shown}
    if Entity(ctx.entity) in DOCUMENT_ENTITIES:
        hidden.add(LINES)
    return hidden


def list_proof(ctx: SyncContext, side: SideContext, record: Record, digest: str) -> str:
    """A digest of what the list shows of ``record`` (its mapped fields there, by name) and of the link's
    ``digest``: the same proof later means neither changed."""
    shown = side.client.list_fields(side.entity) or frozenset()
    mapped = ctx.mapped_fields(side)
    values = {f"shown:{name}": record.get(name) for name in mapped if name in shown}
    return payload_hash({**values, "@link": digest, "@fields": ",".join(sorted(mapped))})


def unchanged_listed(ctx: SyncContext, side: SideContext, records: list[Record], *,
                     seen_before: Iterable[str] = ()) -> set[str]:
    """Ids of ``records`` (list items of ``side``) whose values are what their link last synced.

    Where the list shows every field of the link's digest the list item is compared as it is; where it does not,
    only linked records in ``seen_before`` (listed already by the previous poll, so listed again by the overlap)
    are read whole and compared: one read instead of the event's, and a record listed for the first time is left
    to its event. Never for POS sales and day reports (empty set). Processing a returned record would end as
    "no mapped field changed".
    """
    if not records or Entity(ctx.entity) in _NO_DIGEST:
        return set()
    ids = [side.record_id(record) for record in records]
    digests = dict(SyncLink.objects.filter(integration=ctx.integration, entity=ctx.entity, pending={},
                                           **{f"{side.role}_id__in": ids})
                   .values_list(f"{side.role}_id", f"{side.role}_hash"))
    if not hidden_by_list(ctx, side):
        return {record_id for record_id, record in zip(ids, records, strict=True)
                if digests.get(record_id) and digests[record_id] == link_digest(ctx, side, record)}
    again = set(seen_before)
    unchanged = set()
    for record_id in ids:
        if not digests.get(record_id) or record_id not in again:
            continue
        try:
            whole = side.client.get_record(side.entity, record_id)
        except NotFoundError:
            continue
        if link_digest(ctx, side, whole) == digests[record_id]:
            unchanged.add(record_id)
    return unchanged


def linked_record_differs(ctx: SyncContext, side: SideContext, record: Record, digest: str) -> bool:
    """Whether linked ``record`` (a list item of ``side``) differs from the link's ``digest``.

    Reads the record whole when the list cannot show a difference and no list proof holds (see the module's
    description); a record gone meanwhile counts as different, for processing to find out. New proofs wait in the
    context until :func:`list_proofs_store` saves them.
    """
    if digest == link_digest(ctx, side, record):
        return False
    if not hidden_by_list(ctx, side) or Entity(ctx.entity) in _NO_DIGEST:
        return True
    record_id = side.record_id(record)
    proof = list_proof(ctx, side, record, digest)
    if _stored_proofs(ctx, side).get(record_id) == proof and record_id not in _changed_meanwhile(ctx, side):
        return False
    try:
        whole = side.client.get_record(side.entity, record_id)
    except NotFoundError:
        return True
    if link_digest(ctx, side, whole) != digest:
        return True
    _new_proofs(ctx, side)[record_id] = proof
    return False


def list_proofs_store(ctx: SyncContext, side: SideContext) -> int:
    """Save the list proofs found since the last call onto their links; returns how many were saved."""
    found = _new_proofs(ctx, side)
    if not found:
        return 0
    field = f"{side.role}_list_proof"
    with transaction.atomic():
        for record_id, proof in found.items():
            SyncLink.objects.filter(integration=ctx.integration, entity=ctx.entity,
                                    **{f"{side.role}_id": record_id}).update(**{field: proof})
    _stored_proofs(ctx, side).update(found)
    saved = len(found)
    found.clear()
    return saved


def _cache(ctx: SyncContext, name: str) -> dict:
    return ctx.__dict__.setdefault(name, {})


def _new_proofs(ctx: SyncContext, side: SideContext) -> dict[str, str]:
    return _cache(ctx, "new_list_proofs").setdefault(side.role, {})


def _stored_proofs(ctx: SyncContext, side: SideContext) -> dict[str, str]:
    """{record id: list proof} of ``side``'s links, read once per context."""
    cache = _cache(ctx, "list_proofs")
    if side.role not in cache:
        cache[side.role] = dict(SyncLink.objects.filter(integration=ctx.integration, entity=ctx.entity)
                                .exclude(**{f"{side.role}_id": ""}).exclude(**{f"{side.role}_list_proof": ""})
                                .values_list(f"{side.role}_id", f"{side.role}_list_proof"))
    return cache[side.role]


def _changed_meanwhile(ctx: SyncContext, side: SideContext) -> Iterable[str] | _Everything:
    """Ids the vendor lists as changed since the previous completed reconciliation began (with the poll's overlap);
    everything when there was none or the vendor cannot list by change. Asked once per context."""
    cache = _cache(ctx, "changed_meanwhile")
    if side.role not in cache:
        last = (SyncRun.objects.filter(integration=ctx.integration, entity=ctx.entity, kind=RunKind.RECONCILE,
                                       state=RunState.DONE).order_by("-started_at").values_list("started_at", flat=True)
                .first())
        if last is None or not side.client.filters_by_change(side.entity):
            cache[side.role] = _Everything()
        else:
            since = client_window_start(side.client, cursor=last, now=timezone.now())
            cache[side.role] = {side.record_id(r) for r in side.client.list_records(side.entity, modified_since=since)}
    return cache[side.role]


class _Everything:
    """Holds every id: nothing is known to be unchanged."""

    def __contains__(self, item: object) -> bool:
        return True
