"""Tenants and who may do what in them."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

#: How long sync history is kept, in days (``tenants.retention``): the default, and the bounds a tenant may choose.
RETENTION_DAYS_DEFAULT = 90
RETENTION_DAYS_MIN = 7
RETENTION_DAYS_MAX = 3650


class Tenant(models.Model):
    """A customer of Synkro: one company whose systems we keep in sync."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True, help_text="Appears in every URL of the tenant: /t/<slug>/")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    #: Sync history (inbound events, log entries, finished runs, resolved conflicts) older than this many days is
    #: removed by the daily clean-up; what still waits for a person is kept whatever its age (``tenants.retention``).
    retention_days = models.PositiveSmallIntegerField(
        default=RETENTION_DAYS_DEFAULT,
        validators=[MinValueValidator(RETENTION_DAYS_MIN), MaxValueValidator(RETENTION_DAYS_MAX)],
        help_text=f"Keep sync history this many days ({RETENTION_DAYS_MIN}–{RETENTION_DAYS_MAX})",
    )
    #: When the last clean-up of this tenant's history ran, and what it removed:
    #: ``{"log_entries": n, "events": n, "runs": n, "conflicts": n, "complete": bool}`` (complete: nothing old was
    #: left behind; false when the run's budget ran out and the next run goes on).
    history_cleaned_at = models.DateTimeField(null=True, blank=True)
    history_removed = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(retention_days__gte=RETENTION_DAYS_MIN, retention_days__lte=RETENTION_DAYS_MAX),
                name="tenant_retention_days_in_range"),
        ]

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
