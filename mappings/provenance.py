"""Which settings were in force when the engine wrote a log entry: settings versions and how they read.

A *settings version* is an entry of the configuration audit trail (``ConfigChange``). Each one stores, with the
change, the integration's whole configuration as it stood right after it (``ConfigChange.settings_after``, built by
:func:`integration_settings`). A log entry names the version in force when it was written
(``SyncLogEntry.config_version``: the integration's newest change then; null when it had none, or when the entry
was written before versions were kept). :func:`settings_in_force` turns that into what the log detail shows: the
entity's settings, mapping rows and webhook toggles as they were then, beside today's.

Snapshots rather than walking the trail backwards: the trail stores a mapping row by its subject (field names,
which a change of field renames), not by its id, and "Default configuration" entries list the entities they added
without their rows, so a backward walk could not rebuild every version. A snapshot is a few kilobytes, written
only when a person (or Synkro's defaults) changes the settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Subquery

from integrations.models import Integration

from .models import ConfigChange, EntitySync, FieldMapping, PosRegister, PosSettings, SyncEntity, WebhookToggle

#: The shape of ``ConfigChange.settings_after``; a later shape gets a new number and this module reads both.
SNAPSHOT_VERSION = 1

#: Settings every entity has (direction, conflicts, schedules), then those of one entity only, in screen order.
COMMON_SETTINGS = ["direction", "conflict_owner", "polling_interval_seconds", "polling_offset_seconds",
                   "reconcile_interval_hours"]
ENTITY_ONLY_SETTINGS = {
    "organisation": ["trigger_field", "trigger_values", "erp_created_type", "type_lock", "number_authority"],
    "person": ["relevant_flag_field"],
    "delivery": ["delivery_target", "outgoing_order_type", "accepted_order_types"],
    "invoice": ["delivery_target", "outgoing_order_type", "accepted_order_types"],
}
#: Entities whose entries the POS settings shape too (journal, accounts, invoicing).
POS_ENTITIES = ("pos_sale", "daily_report")
#: The columns of a mapping row as the detail shows them (``position`` orders them and is not shown).
ROW_COLUMNS = ["erp_field", "crm_field", "direction", "required", "value_map", "conflict_owner", "overflow"]


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def integration_settings(*, integration_id: int) -> dict[str, Any]:
    """The integration's whole configuration as stored now, JSON-ready (five small queries)::

        {"shape": 1, "active": bool,
         "entities": {entity: {"settings": {field: value}, "rows": [{"id": pk, field: value, ...}],
                               "webhooks": [{"system", "action", "enabled"}]}},
         "pos": {field: value, ..., "registers": [{"register_id", "name", "cash_gl_account"}]} or None}

    Settings fields are ``services.ENTITY_SETTINGS_FIELDS``, row fields ``services.MAPPING_FIELDS``, POS fields
    ``services.POS_FIELDS``: the same fields the audit trail records changes of.
    """
    from .services import ENTITY_SETTINGS_FIELDS, MAPPING_FIELDS, POS_FIELDS

    active = Integration.objects.filter(pk=integration_id).values_list("active", flat=True).first()
    entities: dict[str, dict[str, Any]] = {}
    for values in EntitySync.objects.filter(integration_id=integration_id).values("entity", *ENTITY_SETTINGS_FIELDS):
        entity = values.pop("entity")
        entities[entity] = {"settings": {k: _jsonable(v) for k, v in values.items()}, "rows": [], "webhooks": []}
    rows = (FieldMapping.objects.filter(entity_sync__integration_id=integration_id)
            .order_by("position", "pk").values("id", "entity_sync__entity", *MAPPING_FIELDS))
    for values in rows:
        entity = values.pop("entity_sync__entity")
        entities[entity]["rows"].append({k: _jsonable(v) for k, v in values.items()})
    toggles = (WebhookToggle.objects.filter(integration_id=integration_id).order_by("system", "entity", "action")
               .values("system", "entity", "action", "enabled"))
    for values in toggles:
        entity = values.pop("entity")
        entities.setdefault(entity, {"settings": {}, "rows": [], "webhooks": []})["webhooks"].append(values)
    pos: dict[str, Any] | None = None
    pos_values = PosSettings.objects.filter(integration_id=integration_id).values("id", *POS_FIELDS).first()
    if pos_values is not None:
        pos_id = pos_values.pop("id")
        pos = {k: _jsonable(v) for k, v in pos_values.items()}
        pos["registers"] = list(PosRegister.objects.filter(pos_settings_id=pos_id).order_by("name", "pk")
                                .values("register_id", "name", "cash_gl_account"))
    return {"shape": SNAPSHOT_VERSION, "active": active, "entities": entities, "pos": pos}


def latest_version_query(integration_ref: Any) -> Subquery:
    """A subquery giving the id of the newest ``ConfigChange`` of the integration ``integration_ref`` names (an
    ``OuterRef`` or an id); None when it has none. Ids only grow, so the newest is the largest."""
    return Subquery(ConfigChange.objects.filter(integration_id=integration_ref).order_by("-pk").values("pk")[:1])


def latest_version_id(*, integration_id: int) -> int | None:
    """The id of the integration's settings version in force now (its newest change); None when it has none."""
    return ConfigChange.objects.filter(integration_id=integration_id).order_by("-pk").values_list(
        "pk", flat=True).first()


# -- how a version reads on the log detail ------------------------------------------------------------------------

@dataclass(frozen=True)
class SettingLine:
    """One setting in screen words: its label, its value then, and today's (``changed`` when they differ)."""

    label: str
    then: str
    today: str
    changed: bool


@dataclass(frozen=True)
class RowLine:
    """One mapping row: ``cells`` are the columns of :data:`ROW_COLUMNS` in words, then (today's for a row added
    since). ``state``: "same", "changed" (``today`` holds today's cells), "removed" (gone since), "added" (not there
    then)."""

    cells: list[str]
    state: str
    today: list[str] = field(default_factory=list)


@dataclass
class SettingsInForce:
    """What the log detail says about the settings an entry was written under.

    ``version`` is None when the entry names none; ``recorded`` is False when the version's settings were not kept
    (written before versions were). ``differs`` says whether anything shown differs from today's settings.
    """

    version: ConfigChange | None
    recorded: bool = False
    entity_known: bool = True
    settings: list[SettingLine] = field(default_factory=list)
    rows: list[RowLine] = field(default_factory=list)
    webhooks: list[SettingLine] = field(default_factory=list)
    row_headers: list[str] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return (any(line.changed for line in [*self.settings, *self.webhooks])
                or any(row.state != "same" for row in self.rows))


def _words(integration: Integration, subject: str, changes: dict[str, list[Any]]) -> list[tuple[str, str, str]]:
    """(label, then, today) per field of ``changes`` ({field: [then, today]}), in the audit trail's screen words."""
    from .audit import change_words

    words = change_words(ConfigChange(integration=integration, action="updated", subject=subject, changes=changes))
    return [(line.field, line.before, line.after) for line in words.lines]


def _row_key(row: dict[str, Any]) -> Any:
    return row.get("id")


def _as_the_engine_reads(integration: Integration, entity: str, direction: str, rows: list[dict[str, Any]]
                         ) -> list[dict[str, Any]]:
    """``rows`` (snapshot dicts) with ``overflow`` as the engine applies it: a row whose target holds a number, code
    or id refuses a longer value whatever its stored setting (``validation.rows_refusing_longer``), as the mapping
    table shows it."""
    from types import SimpleNamespace

    from .selectors import entity_sides
    from .validation import EntityConfig, MappingRow, rows_refusing_longer

    try:
        crm, erp = entity_sides(SimpleNamespace(integration=integration, entity=entity))
    except ValueError:  # an entity the catalogs no longer know: shown as stored
        return rows
    refusing = rows_refusing_longer(
        config=EntityConfig(direction=direction),
        rows=[MappingRow(erp_field=row.get("erp_field", ""), crm_field=row.get("crm_field", ""),
                         direction=row.get("direction", ""), key=_row_key(row)) for row in rows],
        crm=crm, erp=erp)
    return [{**row, "overflow": "refuse"} if _row_key(row) in refusing else row for row in rows]


def _row_cells(integration: Integration, label: str, row: dict[str, Any], today: dict[str, Any] | None
               ) -> tuple[list[str], list[str]]:
    other = today if today is not None else row
    subject = f"{label} mapping {row.get('erp_field')} ↔ {row.get('crm_field')}"
    words = _words(integration, subject, {name: [row.get(name), other.get(name)] for name in ROW_COLUMNS})
    return [then for _, then, _ in words], [now for _, _, now in words]


def settings_in_force(*, integration: Integration, entity: str, version_id: int | None) -> SettingsInForce:
    """The settings of ``entity`` in ``integration`` as version ``version_id`` left them, beside today's.

    ``integration`` should come with both connections selected (the words name their systems' fields). Reads the
    version with its author (one query) and today's configuration (:func:`integration_settings`).
    """
    version = None
    if version_id is not None:
        version = (ConfigChange.objects.filter(pk=version_id, integration=integration).select_related("user")
                   .first())
    result = SettingsInForce(version=version)
    then_all = (version.settings_after if version is not None else None) or None
    if not then_all or then_all.get("shape") != SNAPSHOT_VERSION:
        return result
    result.recorded = True
    today_all = integration_settings(integration_id=integration.pk)
    then = then_all.get("entities", {}).get(entity)
    today = today_all.get("entities", {}).get(entity) or {"settings": {}, "rows": [], "webhooks": []}
    if then is None:
        result.entity_known = False
        return result
    label = str(dict(SyncEntity.choices).get(entity, entity))
    names = [*COMMON_SETTINGS, *ENTITY_ONLY_SETTINGS.get(entity, [])]
    changes = {name: [then["settings"].get(name), today["settings"].get(name)] for name in names
               if name in then["settings"]}
    changes = {"active": [then_all.get("active"), today_all.get("active")], **changes}
    result.settings = [SettingLine(label=lbl, then=a, today=b, changed=a != b)
                       for lbl, a, b in _words(integration, f"{label} settings", changes)]
    if entity in POS_ENTITIES and then_all.get("pos") is not None:
        # a POS sale or daily report is written by the POS settings as much as by the entity's
        pos_then, pos_today = then_all["pos"], today_all.get("pos") or {}
        pos_changes = {name: [value, pos_today.get(name)] for name, value in pos_then.items() if name != "registers"}
        result.settings += [SettingLine(label=lbl, then=a, today=b, changed=a != b)
                            for lbl, a, b in _words(integration, "POS settings", pos_changes)]
    then["rows"] = _as_the_engine_reads(integration, entity, then["settings"].get("direction", ""), then["rows"])
    today["rows"] = _as_the_engine_reads(integration, entity, today["settings"].get("direction", ""), today["rows"])
    today_rows = {_row_key(row): row for row in today["rows"]}
    then_keys = set()
    for row in then["rows"]:
        then_keys.add(_row_key(row))
        now = today_rows.get(_row_key(row))
        cells, now_cells = _row_cells(integration, label, row, now)
        if now is None:
            result.rows.append(RowLine(cells=cells, state="removed"))
        else:
            state = "same" if cells == now_cells else "changed"
            result.rows.append(RowLine(cells=cells, state=state, today=now_cells if state == "changed" else []))
    for row in today["rows"]:
        if _row_key(row) not in then_keys:
            cells, _ = _row_cells(integration, label, row, None)
            result.rows.append(RowLine(cells=cells, state="added"))
    result.row_headers = [lbl for lbl, _, _ in _words(integration, f"{label} mapping", {n: [None, None]
                                                                                         for n in ROW_COLUMNS})]
    result.webhooks = _webhook_lines(entity, then["webhooks"], today["webhooks"])
    return result


def _webhook_lines(entity: str, then: list[dict[str, Any]], today: list[dict[str, Any]]) -> list[SettingLine]:
    from .audit import toggle_subject

    now = {(t["system"], t["action"]): t["enabled"] for t in today}
    lines = []
    for toggle in then:
        key = (toggle["system"], toggle["action"])
        before = "On" if toggle["enabled"] else "Off"
        after = ("On" if now[key] else "Off") if key in now else "(removed)"
        lines.append(SettingLine(label=toggle_subject(system=toggle["system"], entity=entity, action=toggle["action"]),
                                 then=before, today=after, changed=before != after))
    return lines


__all__ = ["SettingsInForce", "integration_settings", "latest_version_id", "latest_version_query",
           "settings_in_force"]
