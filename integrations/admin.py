from django import forms
from django.contrib import admin
from django.db import models

from tenants.admin import TenantScopedAdmin

from .models import Connection, Integration
from .services import integration_activation_refusals, integration_save, integration_switched_on


@admin.register(Connection)
class ConnectionAdmin(TenantScopedAdmin):
    """Credentials are not editable here (and never shown): use the connection screen."""

    list_display = ("name", "tenant", "system", "status", "last_checked_at")
    list_filter = ("tenant", "system", "status")
    search_fields = ("name", "tenant__name")
    readonly_fields = ("status", "status_detail", "last_error", "last_checked_at", "created_at", "updated_at")
    exclude = ("credentials",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class IntegrationAdminForm(forms.ModelForm):
    """Switching an integration on here is checked like anywhere else (one owner per webCRM field)."""

    class Meta:
        model = Integration
        fields = ["tenant", "name", "crm_connection", "erp_connection", "active", "guard_share", "guard_minimum"]

    def _post_clean(self) -> None:
        super()._post_clean()
        if not self.errors and integration_switched_on(self.instance):
            for reason in integration_activation_refusals(integration=self.instance):
                self.add_error("active" if "active" in self.fields else None, reason)


@admin.register(Integration)
class IntegrationAdmin(TenantScopedAdmin):
    form = IntegrationAdminForm
    list_display = ("name", "tenant", "crm_connection", "erp_connection", "active", "activated_at")
    list_filter = ("tenant", "active")
    search_fields = ("name", "tenant__name")
    exclude = ("webhook_token",)
    readonly_fields = ("activated_at",)

    def save_model(self, request, obj: Integration, form, change) -> None:
        integration_save(integration=obj)
