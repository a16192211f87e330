"""Forms of the mapping screens. Rules are checked by ``services`` so screens and API agree."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from .models import (
    ConflictOwner,
    DeliveryTarget,
    EntitySync,
    FieldDirection,
    NumberAuthority,
    Overflow,
    PosSettings,
    ReconcileInterval,
    SyncEntity,
    TriggerField,
)
from .selectors import allowed_directions, direction_label, entity_sides
from .services import ConfigInvalid
from .trigger_values import TriggerValues, trigger_values_for
from .validation import trigger_value_problems


class CommaListField(forms.CharField):
    """A list typed as comma-separated values ("Kunde, Kund – Företag")."""

    def prepare_value(self, value: Any) -> str:
        return ", ".join(value) if isinstance(value, list | tuple) else (value or "")

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value) or ""
        return [part.strip() for part in text.split(",") if part.strip()]


class ValueMapField(forms.CharField):
    """A value map typed as ``webCRM value = ERP value`` pairs separated by semicolons."""

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, dict):
            return "; ".join(f"{k} = {v}" for k, v in value.items())
        return value or ""

    def to_python(self, value: Any) -> dict[str, str]:
        text = super().to_python(value) or ""
        mapping: dict[str, str] = {}
        for pair in filter(None, (p.strip() for p in text.split(";"))):
            if "=" not in pair:
                raise forms.ValidationError(f"“{pair}” needs the form “webCRM value = ERP value”.")
            left, right = (s.strip() for s in pair.split("=", 1))
            if not left:
                raise forms.ValidationError(f"“{pair}” has no webCRM value before “=”.")
            mapping[left] = right
        return mapping


def apply_problems(form: forms.Form, error: ConfigInvalid) -> None:
    """Put each problem beside its field (or at the top when the form has no such field)."""
    for problem in error.problems:
        form.add_error(problem.field if problem.field in form.fields else None, problem.message)


class EntitySettingsForm(forms.ModelForm):
    """The top of an entity tab: direction switch and the entity's own settings."""

    trigger_values = CommaListField(required=False, label="Sync only organisations of type",
                                    help_text="Comma-separated, e.g. Kunde, Kund – Företag")
    accepted_order_types = CommaListField(required=False, label="Order types accepted back",
                                          help_text="Comma-separated, e.g. SO, IN")

    ENTITY_FIELDS = {
        SyncEntity.ORGANISATION: ["trigger_field", "trigger_values", "erp_created_type", "type_lock",
                                  "number_authority"],
        SyncEntity.PERSON: ["relevant_flag_field"],
        SyncEntity.DELIVERY: ["delivery_target", "outgoing_order_type", "accepted_order_types"],
    }

    class Meta:
        model = EntitySync
        fields = ["direction", "conflict_owner", "trigger_field", "trigger_values", "erp_created_type", "type_lock",
                  "number_authority", "relevant_flag_field", "delivery_target", "outgoing_order_type",
                  "accepted_order_types"]
        widgets = {"direction": forms.RadioSelect, "trigger_field": forms.Select}
        labels = {"erp_created_type": "Set type for ERP customers", "type_lock": "Lock the type",
                  "number_authority": "Customer numbers", "relevant_flag_field": "“Relevant for ERP” flag",
                  "delivery_target": "Send deliveries to the ERP as", "outgoing_order_type": "Order type",
                  "conflict_owner": "When a field changed on both sides"}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        entity_sync: EntitySync = self.instance
        integration = entity_sync.integration
        allowed = allowed_directions(integration, entity_sync.entity)
        self.fields["direction"].choices = [(value, direction_label(integration, value))
                                            for value, _ in self.fields["direction"].choices if value in allowed]
        self.fields["trigger_field"].choices = TriggerField.choices
        self.fields["number_authority"].choices = NumberAuthority.choices
        self.fields["delivery_target"].choices = DeliveryTarget.choices
        self.fields["conflict_owner"].choices = ConflictOwner.choices
        keep = {"direction"} | set(self.ENTITY_FIELDS.get(entity_sync.entity, []))
        if "two_way" in allowed:
            keep.add("conflict_owner")
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if "relevant_flag_field" in self.fields:
            front, _ = entity_sides(entity_sync)
            flags = [f.name for f in (front.spec.fields if front.spec else ()) if f.type == "boolean"]
            self.fields["relevant_flag_field"] = forms.ChoiceField(
                label="“Relevant for ERP” flag", required=False,
                choices=[("", "Every person with an e-mail")] + [(f, f) for f in flags],
                help_text="Only persons with this check mark go to the ERP")
        #: Stored trigger values the front system does not have, in words (shown beside the fields and on top).
        self.trigger_warnings: list[str] = []
        self.trigger_offer: TriggerValues | None = None
        if "trigger_values" in self.fields:
            self._offer_trigger_values(entity_sync)

    def _offer_trigger_values(self, entity_sync: EntitySync) -> None:
        """"Sync only organisations of type" (several) and "Set type for ERP customers" (one) as selects of the
        values the connected webCRM has (``trigger_values.py``). A stored value it lacks stays selectable, marked,
        with a warning; a value neither offered nor stored is refused as an invalid choice. When the values cannot
        be read, both stay free text with a note saying why."""
        posted = self.data.get("trigger_field") if self.is_bound else None
        trigger_field = posted if posted in ("type", "status") else (entity_sync.trigger_field or "type")
        offer = trigger_values_for(entity_sync=entity_sync, trigger_field=trigger_field)
        types = offer if trigger_field == "type" else trigger_values_for(entity_sync=entity_sync)
        self.trigger_offer = offer
        stored = [str(v) for v in entity_sync.trigger_values or []]
        if offer is not None and offer.values is not None:
            problems = trigger_value_problems(system_name=offer.system_name, words=offer.words,
                                              offered=offer.values, trigger_values=stored)
            self.trigger_warnings += [p.message for p in problems]
            self.fields["trigger_values"] = forms.MultipleChoiceField(
                required=False, label=self.fields["trigger_values"].label,
                choices=_offered_choices(offer, stored),
                widget=forms.SelectMultiple(attrs={"size": min(8, len(offer.values) + len(offer.missing(stored)))}),
                help_text=" ".join([*(p.message for p in problems), _read_words(offer, several=True)]))
            self.initial["trigger_values"] = _as_offered(offer, stored)
        elif offer is not None:
            self.fields["trigger_values"].help_text = f"{offer.note} E.g. Kunde, Kund – Företag"
        if "erp_created_type" not in self.fields or types is None:
            return
        current = entity_sync.erp_created_type or ""
        if types.values is not None:
            problems = trigger_value_problems(system_name=types.system_name, words=types.words,
                                              offered=types.values, created_type=current)
            self.trigger_warnings += [p.message for p in problems]
            self.fields["erp_created_type"] = forms.ChoiceField(
                required=False, label=self.fields["erp_created_type"].label,
                choices=[("", "Leave the type empty"), *_offered_choices(types, [current] if current else [])],
                help_text=" ".join([*(p.message for p in problems), "The type organisations made from the ERP get. "
                                    + _read_words(types, several=False)]))
            self.initial["erp_created_type"] = (_as_offered(types, [current]) or [""])[0] if current else ""
        else:
            self.fields["erp_created_type"].help_text = types.note

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields}

    #: Settings that apply only while other settings have one of the given values; the others are hidden (and kept).
    APPLIES_WHEN: dict[str, dict[str, tuple[str, ...]]] = {
        "conflict_owner": {"direction": ("two_way",)},
        "delivery_target": {"direction": ("to_erp", "two_way")},
        "outgoing_order_type": {"direction": ("to_erp", "two_way"), "delivery_target": ("sales_order",)},
        "accepted_order_types": {"direction": ("to_crm", "two_way")},
    }

    def applies(self, name: str) -> bool:
        """Whether the setting ``name`` takes effect with the values now in the form (bound data, else saved)."""
        if name == "outgoing_order_type" and not self._erp_has_order_type():
            return False
        rule = self.APPLIES_WHEN.get(name, {})
        return all(other not in self.fields or str(self[other].value() or "") in values
                   for other, values in rule.items())

    def applies_rule(self, name: str) -> str:
        """The rule of ``applies`` as JSON for the page's script (``{"direction": ["two_way"]}``), or ""."""
        if name == "outgoing_order_type" and not self._erp_has_order_type():
            return ""
        rule = {other: list(values) for other, values in self.APPLIES_WHEN.get(name, {}).items()
                if other in self.fields}
        return json.dumps(rule) if rule else ""

    def setting_rows(self) -> list[dict[str, Any]]:
        """The settings below the direction switch, in form order: ``{"field": BoundField, "applies": bool,
        "rule": JSON or ""}``; the page hides a setting that does not apply (unless it shows an error) and its script
        re-checks ``rule`` when a setting changes."""
        return [{"field": self[name], "applies": self.applies(name) or bool(self[name].errors),
                 "rule": self.applies_rule(name)} for name in self.fields if name != "direction"]

    def _erp_has_order_type(self) -> bool:
        """Only an ERP whose sales orders carry an order type (Visma.net's ``type``) uses the outgoing order type."""
        _, erp = entity_sides(self.instance)
        return bool(erp.spec and erp.spec.role("order_type"))


def _offered_choices(offer: TriggerValues, stored: list[str]) -> list[tuple[str, str]]:
    """The system's values, then the stored ones it lacks, marked so nobody takes them for real ones."""
    return [(v, v) for v in offer.values or ()] + [(v, f"{v} (not in {offer.system_name})")
                                                   for v in offer.missing(stored)]


def _as_offered(offer: TriggerValues, stored: list[str]) -> list[str]:
    """Stored values spelt as the system spells them ("kunde" → "Kunde"; the trigger compares without case)."""
    spelling = {v.casefold(): v for v in offer.values or ()}
    return [spelling.get(v.strip().casefold(), v) for v in stored]


def _read_words(offer: TriggerValues, *, several: bool) -> str:
    when = f" (read {offer.read_at:%Y-%m-%d %H:%M} UTC)" if offer.read_at else ""
    choose = " Hold Ctrl (⌘ on a Mac) to choose several." if several else ""
    return f"The {offer.words}s {offer.system_name} has{when}.{choose} {offer.note}".strip()


class MappingRowForm(forms.Form):
    """The last row of the mapping table: two selects and a (+), each input in the column it fills.

    The ``<form>`` element sits in the row's last cell; every input names it (``form="mapping-add-form"``), so
    the row keeps the table's columns, as webCRM's own organisation settings screen does.
    """

    FORM_ID = "mapping-add-form"

    erp_field = forms.ChoiceField(label="ERP field")
    crm_field = forms.ChoiceField(label="webCRM field")
    erp_user_field = forms.RegexField(regex=r"^x[A-Za-z0-9_]+$", required=False, label="or a user field",
                                      error_messages={"invalid": "A user field name starts with x, e.g. xStyleNo."})
    direction = forms.ChoiceField(choices=FieldDirection.choices, required=False, label="Direction")
    value_map = ValueMapField(required=False, label="Value map")
    required = forms.BooleanField(required=False, label="Required")
    overflow = forms.ChoiceField(choices=Overflow.choices, required=False, initial=Overflow.SHORTEN,
                                 label="Longer than the target holds",
                                 help_text="Shorten at a word boundary (noted in the log), or refuse: the record "
                                           "waits and nothing is written")

    def __init__(self, *args: Any, entity_sync: EntitySync, **kwargs: Any):
        super().__init__(*args, **kwargs)
        front, erp = entity_sides(entity_sync)
        self.front_name, self.erp_name = front.system_name, erp.system_name
        self.fields["crm_field"].label = f"{front.system_name} field"
        self.fields["erp_field"].label = f"{erp.system_name} field"
        self.fields["crm_field"].choices = _field_choices(front.spec)
        self.fields["erp_field"].choices = _field_choices(erp.spec)
        self.open_custom_fields = bool(erp.spec and erp.spec.open_custom_fields)
        if self.open_custom_fields:
            self.fields["erp_field"].required = False
        else:
            del self.fields["erp_user_field"]
        self.erp_labels, self.crm_labels = field_labels(erp.spec), field_labels(front.spec)
        for field in self.fields.values():
            field.widget.attrs["form"] = self.FORM_ID

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        cleaned["overflow"] = cleaned.get("overflow") or Overflow.SHORTEN
        if self.open_custom_fields:
            chosen = cleaned.get("erp_user_field") or cleaned.get("erp_field")
            if not chosen:
                self.add_error("erp_field", f"Choose a {self.erp_name} field or type a user field name.")
            cleaned["erp_field"] = chosen
        return cleaned


def field_labels(spec) -> dict[str, str]:
    """Each catalog field's friendly label by its API name (``{"OrganisationName": "Organisation name"}``).

    A field without a label of its own (or a Uniconta user field typed by hand) is not in the result.
    """
    if spec is None:
        return {}
    return {f.name: f.label for f in spec.fields if f.label and f.label != f.name}


def _field_choices(spec) -> list[tuple[str, Any]]:
    if spec is None:
        return [("", "—")]
    standard = [(f.name, f.display) for f in spec.fields if not f.custom]
    custom = [(f.name, f.display) for f in spec.fields if f.custom]
    choices: list[tuple[str, Any]] = [("", "Choose…"), ("Standard fields", standard)]
    if custom:
        choices.append(("Custom fields", custom))
    return choices


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = EntitySync
        fields = ["polling_interval_seconds", "polling_offset_seconds", "reconcile_interval_hours"]
        labels = {"polling_interval_seconds": "Poll every (seconds)", "polling_offset_seconds": "Offset (seconds)",
                  "reconcile_interval_hours": "Safety reconciliation"}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["reconcile_interval_hours"].choices = ReconcileInterval.choices
        self.fields["polling_interval_seconds"].min_value = 10
        self.fields["polling_interval_seconds"].validators.append(_at_least(10))

    def clean_polling_offset_seconds(self) -> int:
        offset = self.cleaned_data["polling_offset_seconds"]
        interval = self.cleaned_data.get("polling_interval_seconds") or 0
        if interval and offset >= interval:
            raise forms.ValidationError("The offset must be shorter than the interval.")
        return offset


def _at_least(minimum: int):
    def check(value: int) -> None:
        if value is not None and value < minimum:
            raise forms.ValidationError(f"Poll at most every {minimum} seconds, to stay within the vendors' limits.")

    return check


class PosSettingsForm(forms.ModelForm):
    class Meta:
        model = PosSettings
        fields = ["default_debtor_group", "default_pos_debtor", "default_item_group", "auto_invoice_cash_sales",
                  "auto_invoice_debtor_sales", "pos_journal", "cash_gl_account", "difference_gl_account",
                  "cash_payment_name", "debtor_payment_name", "daily_report_time"]
        widgets = {"daily_report_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    VARIANT_LABELS = {"style_no": "Style number", "size": "Size", "color": "Colour", "custom1": "Custom field 1",
                      "custom2": "Custom field 2", "custom3": "Custom field 3", "custom4": "Custom field 4",
                      "barcode": "Alternative barcode"}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        current = self.instance.variant_fields or {}
        for key, label in self.VARIANT_LABELS.items():
            self.fields[f"variant_{key}"] = forms.RegexField(
                regex=r"^x[A-Za-z0-9_]+$", label=f"{label} → Uniconta user field", initial=current.get(key, ""),
                error_messages={"invalid": "A Uniconta user field name starts with x, e.g. xStyleNo."})

    def changes(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["variant_fields"] = {key: self.cleaned_data[f"variant_{key}"] for key in self.VARIANT_LABELS}
        return data


class PosRegisterForm(forms.Form):
    register_id = forms.CharField(max_length=60, label="Register id in Customers 1st")
    name = forms.CharField(max_length=120)
    cash_gl_account = forms.CharField(max_length=30, required=False, label="Cash account (optional)")
