"""Tenants and who may do what in them."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Tenant(models.Model):
    """A customer of Synkro: one company whose systems we keep in sync."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True, help_text="Appears in every URL of the tenant: /t/<slug>/")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    CUSTOMER = "customer", "Customer"
    SUPPORT = "support", "Support"


class Membership(models.Model):
    """A user's role in one tenant. No membership means the tenant does not exist for that user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tenant"], name="one_membership_per_user_and_tenant")]
        ordering = ["tenant__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} · {self.tenant} · {self.get_role_display()}"


class TenantOwnedQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant) -> TenantOwnedQuerySet:
        return self.filter(tenant=tenant)


class TenantOwned(models.Model):
    """Base of every row that belongs to one tenant. Reach such rows only through ``tenants.access``."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")

    objects = TenantOwnedQuerySet.as_manager()

    class Meta:
        abstract = True
