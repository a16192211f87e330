"""The sync log's filter: one FilterSet for the screen, the bulk replay and the API."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from integrations.models import Integration, LogAction, SyncLogEntry
from mappings.models import SyncEntity
from tenants.access import scoped
from tenants.models import Tenant

DIRECTIONS = [("to_erp", "webCRM → ERP"), ("to_crm", "webCRM ← ERP")]


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
    since = django_filters.DateFilter(method="filter_since", label="From",
                                      widget=forms.DateInput(attrs={"type": "date"}))
    until = django_filters.DateFilter(method="filter_until", label="To",
                                      widget=forms.DateInput(attrs={"type": "date"}))
    q = django_filters.CharFilter(method="filter_text", label="Text",
                                  help_text="Words in the record's name, the reason or the error")

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

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(label__icontains=value) | Q(reason__icontains=value) | Q(error__icontains=value)
                               | Q(vendor_message__icontains=value))
