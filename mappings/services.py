"""Writes to the sync configuration. Each one validates the whole entity, saves atomically and audits.

Views and API endpoints call these; nothing else writes mapping rows.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from integrations.models import Integration

from .audit import config_change_record, snapshot, toggle_subject
from .models import Direction, EntitySync, FieldMapping, PosRegister, PosSettings, WebhookToggle
from .ownership import ownership_refusals
from .selectors import allowed_directions, direction_label, entity_sides
from .validation import (
    EntityConfig,
    MappingRow,
    Problem,
    conversion_notes,
    length_warnings,
    rows_refusing_longer,
    validate_entity_config,
)

ENTITY_SETTINGS_FIELDS = [
    "direction", "conflict_owner", "trigger_field", "trigger_values", "erp_created_type", "type_lock",
    "number_authority", "relevant_flag_field", "delivery_target", "outgoing_order_type", "accepted_order_types",
    "polling_interval_seconds", "polling_offset_seconds", "reconcile_interval_hours",
]
MAPPING_FIELDS = ["erp_field", "crm_field", "direction", "value_map", "required", "conflict_owner", "overflow",
                  "position"]


class ConfigInvalid(Exception):
    """The change would leave the configuration broken; nothing was saved."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems

    def by_field(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.field or "non_field_errors", []).append(problem.message)
        return grouped


def _row(mapping: FieldMapping) -> MappingRow:
    return MappingRow(erp_field=mapping.erp_field, crm_field=mapping.crm_field, direction=mapping.direction,
                      value_map=mapping.value_map or {}, required=mapping.required, key=mapping.pk,
                      overflow=mapping.overflow)


def entity_problems(*, entity_sync: EntitySync, rows: list[MappingRow] | None = None) -> list[Problem]:
    """What is wrong with an entity's configuration as it stands (or with ``rows`` instead of its own)."""
    if rows is None:
        rows = [_row(m) for m in entity_sync.field_mappings.all()]
    crm, erp = entity_sides(entity_sync)
    allowed = allowed_directions(entity_sync.integration, entity_sync.entity)
    problems: list[Problem] = []
    if entity_sync.direction not in allowed:
        ways = ", ".join(direction_label(entity_sync.integration, d) for d in Direction.values if d in allowed)
        problems.append(Problem(f"{entity_sync.get_entity_display()} can only be set to: {ways}.", field="direction"))
    config = EntityConfig(direction=entity_sync.direction, trigger_field=entity_sync.trigger_field,
                          trigger_values=entity_sync.trigger_values or [],
                          number_authority=entity_sync.number_authority,
                          relevant_flag_field=entity_sync.relevant_flag_field,
                          accepted_order_types=entity_sync.accepted_order_types or [])
    return problems + validate_entity_config(
        entity_label=entity_sync.get_entity_display().lower(), config=config, rows=rows, crm=crm, erp=erp)


def entity_length_warnings(*, entity_sync: EntitySync) -> dict[object, list[str]]:
    """{row id: warnings} for the rows whose source can hold longer text than their target (see
    ``validation.length_warnings``); rows without a warning are left out. Warnings never block a save."""
    crm, erp = entity_sides(entity_sync)
    config = EntityConfig(direction=entity_sync.direction)
    warnings: dict[object, list[str]] = {}
    rows = [_row(m) for m in entity_sync.field_mappings.all()]
    # Values that change kind on the way (countries, numbers into text, ...) are noted beside the row too.
    for warning in [*length_warnings(config=config, rows=rows, crm=crm, erp=erp),
                    *conversion_notes(config=config, rows=rows, crm=crm, erp=erp)]:
        warnings.setdefault(warning.row, []).append(warning.message)
    return warnings


def entity_rows_refusing_longer(*, entity_sync: EntitySync) -> set[object]:
    """Ids of the mapping rows whose target never takes a shortened value (``validation.rows_refusing_longer``)."""
    crm, erp = entity_sides(entity_sync)
    rows = [_row(m) for m in entity_sync.field_mappings.all()]
    return rows_refusing_longer(config=EntityConfig(direction=entity_sync.direction), rows=rows, crm=crm, erp=erp)


def ownership_problems(*, entity_sync: EntitySync, rows: list[MappingRow], field: str, row: object = None
                       ) -> list[Problem]:
    """Front fields that ``entity_sync`` (with ``rows``, in its direction) would newly write while another
    active integration on the same webCRM writes them; only an active integration is checked."""
    integration = entity_sync.integration
    if not integration.active:
        return []
    reasons = ownership_refusals(integration=integration, only_new=True,
                                 overrides={entity_sync.entity: (entity_sync.direction, rows)})
    return [Problem(reason, field=field, row=row) for reason in reasons]


def _locked(entity_sync: EntitySync) -> EntitySync:
    return EntitySync.objects.select_for_update().get(pk=entity_sync.pk)


@transaction.atomic
def entity_sync_update(*, entity_sync: EntitySync, user: Any, changes: dict[str, Any]) -> dict[str, list[Any]]:
    """Change an entity's settings; returns {field: [before, after]} of what changed."""
    current = _locked(entity_sync)
    before = snapshot(current, ENTITY_SETTINGS_FIELDS)
    for name, value in changes.items():
        if name not in ENTITY_SETTINGS_FIELDS:
            raise ValueError(f"{name} is not an entity setting")
        setattr(current, name, value)
    problems = entity_problems(entity_sync=current) or ownership_problems(
        entity_sync=current, rows=[_row(m) for m in current.field_mappings.all()], field="direction")
    if problems:
        raise ConfigInvalid(problems)
    current.save()
    after = snapshot(current, ENTITY_SETTINGS_FIELDS)
    change = config_change_record(integration=current.integration, user=user, action="updated",
                                  subject=f"{current.get_entity_display()} settings", before=before, after=after)
    for name in ENTITY_SETTINGS_FIELDS:
        setattr(entity_sync, name, getattr(current, name))
    return change.changes if change else {}


@transaction.atomic
def field_mapping_add(*, entity_sync: EntitySync, user: Any, erp_field: str, crm_field: str, direction: str = "",
                      value_map: dict | None = None, required: bool = False, conflict_owner: str = "",
                      overflow: str = "shorten") -> FieldMapping:
    current = _locked(entity_sync)
    existing = list(current.field_mappings.all())
    new = FieldMapping(tenant_id=current.tenant_id, entity_sync=current, erp_field=erp_field.strip(),
                       crm_field=crm_field.strip(), direction=direction, value_map=value_map or {},
                       required=required, conflict_owner=conflict_owner, overflow=overflow or "shorten",
                       position=max((m.position for m in existing), default=0) + 1)
    rows = [_row(m) for m in existing] + [MappingRow(new.erp_field, new.crm_field, direction, value_map or {},
                                                      required, key="new", overflow=new.overflow)]
    problems = [p for p in entity_problems(entity_sync=current, rows=rows) if p.row in ("new", None)]
    problems = problems or ownership_problems(entity_sync=current, rows=rows, field="crm_field", row="new")
    if problems:
        raise ConfigInvalid(problems)
    new.save()
    config_change_record(integration=current.integration, user=user, action="created",
                         subject=f"{current.get_entity_display()} mapping {new}", after=snapshot(new, MAPPING_FIELDS))
    return new


@transaction.atomic
def field_mapping_update(*, mapping: FieldMapping, user: Any, changes: dict[str, Any]) -> FieldMapping:
    entity_sync = _locked(mapping.entity_sync)
    before = snapshot(mapping, MAPPING_FIELDS)
    for name, value in changes.items():
        if name not in MAPPING_FIELDS:
            raise ValueError(f"{name} is not a mapping field")
        setattr(mapping, name, value)
    rows = [_row(mapping) if m.pk == mapping.pk else _row(m) for m in entity_sync.field_mappings.all()]
    problems = [p for p in entity_problems(entity_sync=entity_sync, rows=rows) if p.row in (mapping.pk, None)]
    problems = problems or ownership_problems(entity_sync=entity_sync, rows=rows, field="crm_field", row=mapping.pk)
    if problems:
        raise ConfigInvalid(problems)
    mapping.save()
    config_change_record(integration=entity_sync.integration, user=user, action="updated",
                         subject=f"{entity_sync.get_entity_display()} mapping {mapping}", before=before,
                         after=snapshot(mapping, MAPPING_FIELDS))
    return mapping


@transaction.atomic
def field_mapping_remove(*, mapping: FieldMapping, user: Any) -> None:
    entity_sync = _locked(mapping.entity_sync)
    rows = [_row(m) for m in entity_sync.field_mappings.exclude(pk=mapping.pk)]
    problems = [p for p in entity_problems(entity_sync=entity_sync, rows=rows) if p.row is None]
    if problems:
        raise ConfigInvalid(problems)
    before = snapshot(mapping, MAPPING_FIELDS)
    subject = f"{entity_sync.get_entity_display()} mapping {mapping}"
    mapping.delete()
    config_change_record(integration=entity_sync.integration, user=user, action="deleted", subject=subject,
                         before=before)


@transaction.atomic
def webhook_toggle_set(*, toggle: WebhookToggle, user: Any, enabled: bool) -> WebhookToggle:
    before = snapshot(toggle, ["enabled"])
    toggle.enabled = enabled
    toggle.save(update_fields=["enabled"])
    config_change_record(integration=toggle.integration, user=user, action="updated",
                         subject=toggle_subject(system=toggle.system, entity=toggle.entity, action=toggle.action),
                         before=before, after=snapshot(toggle, ["enabled"]))
    return toggle


POS_FIELDS = [
    "default_debtor_group", "default_pos_debtor", "default_item_group", "auto_invoice_cash_sales",
    "auto_invoice_debtor_sales", "pos_journal", "cash_gl_account", "difference_gl_account", "cash_payment_name",
    "debtor_payment_name", "daily_report_time", "variant_fields",
]


@transaction.atomic
def pos_settings_update(*, pos_settings: PosSettings, user: Any, changes: dict[str, Any]) -> dict[str, list[Any]]:
    before = snapshot(pos_settings, POS_FIELDS)
    for name, value in changes.items():
        if name not in POS_FIELDS:
            raise ValueError(f"{name} is not a POS setting")
        setattr(pos_settings, name, value)
    pos_settings.save()
    change = config_change_record(integration=pos_settings.integration, user=user, action="updated",
                                  subject="POS settings", before=before, after=snapshot(pos_settings, POS_FIELDS))
    return change.changes if change else {}


@transaction.atomic
def pos_register_add(*, pos_settings: PosSettings, user: Any, register_id: str, name: str,
                     cash_gl_account: str = "") -> PosRegister:
    register = PosRegister.objects.create(tenant_id=pos_settings.tenant_id, pos_settings=pos_settings,
                                          register_id=register_id, name=name, cash_gl_account=cash_gl_account)
    config_change_record(integration=pos_settings.integration, user=user, action="created", subject=f"Register {name}",
                         after=snapshot(register, ["register_id", "name", "cash_gl_account"]))
    return register


@transaction.atomic
def pos_register_remove(*, register: PosRegister, user: Any) -> None:
    before = snapshot(register, ["register_id", "name", "cash_gl_account"])
    integration: Integration = register.pos_settings.integration
    register.delete()
    config_change_record(integration=integration, user=user, action="deleted", subject=f"Register {before['name']}",
                         before=before)
