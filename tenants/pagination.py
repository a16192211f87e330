"""Pages of the REST API's lists: ``?limit=`` is clamped and cursors are checked, so no page parameter reaches
the database unchecked."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination, LimitOffsetPagination

from .access import ROW_ID_MAX


class TenantPages(LimitOffsetPagination):
    """Limit/offset pages of at most ``max_limit`` rows; a larger or absurd ``limit`` gives the largest page.

    In: ``?limit=`` and ``?offset=`` (DRF ignores what is not a positive whole number). Out: one page.
    """

    default_limit = 50
    max_limit = 200


class KeysetPages(CursorPagination):
    """DRF's cursor pages, with the cursor's position checked before it reaches a query.

    A position is the first ordering field's value, as the client sent it back (base64 is no seal): one that
    is not a value of that field — not a moment, a moment outside the years 1900–9998, an id no row can
    have — is answered like any other invalid cursor (404), never with a 500.
    """

    def paginate_queryset(self, queryset, request, view=None):
        ordering = self.get_ordering(request, queryset, view)
        self._position_field = queryset.model._meta.get_field(ordering[0].lstrip("-"))
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None and not self._position_valid(cursor.position):
            raise NotFound(self.invalid_cursor_message)
        return cursor

    def _position_valid(self, position: str) -> bool:
        field = self._position_field
        try:
            value = field.to_python(position)
        except (ValidationError, ValueError, OverflowError):
            return False
        if isinstance(field, models.DateTimeField | models.DateField):
            return value is not None and 1900 <= value.year <= 9998
        if isinstance(field, models.IntegerField | models.AutoField):
            return value is not None and abs(value) <= ROW_ID_MAX
        return True
