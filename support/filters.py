"""The sync log's filter: one FilterSet for the screen, the bulk replay and the API."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from integrations.models import Integration, LogAction, SyncLogEntry
from mappings.models import SyncEntity
from tenants.access import scoped
from tenants.models import Tenant

DIRECTIONS = [("to_erp", "webCRM → ERP"), ("to_crm", "webCRM ← ERP")]

#: The days the log's date filters take: far wider than any log, and narrow enough that the start of the day
#: after, in any time zone, is a moment every database and Python itself can hold.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


class LogDateField(forms.DateField):
    """A date between :data:`FIRST_DAY` and :data:`LAST_DAY`; any other is a form error, never a query."""

    widget = forms.DateInput(attrs={"type": "date"})

    def validate(self, value: date | None) -> None:
        super().validate(value)
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            raise forms.ValidationError(
                f"Give a date between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}.", code="out_of_range")


class LogDateFilter(django_filters.DateFilter):
    field_class = LogDateField


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class LogEntryFilter(django_filters.FilterSet):
    """Integration, entity, action, direction, a record id on either side, a date range and free text."""

    integration = django_filters.ModelChoiceFilter(queryset=Integration.objects.none(), empty_label="All integrations")
    entity = django_filters.ChoiceFilter(choices=SyncEntity.choices, empty_label="All entities")
    action = django_filters.ChoiceFilter(choices=LogAction.choices, empty_label="All actions")
    direction = django_filters.ChoiceFilter(choices=DIRECTIONS, empty_label="Both directions")
    record = django_filters.CharFilter(method="filter_record", label="Record id",
                                       help_text="The record's id in webCRM or in the ERP")
    since = LogDateFilter(method="filter_since", label="From")
    until = LogDateFilter(method="filter_until", label="To")
    q = django_filters.CharFilter(method="filter_text", label="Text",
                                  help_text="Words in the record's name, the reason or the error")
    unresolved = django_filters.BooleanFilter(
        method="filter_unresolved", label="Only failures not synced since", widget=forms.CheckboxInput,
        help_text="Leave out failures whose record was synced by a later change or replay")

    class Meta:
        model = SyncLogEntry
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, tenant: Tenant, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.filters["integration"].queryset = scoped(Integration, tenant)

    def filter_record(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(Q(crm_id=value) | Q(erp_id=value)) if value else queryset

    def filter_since(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(at__gte=_day_start(value))

    def filter_until(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(at__lt=_day_start(value + timedelta(days=1)))

    def filter_unresolved(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        from .selectors import failure_resolved  # the selectors build on this filter

        if not value:
            return queryset
        return queryset.filter(action=LogAction.FAILED).exclude(failure_resolved())

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(label__icontains=value) | Q(reason__icontains=value) | Q(error__icontains=value)
                               | Q(vendor_message__icontains=value))
