"""Filters of the REST API's lists that name a row by its id.

The list is already the tenant's own rows (``scoped``), so an id of another tenant's row simply matches
nothing — the same answer as an id that does not exist. Ids outside the database's integer range are a
plain 400, never a query.
"""

from __future__ import annotations

from django import forms
from django_filters import rest_framework as filters

from .access import ROW_ID_MAX


class RowIdFilter(filters.Filter):
    """``?integration=12``: rows whose ``field_name`` points at the row with that id (no match otherwise)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ROW_ID_MAX)
        super().__init__(*args, **kwargs)
