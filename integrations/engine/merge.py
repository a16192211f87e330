"""Two-way sync of one linked record: which side changed each field since the last sync, and who wins.

A three-way comparison against the values both sides last agreed on (the link's ``synced_values``):
a field changed on one side flows to the other; a field changed on both sides to different values is
a conflict, resolved by the field's owner (webCRM, the ERP, or the newest change) and recorded.
Values are compared in one common spelling, so "1.0" and 1 are the same number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .mapping import _canonical, is_blank

CRM, ERP, NEWEST = "crm", "erp", "newest"


def _same(a: Any, b: Any) -> bool:
    return (is_blank(a) and is_blank(b)) or _canonical(a) == _canonical(b)


@dataclass(frozen=True)
class FieldConflict:
    key: str
    crm_value: Any
    erp_value: Any
    owner: str
    winner: str

    @property
    def resolved_value(self) -> Any:
        return self.crm_value if self.winner == CRM else self.erp_value


@dataclass
class MergeResult:
    #: key → value to write on the ERP side / on the webCRM side
    to_erp: dict[str, Any] = field(default_factory=dict)
    to_crm: dict[str, Any] = field(default_factory=dict)
    conflicts: list[FieldConflict] = field(default_factory=list)
    #: the values both sides hold once the writes are done: the next base
    agreed: dict[str, Any] = field(default_factory=dict)


def merge_two_way(
    *, crm: Mapping[str, Any], erp: Mapping[str, Any], base: Mapping[str, Any] | None,
    owners: Mapping[str, str], default_owner: str, crm_is_newer: bool,
) -> MergeResult:
    """Decide every field of a linked pair. ``crm`` and ``erp`` hold each side's value per field key.

    Without a base (a pair just matched), differing fields go the owner's way without counting as
    conflicts: nobody changed them "since the last sync" because there was none.
    """
    result = MergeResult()
    for key in dict.fromkeys([*crm, *erp]):
        c, e = crm.get(key), erp.get(key)
        if _same(c, e):
            result.agreed[key] = c if not is_blank(c) else e
            continue
        owner = owners.get(key) or default_owner
        winner = _owner_winner(owner, crm_is_newer)
        if base is not None and key in base:
            b = base[key]
            if _same(c, b):
                winner = ERP
            elif _same(e, b):
                winner = CRM
            else:
                result.conflicts.append(FieldConflict(key=key, crm_value=c, erp_value=e, owner=owner, winner=winner))
        if winner == CRM:
            result.to_erp[key] = c
            result.agreed[key] = c
        else:
            result.to_crm[key] = e
            result.agreed[key] = e
    return result


def _owner_winner(owner: str, crm_is_newer: bool) -> str:
    if owner == CRM:
        return CRM
    if owner == ERP:
        return ERP
    return CRM if crm_is_newer else ERP
