"""Model fields for text that comes from the vendors' records, whose length Synkro does not control."""

from __future__ import annotations

from typing import Any

from django.db import models


class LabelField(models.CharField):
    """A record's name as people read it ("Havbrise Byg ApS"), cut to the column's length when saved.

    A vendor may hold a longer name than the column (a Fortnox customer name of 248 characters against 200):
    the label is for recognising the record in the log and on screens, so its end gives way ("…") instead of the
    save failing (PostgreSQL refuses an over-long value; SQLite would keep it whole).
    """

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if isinstance(value, str) and self.max_length and len(value) > self.max_length:
            return value[: self.max_length - 1].rstrip() + "…"
        return value
