"""The configuration audit trail: who changed what, from what to what — and how it reads on screen.

Entries are stored with the values as saved (``ConfigChange.changes``: ``{field: [before, after]}``, the same in
the API); ``change_words`` turns one into the words the settings screens use: field labels, choice labels
("webCRM → Uniconta", "Two way", "ERP wins"), lists joined in words, catalog field labels with their API name.
Entries written before this wording existed read the same way, since nothing is rewritten when stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.forms.models import model_to_dict

from integrations.models import Integration
from integrations.systems.words import joined

from .models import (
    ConfigChange,
    ConflictOwner,
    DeliveryTarget,
    Direction,
    FieldDirection,
    NumberAuthority,
    Overflow,
    ReconcileInterval,
    SyncEntity,
    TriggerField,
    WebhookAction,
)


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The audited values of a row (JSON-ready)."""
    data = model_to_dict(instance, fields=fields)
    data.pop("id", None)
    data.pop("tenant", None)
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)}


def config_change_record(*, integration: Integration, user: Any, action: str, subject: str,
                         before: dict[str, Any] | None = None, after: dict[str, Any] | None = None
                         ) -> ConfigChange | None:
    """Store one change; an update that changed nothing is not recorded.

    ``action``: created / updated / deleted for settings, activated / paused for the integration itself, noted for
    what Synkro reports about it (webhooks that could not be removed). ``subject`` says what, in words. Call it after
    the change is saved: the entry keeps the integration's whole configuration as it then stands (a settings version).
    """
    from .provenance import integration_settings

    changes = diff(before or {}, after or {})
    if action == "updated" and not changes:
        return None
    return ConfigChange.objects.create(
        tenant_id=integration.tenant_id, integration=integration,
        user=user if getattr(user, "is_authenticated", False) else None,
        action=action, subject=subject[:200], changes=changes,
        # the settings version later log entries name (``mappings.provenance``): the whole configuration as saved
        settings_after=integration_settings(integration_id=integration.pk),
    )


# -- how an entry reads ------------------------------------------------------------------------------------------

#: The verb in front of the subject, by ``ConfigChange.action``; "noted" entries are their subject alone.
ACTION_WORDS = {"created": "Added", "updated": "Changed", "deleted": "Removed", "activated": "Activated",
                "paused": "Paused", "noted": ""}

#: Field labels as the settings screens show them (forms of ``mappings/forms.py`` and the integration form).
FIELD_LABELS: dict[str, str] = {
    # the integration
    "active": "Status",
    # an entity's settings and schedules
    "direction": "Direction", "conflict_owner": "When a field changed on both sides", "trigger_field": "Trigger field",
    "trigger_values": "Sync only organisations of type", "erp_created_type": "Set type for ERP customers",
    "type_lock": "Lock the type", "number_authority": "Customer numbers",
    "relevant_flag_field": "“Relevant for ERP” flag", "delivery_target": "Send deliveries to the ERP as",
    "outgoing_order_type": "Order type", "accepted_order_types": "Order types accepted back",
    "polling_interval_seconds": "Poll every (seconds)", "polling_offset_seconds": "Offset (seconds)",
    "reconcile_interval_hours": "Safety reconciliation",
    # a mapping row
    "value_map": "Value map", "required": "Required", "overflow": "Longer than the target holds",
    "position": "Row position",
    # a webhook toggle
    "enabled": "Acted on",
    # POS settings and registers
    "default_debtor_group": "Default debtor group", "default_pos_debtor": "Default POS debtor",
    "default_item_group": "Default item group", "auto_invoice_cash_sales": "Auto-invoice cash sales",
    "auto_invoice_debtor_sales": "Auto-invoice debtor sales", "pos_journal": "POS journal",
    "cash_gl_account": "Cash account", "difference_gl_account": "GL account for cash differences and rounding",
    "cash_payment_name": "Payment type name for cash", "debtor_payment_name": "Payment type name for debtor sales",
    "daily_report_time": "Daily report at", "variant_fields": "Variants → Uniconta user fields",
    "register_id": "Register id in Customers 1st", "name": "Name",
    # the default configuration
    "entities": "Entities", "webhook_toggles": "Webhook toggles", "pos_settings": "POS settings",
    # what Synkro noted
    "reason": "Reason",
}

#: Choice labels of the settings whose values are codes; direction is labelled per integration (``_direction``).
CHOICES: dict[str, dict[Any, str]] = {
    "conflict_owner": dict(ConflictOwner.choices), "trigger_field": dict(TriggerField.choices),
    "number_authority": dict(NumberAuthority.choices), "delivery_target": dict(DeliveryTarget.choices),
    "reconcile_interval_hours": dict(ReconcileInterval.choices), "overflow": dict(Overflow.choices),
}
#: A mapping row's own conflict owner may be blank: the entity's owner decides.
ROW_CHOICES: dict[str, dict[Any, str]] = {
    "conflict_owner": {"": "As the entity", **dict(ConflictOwner.choices)},
}
VARIANT_LABELS = {"style_no": "Style number", "size": "Size", "color": "Colour", "custom1": "Custom field 1",
                  "custom2": "Custom field 2", "custom3": "Custom field 3", "custom4": "Custom field 4",
                  "barcode": "Alternative barcode"}
EMPTY = "(empty)"


@dataclass(frozen=True)
class ChangeLine:
    """One changed setting in screen words: its label, and the value before and after."""

    field: str
    before: str
    after: str


@dataclass(frozen=True)
class ChangeWords:
    """What one audit entry says: the sentence ("Changed Organisations / debtors settings") and its lines."""

    what: str
    lines: list[ChangeLine]


def words_joined(values: list[Any]) -> str:
    """“Kunde”, “Kund – Företag” and “Kund – Privat”; "none" for an empty list."""
    return joined([f"“{v}”" for v in values]) or "none"


def _system_name(key: str) -> str:
    from integrations.engine.wording import system_name

    return system_name(key)


def _direction(integration: Integration, value: Any) -> str:
    """The direction as the entity screen shows it for this integration: "webCRM → Uniconta", "Two way"."""
    from .selectors import direction_label

    try:
        return direction_label(integration, value)
    except KeyError:  # a value no longer known: shown as stored
        return str(value)


def _row_direction(integration: Integration, value: Any) -> str:
    """A mapping row's direction: "As the entity", "webCRM → Uniconta only"."""
    if value in (Direction.TO_ERP, Direction.TO_CRM):
        return f"{_direction(integration, value)} only"
    return str(dict(FieldDirection.choices).get(value, value))


def _field_display(system: str, entity: str, name: Any) -> str:
    """A catalog field as the mapping table names it: "Name (OrganisationName)"; the API name alone when unknown."""
    if not name:
        return EMPTY
    from integrations.systems.catalog import Entity

    from .selectors import FRONT_ENTITY_FALLBACK, catalog_of

    try:
        catalog = catalog_of(system)
        spec = catalog.entity(Entity(entity)) or catalog.entity(FRONT_ENTITY_FALLBACK.get(Entity(entity), entity))
    except (LookupError, ValueError):
        spec = None
    field = spec.field(str(name)) if spec is not None else None
    return field.display if field is not None else str(name)


def _entity_of(subject: str) -> str:
    """The entity an entry's subject starts with ("Organisations / debtors mapping …" → "organisation")."""
    for value, label in SyncEntity.choices:
        if subject.startswith(str(label)):
            return str(value)
    return ""


def _is_row(change: ConfigChange) -> bool:
    return " mapping " in change.subject or bool({"erp_field", "crm_field", "value_map"} & set(change.changes))


def _value(change: ConfigChange, field: str, value: Any, *, row: bool, entity: str) -> str:
    integration = change.integration
    if value is None and field == "daily_report_time":
        return "not posted"
    if value is None:
        return EMPTY
    if field == "relevant_flag_field" and not value:
        return "Every person with an e-mail"
    if field == "active":
        return "Active" if value else "Paused"
    if field == "direction":
        return _row_direction(integration, value) if row else _direction(integration, value)
    if row and field in ROW_CHOICES:
        return ROW_CHOICES[field].get(value, str(value)) or EMPTY
    if field in CHOICES:
        return str(CHOICES[field].get(value, value)) or EMPTY
    if field == "erp_field":
        return _field_display(integration.erp_connection.system, entity, value)
    if field == "crm_field":
        return _field_display(integration.crm_connection.system, entity, value)
    if field == "enabled":
        return "On" if value else "Off"
    if field == "entities" and isinstance(value, list):
        labels = dict(SyncEntity.choices)
        return words_joined([labels.get(v, v) for v in value])
    if field == "webhook_toggles" and isinstance(value, list):
        return words_joined([_toggle_words(str(v)) for v in value])
    if field == "pos_settings":
        return "Added" if value else "none"
    if field == "daily_report_time":
        return str(value)[:5]
    if field == "value_map" and isinstance(value, dict):
        return "; ".join(f"{k} = {v}" for k, v in value.items()) or "none"
    if field == "variant_fields" and isinstance(value, dict):
        return "; ".join(f"{VARIANT_LABELS.get(k, k)}: {v}" for k, v in value.items()) or "none"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return words_joined(value)
    return str(value) if value != "" else EMPTY


def _toggle_words(text: str) -> str:
    """"uniconta organisation created" (as the default configuration stores it) → "Uniconta organisations / debtors
    created"."""
    parts = text.split()
    if len(parts) != 3:
        return text
    system, entity, action = parts
    entity_label = dict(SyncEntity.choices).get(entity, entity)
    return f"{_system_name(system)} {str(entity_label)[:1].lower()}{str(entity_label)[1:]} " \
           f"{str(dict(WebhookAction.choices).get(action, action)).lower()}"


def toggle_subject(*, system: str, entity: str, action: str) -> str:
    """A webhook toggle named as the webhooks screen shows it: "Webhook of Uniconta: organisations / debtors
    created"."""
    entity_label = str(dict(SyncEntity.choices).get(entity, entity))
    return (f"Webhook of {_system_name(system)}: {entity_label[:1].lower()}{entity_label[1:]} "
            f"{str(dict(WebhookAction.choices).get(action, action)).lower()}")


def _field_label(change: ConfigChange, field: str, *, row: bool) -> str:
    integration = change.integration
    if field == "erp_field":
        return f"{_system_name(integration.erp_connection.system)} field"
    if field == "crm_field":
        return f"{_system_name(integration.crm_connection.system)} field"
    if field == "conflict_owner" and row:
        return "Who wins for this field"
    return FIELD_LABELS.get(field, field.replace("_", " ").capitalize())


def _subject(change: ConfigChange, *, row: bool, entity: str) -> str:
    """The subject in screen words: a mapping row is named by its catalog fields, not by its API names alone."""
    subject = change.subject
    old_toggle = subject.split(" ", 2)
    if len(old_toggle) == 3 and old_toggle[0] == "Webhook" and " " in old_toggle[2]:
        # written before toggles were named in words: "Webhook uniconta organisations / debtors created"
        system, (entity_words, action) = old_toggle[1], old_toggle[2].rsplit(" ", 1)
        labels = {str(label).lower(): value for value, label in SyncEntity.choices}
        if entity_words in labels and action in WebhookAction.values:
            return toggle_subject(system=system, entity=labels[entity_words], action=action)
    if not row or not entity:
        return subject
    label = str(dict(SyncEntity.choices)[entity])
    rest = subject[len(label):].strip()
    if rest.startswith("mapping ") and " ↔ " in rest:
        erp_field, crm_field = rest[len("mapping "):].split(" ↔ ", 1)
        integration = change.integration
        return (f"{label} mapping row {_field_display(integration.erp_connection.system, entity, erp_field)} ↔ "
                f"{_field_display(integration.crm_connection.system, entity, crm_field)}")
    return subject


def change_words(change: ConfigChange) -> ChangeWords:
    """One audit entry in the settings screens' words (see the module's docstring). Reads the entry's integration
    and both connections (select them with the entry)."""
    row = _is_row(change)
    entity = _entity_of(change.subject)
    verb = ACTION_WORDS.get(change.action, change.action.capitalize())
    subject = _subject(change, row=row, entity=entity)
    what = f"{verb} {subject}".strip() if verb else subject
    lines = []
    for field, values in change.changes.items():
        before, after = [*values, None, None][:2] if isinstance(values, list | tuple) else (None, values)
        if field == "variant_fields" and isinstance(before, dict) and isinstance(after, dict):
            keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
            before, after = {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}
        lines.append(ChangeLine(field=_field_label(change, field, row=row),
                                before=_value(change, field, before, row=row, entity=entity),
                                after=_value(change, field, after, row=row, entity=entity)))
    return ChangeWords(what=what, lines=lines)


def changes_described(*, integration: Integration, changes: dict[str, list[Any]], subject: str = "") -> str:
    """A saved change in one line for a flash message: "Direction: Off → webCRM → Uniconta; Lock the type: No → Yes";
    "nothing changed" when ``changes`` is empty. ``subject`` (as audited) tells a mapping row from settings."""
    words = change_words(ConfigChange(integration=integration, action="updated", subject=subject, changes=changes))
    return "; ".join(f"{line.field}: {line.before} → {line.after}" for line in words.lines) or "nothing changed"
