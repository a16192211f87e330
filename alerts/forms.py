"""The alert settings form: recipients and, per alert kind, on/off and threshold."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .models import AlertSettings

#: The most addresses one tenant's digest goes to.
RECIPIENTS_MAX = 20
_SEPARATORS = re.compile(r"[\s,;]+")


class RecipientsField(forms.CharField):
    """E-mail addresses typed one per line (or separated by commas); a list of distinct, valid addresses."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: Any) -> str:
        return "\n".join(value) if isinstance(value, list | tuple) else (value or "")

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value) or ""
        addresses: list[str] = []
        for address in filter(None, _SEPARATORS.split(text)):
            if address.casefold() not in {known.casefold() for known in addresses}:
                addresses.append(address)
        return addresses

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        invalid = []
        for address in value:
            try:
                validate_email(address)
            except ValidationError:
                invalid.append(f"“{address}”")
        if invalid:
            verb = "is not an e-mail address" if len(invalid) == 1 else "are not e-mail addresses"
            raise ValidationError(f"{', '.join(invalid)} {verb}.", code="invalid")
        if len(value) > RECIPIENTS_MAX:
            raise ValidationError(f"At most {RECIPIENTS_MAX} recipients; this lists {len(value)}.", code="max")


class AlertSettingsForm(forms.ModelForm):
    recipients = RecipientsField(
        required=False, label="Send the hourly digest to",
        help_text="E-mail addresses, one per line. None: alerts show on the dashboard only.")
    failures_threshold = forms.IntegerField(
        min_value=1, max_value=100_000, label="Alert from this many failed changes in an hour",
        help_text="Failures whose record was neither synced nor replayed since. Default 10.")
    dead_letters_threshold = forms.IntegerField(
        min_value=1, max_value=100_000, label="Alert from this many dead letters", help_text="Default 1.")
    webhook_silent_hours = forms.IntegerField(
        min_value=1, max_value=168, label="Alert after this many hours without a notice",
        help_text="Only while a reconciliation or polling finds changes from that system in those hours. Default 6.")

    class Meta:
        model = AlertSettings
        fields = ["recipients", "failures_enabled", "failures_threshold", "dead_letters_enabled",
                  "dead_letters_threshold", "webhook_silent_enabled", "webhook_silent_hours",
                  "connection_failing_enabled"]
        labels = {
            "failures_enabled": "Failed changes",
            "dead_letters_enabled": "Dead letters",
            "webhook_silent_enabled": "A webhook gone silent",
            "connection_failing_enabled": "A connection whose credentials are refused",
        }
