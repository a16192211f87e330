"""Forms of the support screens."""

from __future__ import annotations

from django import forms

from integrations.models import Integration, RunKind
from mappings.models import SyncEntity
from tenants.access import scoped
from tenants.models import Tenant

STARTABLE_KINDS = [(RunKind.RECONCILE.value, "Safety reconciliation"), (RunKind.IMPORT.value, "Initial import")]


class RunStartForm(forms.Form):
    integration = forms.ModelChoiceField(queryset=Integration.objects.none(), empty_label=None)
    entity = forms.ChoiceField(choices=SyncEntity.choices)
    kind = forms.ChoiceField(choices=STARTABLE_KINDS)
    guard_off = forms.BooleanField(required=False, label="Switch the guard off for this run")

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["integration"].queryset = scoped(Integration, tenant)
