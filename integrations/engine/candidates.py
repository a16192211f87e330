"""Who a record might be on the other side: its identity values, and the target's records that share one.

A candidate is only a record found by one identity field (customer number, org/VAT number, name, e-mail,
item number); whether it is the same company or person is weighed afterwards (``identity.weigh``).
Identifiers are searched in every spelling a vendor may have stored (``556677-8899``, ``5566778899``,
``SE556677889901``), because the vendors' filters compare text as it stands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from integrations.models import SyncLink
from integrations.systems.base import Record
from integrations.systems.catalog import Entity

from . import identity
from .context import CRM, SideContext, SyncContext
from .mapping import is_blank

#: The identity fields weighed per entity (design §1), by field role.
IDENTITY_ROLES: dict[str, tuple[str, ...]] = {
    Entity.ORGANISATION: ("number", "vat", "name", "email"),
    Entity.PERSON: ("email", "name"),
    Entity.USER: ("email", "name"),
    Entity.ITEM: ("number", "name"),
}

#: The fields a target is searched by, per entity, strongest first.
SEARCH_ROLES: dict[str, tuple[str, ...]] = {
    Entity.ORGANISATION: ("vat", "number", "name", "email"),
    Entity.PERSON: ("email",),
    Entity.USER: ("email",),
    Entity.ITEM: ("number",),
}

#: Which finding counts most when one candidate was found by several fields.
FOUND_BY_STRENGTH = ("vat", "email", "number", "name")


@dataclass
class Candidate:
    """One record of the target that shares an identity field with the source record."""

    record: Record
    target_id: str
    found_by: set[str] = field(default_factory=set)
    values: dict[str, Any] = field(default_factory=dict)
    #: Linked (in this integration) to another record of the source side: its id there.
    linked_to: str = ""

    @property
    def strongest_find(self) -> str:
        return next((role for role in FOUND_BY_STRENGTH if role in self.found_by), "name")


def record_label(side: SideContext, record: Record) -> str:
    """A record's name for people (its name, else its number, else its e-mail); "" when it has none."""
    for role in ("name", "number", "email"):
        name = side.role_field(role)
        if name and not is_blank(record.get(name)):
            return str(record[name])
    return ""


def identity_values(side: SideContext, record: Record, entity: str, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """``{role: value}`` of a record's identity fields that are filled, e.g. {"vat": "556677-8899", …}."""
    values = {}
    for role in IDENTITY_ROLES.get(entity, ("number", "name")):
        name = side.role_field(role)
        if role in drop or not name:
            continue
        value = record.get(name)
        if not is_blank(value):
            values[role] = value
    return values


def number_from_other_integration(ctx: SyncContext, crm_id: str) -> bool:
    """Whether the front record is linked by another integration of the same front connection.

    Its number field then holds that integration's ERP number, which says nothing about this ERP's
    records: a paused (or other) integration's numbers never steer this one.
    """
    return (SyncLink.objects.filter(entity=ctx.entity, crm_id=crm_id,
                                    integration__crm_connection_id=ctx.integration.crm_connection_id)
            .exclude(integration=ctx.integration).exists())


def _spellings(role: str, value: Any) -> list[str]:
    if role == "vat":
        return identity.org_number_spellings(value) or [str(value).strip()]
    if role == "email":
        key = identity.email_key(value)
        return [key] if key else []
    return [str(value).strip()] if not is_blank(value) else []


def candidates_find(ctx: SyncContext, *, source: SideContext, target: SideContext,
                    search: dict[str, Any]) -> list[Candidate]:
    """The target's records that share one of ``search``'s identity values ({role: value}), each once.

    Each candidate carries the roles it was found by, its own identity values, and whether it is already
    linked (in this integration) to another record of the source side.

    Every field and spelling is asked at once (``ApiClient.find_records_each``: one request where the vendor's
    filter joins conditions with ``or``, or one reading of the list where it has no filter), each answered as
    ``find_records`` answers it; so a record stored under any spelling of its org./VAT number is found.
    """
    terms: list[tuple[str, str, str]] = []  # (role, field, spelling)
    for role in SEARCH_ROLES.get(ctx.entity, ()):
        name = target.role_field(role)
        if not name or is_blank(search.get(role)):
            continue
        terms += [(role, name, spelling) for spelling in _spellings(role, search[role])]
    found: dict[str, Candidate] = {}
    answers = target.client.find_records_each(target.entity, [(name, spelling) for _, name, spelling in terms]) \
        if terms else []
    for (role, _, _), records in zip(terms, answers, strict=True):
        for record in records:
            target_id = target.record_id(record)
            candidate = found.setdefault(target_id, Candidate(record, target_id))
            candidate.found_by.add(role)
    if not found:
        return []
    links = dict(SyncLink.objects.filter(integration=ctx.integration, entity=ctx.entity,
                                         **{f"{target.role}_id__in": list(found)})
                 .values_list(f"{target.role}_id", f"{source.role}_id"))
    for candidate in found.values():
        candidate.linked_to = links.get(candidate.target_id, "")
        drop = ("number",) if target.role == CRM and number_from_other_integration(ctx, candidate.target_id) else ()
        if drop:
            candidate.found_by.discard("number")
        candidate.values = identity_values(target, candidate.record, ctx.entity, drop=drop)
    return [c for c in found.values() if c.found_by]
