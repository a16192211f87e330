"""Creates that survive a lost answer: Synkro's own key in the new record, and a look for it before trying again.

A document (sales order, invoice, delivery) has no natural match to adopt like an organisation's number or a
person's e-mail. So before Synkro asks a system to create one it stores the link half-made, with the key it puts
into the new record (``SyncLink.pending["create"]``), and only then sends the create. When the answer never comes
(the worker was killed, the vendor answered 500 after applying the write, the client timed out), the next attempt
finds that half-made link and first looks the key up in the system:

- found once: that record is the one made before, and is linked instead of making another;
- found more than once: the first is linked, and the others are named in the log as duplicates for a person;
- not found: the create is sent again under the same key.

The key lives in a field the vendor keeps and lets Synkro search (the catalog's ``sync_key`` role, e.g.
Fortnox's ``ExternalInvoiceReference1``; see docs/vendors). A system without one gets no second create after a
lost answer: the change waits for a person, with the reason in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from integrations.models import SyncLink
from integrations.systems.base import Record
from integrations.systems.errors import VendorValidationError

from .context import SideContext, SyncContext

KEY_ROLE = "sync_key"


def sync_key(source: SideContext, source_id: str) -> str:
    """Synkro's key for a record of ``source`` in the record made from it: the source system's name and id."""
    return f"{source.name} {source_id}"


@dataclass
class Resumed:
    """What a look for an earlier create found: the record (None: nothing, create it) and any duplicates' ids."""

    record: Record | None = None
    duplicates: list[str] = field(default_factory=list)


def create_intent(ctx: SyncContext, *, link: SyncLink | None, entity: str, source: SideContext,
                  source_id: str, target: SideContext, key: str, label: str) -> SyncLink:
    """Store (or keep) the half-made link saying a create under ``key`` is about to be sent to ``target``.

    In: the link found for the source record (None for a first attempt). Out: the saved link, with the source's id
    set, the target's id empty and ``pending["create"]`` naming the target's role and the key.
    """
    intent = {"create": {"side": target.role, "key": key}}
    if link is None:
        link = SyncLink(tenant_id=ctx.integration.tenant_id, integration=ctx.integration, entity=entity,
                        label=label, **{f"{source.role}_id": source_id})
    link.pending = intent
    link.save()
    return link


def create_sent_before(link: SyncLink | None, target: SideContext) -> str | None:
    """The key of a create sent to ``target`` whose answer never came back, or None."""
    create = (link.pending or {}).get("create") if link is not None else None
    if not create or create.get("side") != target.role or getattr(link, f"{target.role}_id"):
        return None
    return str(create.get("key") or "") or None


def created_before(target: SideContext, key: str) -> Resumed:
    """Look ``key`` up in ``target``'s records: the record an earlier attempt made, if it got that far.

    Raises :class:`VendorValidationError` (a permanent failure, in words) when ``target`` has no field to find
    the key by: sending the create again could make a second record, and only a person can tell.
    """
    field_name = target.role_field(KEY_ROLE)
    if not field_name:
        raise VendorValidationError(
            f"Synkro sent this to {target.name} but never heard back, and {target.name}'s records cannot be searched "
            f"for Synkro's key ({key}), so it does not send it again. Check {target.name} for a record made for it: "
            "delete a copy you do not want, then replay.", system=target.provider.key)
    found = sorted(target.client.find_records(target.entity, field_name, key), key=lambda r: _order(target, r))
    if not found:
        return Resumed()
    return Resumed(found[0], [target.record_id(other) for other in found[1:]])


def duplicates_note(target: SideContext, duplicates: list[str]) -> str:
    """The log's words for records an earlier attempt made twice ('' when there are none)."""
    if not duplicates:
        return ""
    return (f"{target.name} also holds {', '.join(duplicates)} under the same Synkro key, made by an earlier attempt "
            "whose answer was lost: check and delete the copies there.")


def _order(side: SideContext, record: Record) -> tuple[int, str]:
    """Oldest first: numeric ids by number, others as text."""
    record_id = side.record_id(record)
    return (int(record_id), "") if record_id.isdigit() else (0, record_id)
