"""The one way into a tenant's rows.

Every view and API endpoint resolves the tenant from the URL with :func:`tenant_access_get` and
reaches tenant-owned rows with :func:`scoped` / :func:`get_scoped_or_404`. A user who is not a
member gets the same 404 as for a tenant that does not exist: we never confirm that it exists.
Platform staff (``is_staff``) act as support in every active tenant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404

from .models import Membership, Role, Tenant

M = TypeVar("M", bound=Model)

#: The largest id a row can have (PostgreSQL's bigint); a larger one names nothing.
ROW_ID_MAX = 2**63 - 1
_ROW_ID = re.compile(r"[0-9]{1,19}")


@dataclass(frozen=True)
class TenantAccess:
    """A user's standing in one tenant, and what it allows."""

    tenant: Tenant
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_configure(self) -> bool:
        """Connections, integrations, mappings, schedules, members."""
        return self.role == Role.ADMIN

    @property
    def can_toggle_webhooks(self) -> bool:
        return self.role in (Role.ADMIN, Role.CUSTOMER)

    @property
    def can_register_webhooks(self) -> bool:
        """Register Synkro's webhook URLs in the external systems: it writes their configuration, so admins only."""
        return self.role == Role.ADMIN

    @property
    def can_replay(self) -> bool:
        """Replay failures and start runs."""
        return self.role in (Role.ADMIN, Role.SUPPORT)

    @property
    def can_read_logs(self) -> bool:
        return True


def tenant_access_get(*, user: Any, slug: str) -> TenantAccess:
    """The user's access to the tenant with ``slug``; 404 when missing, inactive or not theirs."""
    if not getattr(user, "is_authenticated", False):
        raise Http404("No such tenant")
    membership = (
        Membership.objects.select_related("tenant").filter(user=user, tenant__slug=slug, tenant__active=True).first()
    )
    if membership is not None:
        return TenantAccess(tenant=membership.tenant, role=Role(membership.role))
    if user.is_staff:
        tenant = Tenant.objects.filter(slug=slug, active=True).first()
        if tenant is not None:
            return TenantAccess(tenant=tenant, role=Role.SUPPORT)
    raise Http404("No such tenant")


def tenants_for_user(user: Any) -> QuerySet[Tenant]:
    """The tenants a user may enter, for the picker and the API."""
    if not getattr(user, "is_authenticated", False):
        return Tenant.objects.none()
    if user.is_staff:
        return Tenant.objects.filter(active=True)
    return Tenant.objects.filter(active=True, memberships__user=user).distinct()


def row_id(value: Any) -> int | None:
    """A row id typed by someone (URL, query string): the number, or None when it cannot name a row.

    Only ASCII digits count (``"²"`` and ``"١"`` are not ids), and nothing above :data:`ROW_ID_MAX`.
    """
    text = str(value if value is not None else "").strip()
    if not _ROW_ID.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= ROW_ID_MAX else None


def scoped(model_or_queryset: type[M] | QuerySet[M], tenant: Tenant) -> QuerySet[M]:
    """The rows of ``tenant`` only. Every read of tenant-owned rows goes through here."""
    if isinstance(model_or_queryset, QuerySet):
        queryset = model_or_queryset
    else:
        queryset = model_or_queryset._default_manager.all()
    if queryset.model is Tenant:
        return queryset.filter(pk=tenant.pk)
    return queryset.filter(tenant=tenant)


def get_scoped_or_404(model_or_queryset: type[M] | QuerySet[M], tenant: Tenant, **lookups: Any) -> M:
    """One row of ``tenant``; another tenant's row is as missing as one that does not exist."""
    try:
        return scoped(model_or_queryset, tenant).get(**lookups)
    except (scoped(model_or_queryset, tenant).model.DoesNotExist, ValueError):
        raise Http404("Not found") from None
