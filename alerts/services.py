"""Writes for alerts: a tenant's settings, what the digest last sent, and a reconciliation's drift history."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from tenants.models import Tenant

from .models import AlertDigestState, AlertSettings, DriftRecord

logger = logging.getLogger(__name__)

#: The fields ``alert_settings_update`` may change.
SETTINGS_FIELDS = ("recipients", "failures_enabled", "failures_threshold", "dead_letters_enabled",
                   "dead_letters_threshold", "webhook_silent_enabled", "webhook_silent_hours",
                   "connection_failing_enabled")


def alert_settings_update(*, tenant: Tenant, user: Any, changes: dict[str, Any]) -> AlertSettings:
    """Save ``changes`` (cleaned form values, keyed by ``SETTINGS_FIELDS``) to the tenant's alert settings, made on
    first save. Unknown keys raise ``ValueError``; ``user`` is named in the log line, the settings are not."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"Not an alert setting: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        settings, _ = AlertSettings.objects.select_for_update().get_or_create(tenant=tenant)
        for name, value in changes.items():
            setattr(settings, name, value)
        settings.save()
    logger.info("Alert settings of tenant %s saved by %s", tenant.slug, getattr(user, "username", "?"))
    return settings


def digest_state_store(*, tenant: Tenant, keys: list[str], at: dt.datetime) -> AlertDigestState:
    """Remember that the digest sent at ``at`` listed the alerts ``keys`` (empty: an "all clear")."""
    state, _ = AlertDigestState.objects.update_or_create(tenant=tenant, defaults={"keys": sorted(keys), "sent_at": at})
    return state


def drift_history_record(*, run: Any, checked: int, drift: int, at: dt.datetime | None = None) -> DriftRecord:
    """Keep what the reconciliation ``run`` (a ``SyncRun`` of one entity) found: ``checked`` records listed and
    compared, ``drift`` of them differing. Once per run and entity: a run listed again replaces its row."""
    record, _ = DriftRecord.objects.update_or_create(
        run_pk=run.pk, entity=run.entity,
        defaults={"tenant_id": run.tenant_id, "integration_id": run.integration_id, "checked": checked,
                  "drift": drift, "at": at or timezone.now()})
    return record
