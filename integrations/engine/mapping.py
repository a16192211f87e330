"""Applying an entity's field mappings to a record, in one direction, with value maps and exact decimals.

Pure functions over plain data: the engine hands in the record read from the source and the mapping
rows, and gets back the values to write and what is missing. Hashes of mapped values recognise our
own writes when they come back as webhooks (echo suppression).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from integrations.systems.catalog import EntitySpec, FieldSpec
from mappings.validation import TO_CRM as TO_CRM  # re-exported: the engine speaks of flows through this module
from mappings.validation import TO_ERP, row_directions

from .limits import SHORTEN, value_fit
from .values import value_convert


class MappingRowLike(Protocol):
    erp_field: str
    crm_field: str
    direction: str
    value_map: dict
    required: bool
    conflict_owner: str
    overflow: str


@dataclass(frozen=True)
class FieldRule:
    """One mapping row seen in one direction: read ``source`` on one side, write ``target`` on the other."""

    source: str
    target: str
    erp_field: str
    crm_field: str
    value_map: Mapping[str, Any] = field(default_factory=dict)
    required: bool = False
    conflict_owner: str = ""
    #: The vendors' descriptions of the field read and the field written, when their catalogs know them.
    source_spec: FieldSpec | None = None
    target_spec: FieldSpec | None = None
    #: What happens to a value longer than the target holds: "shorten" (at a word boundary) or "refuse".
    overflow: str = SHORTEN
    #: The target must receive the value whole (a number, code, id, e-mail …): a longer one is refused, never cut.
    exact: bool = False

    @property
    def key(self) -> str:
        """The row's name in logs and conflict records, the same in both directions."""
        return f"{self.erp_field}↔{self.crm_field}"


def rules_for(rows: Iterable[MappingRowLike], *, flow: str, entity_direction: str,
              crm_spec: EntitySpec | None = None, erp_spec: EntitySpec | None = None) -> list[FieldRule]:
    """The rows that flow ``flow`` (to_erp / to_crm) under the entity's direction, as rules.

    Value maps are written "webCRM value → ERP value"; the way back uses the inverse. With the two sides'
    entity descriptions, each rule knows the field it reads and the field it writes (type, length).
    """
    rules = []
    # Asked once per call, not once per row: each asks every field of the catalog (a pattern match apiece).
    erp_exact = erp_spec.exact_fields() if erp_spec is not None else frozenset()
    crm_exact = crm_spec.exact_fields() if crm_spec is not None else frozenset()
    for row in rows:
        if flow not in row_directions(entity_direction, row.direction):
            continue
        value_map = dict(row.value_map or {})
        crm_field = _field_spec(crm_spec, row.crm_field)
        erp_field = _field_spec(erp_spec, row.erp_field)
        overflow = getattr(row, "overflow", "") or SHORTEN
        if flow == TO_ERP:
            exact = row.erp_field in erp_exact
            rules.append(FieldRule(row.crm_field, row.erp_field, row.erp_field, row.crm_field, value_map,
                                   row.required, row.conflict_owner, crm_field, erp_field, overflow, exact))
        else:
            inverse = {str(v): k for k, v in value_map.items()}
            exact = row.crm_field in crm_exact
            rules.append(FieldRule(row.erp_field, row.crm_field, row.erp_field, row.crm_field, inverse,
                                   row.required, row.conflict_owner, erp_field, crm_field, overflow, exact))
    return rules


def _field_spec(spec: EntitySpec | None, name: str) -> FieldSpec | None:
    return spec.field(name) if spec is not None else None


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def exact(value: Any) -> Any:
    """Floats become Decimals through their shortest text, so 0.1 stays 0.1 and sums stay exact."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def map_value(rule: FieldRule, value: Any, *, notes: dict[str, str] | None = None) -> Any:
    """The value ``rule`` writes for ``value`` read from its source: value map first, then the target's kind,
    then the target's length (:func:`.limits.value_fit`, by the row's ``overflow``).

    A shortened value leaves its note in ``notes`` under the target field's name; a row set to refuse raises
    :class:`.limits.ValueTooLong` for a value longer than the target holds.
    """
    value = exact(value)
    if rule.value_map and not is_blank(value):
        value = rule.value_map.get(str(value), value)
    value = value_convert(value, source=rule.source_spec, target=rule.target_spec)
    fitted = value_fit(value, target=rule.target_spec, overflow=rule.overflow, source=rule.source, exact=rule.exact)
    if fitted.note and notes is not None:
        notes[rule.target] = fitted.note
    return fitted.value


@dataclass
class MappedRecord:
    #: target field → value
    values: dict[str, Any]
    #: source fields of required rows that are empty, in the rows' order
    missing_required: list[str]
    #: target field → what was done to make its value fit ("Name shortened from 150 to 98 characters …")
    notes: dict[str, str] = field(default_factory=dict)


def map_record(record: Mapping[str, Any], rules: Iterable[FieldRule]) -> MappedRecord:
    """The values to write on the target side, the required source fields that are empty, and length notes.

    Raises :class:`.limits.ValueTooLong` (before anything is written) when a row set to refuse meets a value
    longer than its target holds.
    """
    values: dict[str, Any] = {}
    missing: list[str] = []
    notes: dict[str, str] = {}
    for rule in rules:
        value = record.get(rule.source)
        if rule.required and is_blank(value):
            missing.append(rule.source)
        values[rule.target] = map_value(rule, value, notes=notes)
    return MappedRecord(values=values, missing_required=missing, notes=notes)


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        normalised = value.normalize()
        return format(normalised, "f") if normalised == normalised.to_integral() else str(normalised)
    if isinstance(value, float):
        return _canonical(exact(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, str):
        return value.strip()
    return value


def payload_hash(values: Mapping[str, Any]) -> str:
    """A digest of mapped values that ignores key order, number spelling (1, 1.0, "1.00") and padding.

    Blank values hash like absent ones, because vendors differ on whether they send empty fields.
    """
    cleaned = {k: _canonical(v) for k, v in values.items() if not is_blank(v)}
    return hashlib.sha256(json.dumps(cleaned, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose canonical value differs; for logs and update decisions."""
    changes = {}
    for name, new in after.items():
        old = before.get(name)
        if (is_blank(old) and is_blank(new)) or _canonical(old) == _canonical(new):
            continue
        changes[name] = [jsonable(old), jsonable(new)]
    return changes


def jsonable(value: Any) -> Any:
    """A value as JSON keeps it: decimals as text, dates in ISO form, inside dicts and lists too."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def as_synced(before: Mapping[str, Any], written: Mapping[str, Any], answer: Mapping[str, Any]) -> dict[str, Any]:
    """The record as Synkro knows it after its own write: what it read, with the fields it wrote as the vendor
    answered them.

    In: the record as read before the write, the values written (field → value; ``lines`` for a document's lines)
    and the vendor's answer to the write (the record read back). Out: a record to take the link's digest of. The
    answer's other fields are not taken: a person's edit that landed between Synkro's read and its write is in the
    answer, and taking it would make that edit look like Synkro's own echo, so it would never be sent on.
    A written field is taken as answered only where the answer holds the same value (the vendor's spelling of it);
    an answer holding another value (a person's save that put an old value back just after Synkro's write: neither
    webCRM's nor Uniconta's API has a version to refuse it) keeps what Synkro wrote, so that save is seen as a change.
    A document's lines are taken as answered (the vendor adds its own line fields).
    """
    return {**before, **{name: answer.get(name) if name == "lines" else _as_answered(value, answer.get(name))
                         for name, value in written.items()}}


def _as_answered(wrote: Any, answered: Any) -> Any:
    """The vendor's spelling of the value Synkro wrote, or the written value when the answer holds another one.

    A blank written is taken as answered: clients leave some blanks out of the write (a number webCRM keeps)."""
    if is_blank(wrote) or _canonical(wrote) == _canonical(answered):
        return answered
    return wrote
