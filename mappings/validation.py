"""Checks of an entity's sync configuration against the two systems' field catalogs.

Pure functions over plain data, so the screens, the API and the tests share one set of rules and
every problem is named in words an administrator understands.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from integrations.systems.catalog import EntitySpec, FieldSpec, FieldType

TO_ERP, TO_CRM, TWO_WAY, OFF = "to_erp", "to_crm", "two_way", "off"

_GROUPS = {
    FieldType.STRING: "text", FieldType.TEXT: "text", FieldType.EMAIL: "text", FieldType.CHOICE: "text",
    FieldType.REFERENCE: "text", FieldType.INTEGER: "number", FieldType.DECIMAL: "number",
    FieldType.BOOLEAN: "yes/no", FieldType.DATE: "date", FieldType.DATETIME: "date", FieldType.LIST: "list",
}
_GROUP_WORDS = {"text": "text", "number": "a number", "yes/no": "a yes/no flag", "date": "a date", "list": "a list"}

# Sizes the configuration may take, on the screens and through the API alike: generous for any real
# configuration, small enough that no setting can weigh on every sync or on the database.
MAX_TRIGGER_VALUES = 50
MAX_ORDER_TYPES = 20
MAX_LIST_VALUE_LENGTH = 100
MAX_VALUE_MAP_ENTRIES = 500
MAX_VALUE_MAP_TEXT = 200


@dataclass(frozen=True)
class MappingRow:
    erp_field: str
    crm_field: str
    direction: str = ""  # "", "to_erp" or "to_crm"
    value_map: dict = field(default_factory=dict)
    required: bool = False
    key: object = None  # the row's id, so problems can be shown beside it
    overflow: str = "shorten"  # what happens to a value longer than the target holds: "shorten" or "refuse"


@dataclass(frozen=True)
class EntityConfig:
    """The settings of one entity that the rules look at."""

    direction: str
    trigger_field: str = ""
    trigger_values: Sequence[str] = ()
    number_authority: str = "erp"
    relevant_flag_field: str = ""
    accepted_order_types: Sequence[str] = ()


@dataclass(frozen=True)
class Side:
    """One system's view of the entity: its display name and its catalog entry."""

    system_name: str
    spec: EntitySpec | None


@dataclass(frozen=True)
class Problem:
    message: str
    #: The form field it belongs beside ("erp_field", "crm_field", "trigger_values", …); "" for general.
    field: str = ""
    #: The mapping row's key, when it is about one row.
    row: object = None


def row_directions(entity_direction: str, row_direction: str) -> set[str]:
    """Which ways a row actually flows: the entity's direction, narrowed by the row."""
    entity = {OFF: set(), TO_ERP: {TO_ERP}, TO_CRM: {TO_CRM}, TWO_WAY: {TO_ERP, TO_CRM}}[entity_direction]
    if not row_direction:
        return entity
    return entity & {row_direction}


def _lookup(side: Side, name: str) -> FieldSpec | None:
    if side.spec is None:
        return None
    found = side.spec.field(name)
    if found is None and side.spec.open_custom_fields and name.startswith("x") and name[1:].isidentifier():
        # A user-defined field (Uniconta): not known in advance, treated as text.
        return FieldSpec(name=name, type=FieldType.STRING, custom=True)
    return found


def _kind(spec: FieldSpec) -> str:
    return _GROUPS.get(spec.type, "text")


def validate_entity_config(
    *, entity_label: str, config: EntityConfig, rows: Iterable[MappingRow], crm: Side, erp: Side
) -> list[Problem]:
    """Every problem of one entity's configuration; an empty list means it can be saved."""
    rows = list(rows)
    problems: list[Problem] = size_problems(config=config, rows=rows) + flag_problems(config=config, crm=crm)

    if config.trigger_field and not [v for v in config.trigger_values if str(v).strip()]:
        word = {"type": "Type", "status": "Status"}.get(config.trigger_field, config.trigger_field)
        problems.append(Problem(
            f"Choose at least one {word} value for “Sync only organisations of {word.lower()}”, "
            "or turn the trigger off.", field="trigger_values"))

    writes: dict[tuple[str, str], list[MappingRow]] = defaultdict(list)
    for row in rows:
        erp_field, crm_field = _lookup(erp, row.erp_field), _lookup(crm, row.crm_field)
        if erp.spec is not None and erp_field is None:
            problems.append(Problem(f"{erp.system_name} has no field “{row.erp_field}” on {entity_label}.",
                                    field="erp_field", row=row.key))
        if crm.spec is not None and crm_field is None:
            problems.append(Problem(f"{crm.system_name} has no field “{row.crm_field}” on {entity_label}.",
                                    field="crm_field", row=row.key))
        if erp_field is None or crm_field is None:
            continue
        flows = row_directions(config.direction, row.direction)
        if row.direction and config.direction != OFF and not flows:
            problems.append(Problem(
                f"This row only flows {'webCRM → ERP' if row.direction == TO_ERP else 'webCRM ← ERP'}, "
                f"but {entity_label} sync the other way, so it would never be used.", field="direction",
                row=row.key))
        for flow in flows:
            source, target, target_side = (
                (crm_field, erp_field, erp) if flow == TO_ERP else (erp_field, crm_field, crm))
            source_side = crm if flow == TO_ERP else erp
            writes[(flow, target.name)].append(row)
            if target.read_only:
                only = "webCRM ← ERP" if flow == TO_ERP else "webCRM → ERP"
                problems.append(Problem(
                    f"{target_side.system_name}'s {target.name} is read-only, so this row can only flow {only}. "
                    f"Narrow the row to {only}.", field="direction", row=row.key))
            if not row.value_map and _kind(target) != "text" and _kind(source) != _kind(target) \
                    and not _read_from_text(source, target):
                problems.append(Problem(
                    f"{source_side.system_name}'s {source.name} is {_GROUP_WORDS[_kind(source)]} but "
                    f"{target_side.system_name}'s {target.name} is {_GROUP_WORDS[_kind(target)]}. "
                    "Map fields of the same kind, or add a value map.", field="crm_field" if flow == TO_CRM
                    else "erp_field", row=row.key))

    for (flow, target_name), writers in writes.items():
        if len(writers) > 1:
            side = erp if flow == TO_ERP else crm
            sources = ", ".join(f"“{w.crm_field if flow == TO_ERP else w.erp_field}”" for w in writers)
            problems.append(Problem(
                f"Two rows write {side.system_name}'s {target_name} (from {sources}). Keep one.",
                field="erp_field" if flow == TO_ERP else "crm_field", row=writers[-1].key))

    if config.number_authority == "crm" and config.direction != OFF and erp.spec is not None:
        number = erp.spec.number_field
        mapped = [r for r in rows if r.erp_field == number and TO_ERP in row_directions(config.direction, r.direction)]
        if number and not mapped:
            problems.append(Problem(
                f"webCRM assigns the customer numbers, so {erp.system_name}'s {number} must be mapped "
                "from a webCRM field (webCRM → ERP).", field="number_authority"))
    return problems


def length_warnings(*, config: EntityConfig, rows: Iterable[MappingRow], crm: Side, erp: Side) -> list[Problem]:
    """Rows whose source can hold longer text than their target, in each way they flow: warnings, not errors.

    In: the entity's direction, its rows and both sides' catalogs. Out: one :class:`Problem` per row and flow
    whose target has a known ``max_length`` and whose source's is larger or unknown, naming both lengths and
    what the row will do (shorten at a word boundary, or refuse). Saving is never blocked by these.
    """
    warnings: list[Problem] = []
    for row in rows:
        erp_field, crm_field = _lookup(erp, row.erp_field), _lookup(crm, row.crm_field)
        if erp_field is None or crm_field is None:
            continue
        for flow in sorted(row_directions(config.direction, row.direction)):
            source, target = (crm_field, erp_field) if flow == TO_ERP else (erp_field, crm_field)
            source_side, target_side = (crm, erp) if flow == TO_ERP else (erp, crm)
            if _kind(source) != "text" or _kind(target) != "text" or not target.max_length:
                continue
            if target.value_kind.startswith("country"):
                continue  # a country is converted to the target's form (a code fits), not cut: see conversion notes
            if source.max_length is not None and source.max_length <= target.max_length:
                continue
            source_words = (f"up to {source.max_length} characters" if source.max_length
                            else "text of any length")
            if target.exact or (target_side.spec is not None and target.name in target_side.spec.exact_fields()):
                action = ("refuses a longer value, as it holds a number, code or address that a shortened copy "
                          "would make wrong: the record waits and nothing is written")
            elif row.overflow == "refuse":
                action = "refuses a longer value: the record waits and nothing is written"
            else:
                action = "shortens a longer value at a word boundary and notes it in the log"
            warnings.append(Problem(
                f"{source_side.system_name}'s {source.name} can hold {source_words}, {target_side.system_name}'s "
                f"{target.name} at most {target.max_length}: this row {action}.",
                field="overflow", row=row.key))
    return warnings


def rows_refusing_longer(*, config: EntityConfig, rows: Iterable[MappingRow], crm: Side,
                         erp: Side) -> set[object]:
    """Keys of the rows that refuse a longer value whatever their "if longer" setting says: their target (in a
    direction the row writes) holds a number, code, id or address that a shortened copy would make wrong (the
    catalog's ``exact`` fields and the entity's identifying fields). The mapping table shows them as refused."""
    refusing: set[object] = set()
    for row in rows:
        erp_field, crm_field = _lookup(erp, row.erp_field), _lookup(crm, row.crm_field)
        if erp_field is None or crm_field is None:
            continue
        for flow in row_directions(config.direction, row.direction):
            target, target_side = (erp_field, erp) if flow == TO_ERP else (crm_field, crm)
            if target.exact or (target_side.spec is not None and target.name in target_side.spec.exact_fields()):
                refusing.add(row.key)
    return refusing


_KIND_WORDS = {
    "country_name": "country names (Danmark, Sverige)", "country_name_en": "English country names",
    "country_code": "two-letter country codes (DK, SE)", "country_code_lower": "two-letter country codes (dk, se)",
    "country_enum": "country names as Uniconta lists them (Denmark, Sweden)",
}


def _read_from_text(source: FieldSpec, target: FieldSpec) -> bool:
    """Whether free text is read into ``target`` by the sync (numbers, yes/no, dates; integrations/engine/values.py)."""
    return (source.type in (FieldType.STRING, FieldType.TEXT) and not source.value_kind.startswith("country")
            and target.type in (FieldType.INTEGER, FieldType.DECIMAL, FieldType.BOOLEAN, FieldType.DATE))


def conversion_notes(*, config: EntityConfig, rows: Iterable[MappingRow], crm: Side, erp: Side) -> list[Problem]:
    """Rows whose values change kind on the way (countries, numbers, yes/no, dates and text): notes, not errors.

    In: the entity's direction, its rows and both sides' catalogs. Out: one :class:`Problem` per row and flow that
    converts, saying what the sync does and what it refuses (the record then waits; nothing is written).
    """
    notes: list[Problem] = []
    for row in rows:
        erp_field, crm_field = _lookup(erp, row.erp_field), _lookup(crm, row.crm_field)
        if erp_field is None or crm_field is None or row.value_map:
            continue
        for flow in sorted(row_directions(config.direction, row.direction)):
            source, target = (crm_field, erp_field) if flow == TO_ERP else (erp_field, crm_field)
            source_side, target_side = (crm, erp) if flow == TO_ERP else (erp, crm)
            what = f"{source_side.system_name}'s {source.name} → {target_side.system_name}'s {target.name}: "
            note = _conversion_note(source, target)
            if note:
                notes.append(Problem(what + note, field="crm_field" if flow == TO_CRM else "erp_field", row=row.key))
    return notes


def _conversion_note(source: FieldSpec, target: FieldSpec) -> str:
    if target.value_kind.startswith("country") and source.value_kind != target.value_kind:
        held = _KIND_WORDS.get(source.value_kind, "text")
        return (f"{held} become {_KIND_WORDS.get(target.value_kind, 'countries')}; a value that names no country "
                "is refused and the record waits.")
    if _kind(target) == "text" and target.type in (FieldType.STRING, FieldType.TEXT):
        return {"number": "numbers are written as text (25000.50, without rounding).",
                "yes/no": "yes/no is written as “Ja” or “Nej”.",
                "date": "dates are written as text in ISO form (2024-05-31)."}.get(_kind(source), "")
    if _read_from_text(source, target):
        return {FieldType.BOOLEAN: "the text must say ja/nej, yes/no, true/false or 1/0",
                FieldType.DATE: "the text must be a date such as 2024-05-31 or 31-05-2024"}.get(
            target.type, "the text must be a number (25.000,50, 25 000,50 or 25000.50)") + \
            "; anything else is refused and the record waits."
    return ""


def _list_problems(values: Sequence[str], *, what: str, most: int, field_name: str) -> list[Problem]:
    if len(values) > most:
        return [Problem(f"Give at most {most} {what} (there are {len(values)}).", field=field_name)]
    long = [v for v in values if len(str(v)) > MAX_LIST_VALUE_LENGTH]
    if long:
        return [Problem(f"Each of the {what} may be at most {MAX_LIST_VALUE_LENGTH} characters long; "
                        f"“{str(long[0])[:40]}…” is longer.", field=field_name)]
    return []


def size_problems(*, config: EntityConfig, rows: Sequence[MappingRow]) -> list[Problem]:
    """Lists and value maps beyond the sizes a configuration may take (the ``MAX_…`` numbers above).

    In: the entity's settings and its mapping rows. Out: one problem per list or row that is too large.
    """
    problems = _list_problems(list(config.trigger_values or ()), what="trigger values", most=MAX_TRIGGER_VALUES,
                              field_name="trigger_values")
    problems += _list_problems(list(config.accepted_order_types or ()), what="order types", most=MAX_ORDER_TYPES,
                               field_name="accepted_order_types")
    for row in rows:
        if row.overflow not in ("shorten", "refuse"):
            problems.append(Problem("Choose what happens to a longer value: shorten it or refuse it.",
                                    field="overflow", row=row.key))
        value_map = row.value_map or {}
        if len(value_map) > MAX_VALUE_MAP_ENTRIES:
            problems.append(Problem(f"A value map may have at most {MAX_VALUE_MAP_ENTRIES} pairs "
                                    f"(this one has {len(value_map)}).", field="value_map", row=row.key))
        elif any(len(str(k)) > MAX_VALUE_MAP_TEXT or len(str(v)) > MAX_VALUE_MAP_TEXT for k, v in value_map.items()):
            problems.append(Problem(f"Each value in a value map may be at most {MAX_VALUE_MAP_TEXT} characters long.",
                                    field="value_map", row=row.key))
    return problems


def flag_problems(*, config: EntityConfig, crm: Side) -> list[Problem]:
    """The “relevant for ERP” flag must be a check mark (yes/no field) of the front system's entity: any other
    name would never be set, so no person would sync."""
    name = config.relevant_flag_field
    if not name or crm.spec is None:
        return []
    spec = crm.spec.field(name)
    if spec is not None and spec.type == FieldType.BOOLEAN:
        return []
    flags = [f.name for f in crm.spec.fields if f.type == FieldType.BOOLEAN]
    choose = f" Choose one of {', '.join(flags)}, or none." if flags else " Choose none."
    return [Problem(f"{crm.system_name} has no check mark “{name[:60]}” here, so no person would be synced.{choose}",
                    field="relevant_flag_field")]


def trigger_value_problems(*, system_name: str, words: str, offered: Sequence[str] | None,
                           trigger_values: Sequence[str] = (), created_type: str = "") -> list[Problem]:
    """Trigger values and the "Set type for ERP customers" value that the front system does not have.

    In: the front system's name ("webCRM"), the trigger field in words ("organisation type"), the values that
    system offers for it (None when not known: then nothing is said) and the configured values. Out: one
    :class:`Problem` per value it lacks — beside ``trigger_values`` ("this trigger never matches") or
    ``erp_created_type``. Values are compared without case and outer spaces, as the engine's trigger does.
    """
    if offered is None:
        return []
    known = {str(value).strip().casefold() for value in offered}
    problems = [
        Problem(f"{system_name} has no {words} «{str(value).strip()[:MAX_LIST_VALUE_LENGTH]}»; this trigger never "
                "matches.", field="trigger_values")
        for value in trigger_values if str(value).strip() and str(value).strip().casefold() not in known]
    if created_type.strip() and created_type.strip().casefold() not in known:
        problems.append(Problem(
            f"{system_name} has no {words} «{created_type.strip()[:MAX_LIST_VALUE_LENGTH]}»; organisations made "
            f"from the ERP would get a type {system_name} does not list.", field="erp_created_type"))
    return problems
