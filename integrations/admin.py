from django import forms
from django.contrib import admin
from django.db import models

from tenants.admin import TenantScopedAdmin

from .models import Connection, Integration
from .services import (
    integration_activation_refusals,
    integration_save,
    integration_switched_on,
    secrets_to_enter_again,
)
from .systems.hosts import base_url_problem
from .systems.registry import get_system


class ConnectionAdminForm(forms.ModelForm):
    """The base URL is checked like anywhere else; credentials cannot be entered here, so neither the system nor
    the host of a connection with stored secrets can change here (the connection screen asks for them again)."""

    base_url = forms.URLField(required=False, max_length=300, assume_scheme="https",
                              help_text="Leave empty for the vendor's own API address.")

    class Meta:
        model = Connection
        fields = ["tenant", "system", "name", "base_url"]

    def clean(self) -> dict:
        cleaned = super().clean()
        system = cleaned.get("system") or self.instance.system
        if self.instance.pk and "system" in cleaned and cleaned["system"] != self.instance.system:
            self.add_error("system", "The system of a connection cannot change.")
            return cleaned
        if not system or "base_url" not in cleaned:
            return cleaned
        provider = get_system(system)
        base_url = cleaned.get("base_url") or ""
        problem = base_url_problem(base_url or provider.default_base_url, provider=provider)
        if problem:
            self.add_error("base_url", problem)
        elif self.instance.pk and secrets_to_enter_again(connection=self.instance, base_url=base_url, given=set()):
            self.add_error("base_url", "Stored secrets are sent only to the host they were entered for. Move this "
                                       "connection on its connection screen, where they can be entered again.")
        return cleaned


@admin.register(Connection)
class ConnectionAdmin(TenantScopedAdmin):
    """Credentials are not editable here (and never shown): use the connection screen."""

    form = ConnectionAdminForm

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
        integration_save(integration=obj, user=request.user)
