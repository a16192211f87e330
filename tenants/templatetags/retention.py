"""``{% retention_settings as retention %}``: what the retention part of the tenant settings screen shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template

from tenants.access import TenantAccess
from tenants.forms import RetentionForm
from tenants.retention import RetentionState, retention_state

register = template.Library()


@dataclass(frozen=True)
class RetentionPanel:
    """The form (bound to the current setting), the state of the last clean-up, and whether the viewer may change
    the setting (administrators only)."""

    form: RetentionForm
    state: RetentionState
    can_edit: bool


@register.simple_tag(takes_context=True)
def retention_settings(context: dict[str, Any]) -> RetentionPanel | None:
    """The retention of the context's ``tenant`` for the viewer in ``request``; None without a tenant."""
    tenant = context.get("tenant")
    if tenant is None:
        return None
    request = context.get("request")
    access = getattr(request, "access", None) if request is not None else None
    can_edit = isinstance(access, TenantAccess) and access.tenant.pk == tenant.pk and access.can_configure
    return RetentionPanel(form=RetentionForm(initial={"retention_days": tenant.retention_days}),
                          state=retention_state(tenant), can_edit=can_edit)
