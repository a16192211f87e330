"""The configuration audit trail: who changed what, from what to what."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.forms.models import model_to_dict

from integrations.models import Integration

from .models import ConfigChange


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The audited values of a row (JSON-ready)."""
    data = model_to_dict(instance, fields=fields)
    data.pop("id", None)
    data.pop("tenant", None)
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)}


def config_change_record(*, integration: Integration, user: Any, action: str, subject: str,
                         before: dict[str, Any] | None = None, after: dict[str, Any] | None = None
                         ) -> ConfigChange | None:
    """Store one change; an update that changed nothing is not recorded."""
    changes = diff(before or {}, after or {})
    if action == "updated" and not changes:
        return None
    return ConfigChange.objects.create(
        tenant_id=integration.tenant_id, integration=integration,
        user=user if getattr(user, "is_authenticated", False) else None,
        action=action, subject=subject[:200], changes=changes,
    )
