from django.contrib import admin
from django.db import models

from tenants.admin import TenantScopedAdmin

from .models import Connection, Integration


@admin.register(Connection)
class ConnectionAdmin(TenantScopedAdmin):
    """Credentials are not editable here (and never shown): use the connection screen."""

    list_display = ("name", "tenant", "system", "status", "last_checked_at")
    list_filter = ("tenant", "system", "status")
    search_fields = ("name", "tenant__name")
    readonly_fields = ("status", "status_detail", "last_error", "last_checked_at", "created_at", "updated_at")
    exclude = ("credentials",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Integration)
class IntegrationAdmin(TenantScopedAdmin):
    list_display = ("name", "tenant", "crm_connection", "erp_connection", "active")
    list_filter = ("tenant", "active")
    search_fields = ("name", "tenant__name")
    exclude = ("webhook_token",)
