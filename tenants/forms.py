"""Forms of the tenant's own settings."""

from __future__ import annotations

from django import forms

from .models import RETENTION_DAYS_MAX, RETENTION_DAYS_MIN


class RetentionForm(forms.Form):
    """How many days the tenant keeps its sync history (whole days, 7–3650)."""

    retention_days = forms.IntegerField(
        label="Keep sync history for (days)", min_value=RETENTION_DAYS_MIN, max_value=RETENTION_DAYS_MAX,
        help_text=f"From {RETENTION_DAYS_MIN} to {RETENTION_DAYS_MAX} days.",
        error_messages={
            "required": "Say how many days to keep the sync history.",
            "invalid": "Give a whole number of days.",
            "min_value": f"Keep the history at least {RETENTION_DAYS_MIN} days.",
            "max_value": f"Keep the history at most {RETENTION_DAYS_MAX} days (10 years).",
        },
    )
