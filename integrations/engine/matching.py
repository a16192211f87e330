"""Finding the other side's record before creating one, and a person's organisation on the other side.

Matching is what makes creates idempotent: a crash between "created in the target" and "link stored"
is repaired by finding (and adopting) that record on the next attempt instead of creating it twice.
"""

from __future__ import annotations

from typing import Any

from integrations.models import SyncLink
from integrations.systems.base import Record
from integrations.systems.catalog import Entity

from . import plan
from .context import SideContext, SyncContext
from .mapping import is_blank

#: Matching order per entity (design §1): the first role with a value on both sides decides.
MATCH_ORDER = {
    Entity.ORGANISATION: ("number", "vat", "name"),
    Entity.PERSON: ("email",),
    Entity.USER: ("email",),
    Entity.ITEM: ("number",),
}


def link_for(ctx: SyncContext, side: SideContext, record_id: str,
             entities: tuple[str, ...] | None = None) -> SyncLink | None:
    """The link of ``side``'s record ``record_id``, among ``entities`` (the context's entity by default)."""
    return SyncLink.objects.filter(integration=ctx.integration, entity__in=entities or (ctx.entity,),
                                   **{f"{side.role}_id": record_id}).first()


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
                                 f"which is not synced to {target.name} yet; it follows once the organisation is.")
    return {}


def find_match(ctx: SyncContext, target: SideContext, values: dict[str, Any]) -> Record | None:
    """The target's record with the same key (number, then VAT, then name; e-mail; item number)."""
    for role in MATCH_ORDER.get(Entity(ctx.entity), ()):
        name = target.role_field(role)
        if not name or is_blank(values.get(name)):
            continue
        found = target.client.find_records(target.entity, name, values[name])
        linked = set(SyncLink.objects.filter(integration=ctx.integration, entity=ctx.entity)
                     .exclude(**{f"{target.role}_id": ""})
                     .filter(**{f"{target.role}_id__in": [target.record_id(r) for r in found]})
                     .values_list(f"{target.role}_id", flat=True))
        free = [r for r in found if target.record_id(r) not in linked]
        if len(free) == 1:
            return free[0]
        if len(free) > 1:
            return None  # ambiguous: better a visible new record than a wrong merge
    return None


def link_adopt(ctx: SyncContext, *, source: SideContext, target: SideContext, source_id: str,
               match: Record) -> SyncLink:
    target_id = target.record_id(match)
    link, _ = SyncLink.objects.get_or_create(
        tenant_id=ctx.integration.tenant_id, integration=ctx.integration, entity=ctx.entity,
        **{f"{source.role}_id": source_id}, defaults={f"{target.role}_id": target_id})
    if getattr(link, f"{target.role}_id") != target_id:
        setattr(link, f"{target.role}_id", target_id)
        link.save(update_fields=[f"{target.role}_id"])
    return link
