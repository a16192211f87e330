"""Django admin, tenant-aware: superusers see everything, other staff only the tenants they administer."""

from __future__ import annotations

from django.contrib import admin

from .models import Membership, Role, Tenant


def administered_tenant_ids(user) -> list[int] | None:
    """None means all tenants (superuser)."""
    if user.is_superuser:
        return None
    return list(Membership.objects.filter(user=user, role=Role.ADMIN).values_list("tenant_id", flat=True))


class AdministeredTenantFilter(admin.RelatedFieldListFilter):
    """The "By tenant" filter, offering only the tenants the staff user administers (all of them to a superuser)."""

    def field_choices(self, field, request, model_admin):
        ids = administered_tenant_ids(request.user)
        ordering = self.field_admin_ordering(field, request, model_admin)
        limit = None if ids is None else {"pk__in": ids}
        return field.get_choices(include_blank=False, ordering=ordering, limit_choices_to=limit)


class TenantScopedAdmin(admin.ModelAdmin):
    """Base for admins of tenant-owned models. A "tenant" list filter names only the administered tenants."""

    tenant_field = "tenant"
    list_filter = ("tenant",)

    def get_list_filter(self, request):
        return [(entry, AdministeredTenantFilter) if entry == self.tenant_field else entry
                for entry in super().get_list_filter(request)]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        ids = administered_tenant_ids(request.user)
        return queryset if ids is None else queryset.filter(**{f"{self.tenant_field}__in": ids})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        ids = administered_tenant_ids(request.user)
        if ids is not None:
            if db_field.name == "tenant":
                kwargs["queryset"] = Tenant.objects.filter(pk__in=ids)
            elif hasattr(db_field.related_model, "tenant"):
                kwargs["queryset"] = db_field.related_model._default_manager.filter(tenant__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        ids = administered_tenant_ids(request.user)
        return queryset if ids is None else queryset.filter(pk__in=ids)

    def has_add_permission(self, request):
        return request.user.is_superuser


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("tenant", "role")
    search_fields = ("user__username", "user__email", "tenant__name")
    autocomplete_fields = ("user",)
