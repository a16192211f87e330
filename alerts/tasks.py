"""django-q2 entry point of alerts: the hourly digest (scheduled in ``integrations.tasks.SCHEDULES``)."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

DIGEST_TASK = "alerts.tasks.alert_digests_task"


def alert_digests_task() -> int:
    """Send the digest of every active tenant with recipients that has one due; returns how many were sent.

    One tenant's error is logged and does not stop the others.
    """
    from .digest import alert_digest_send
    from .models import AlertSettings

    sent = 0
    for alert_settings in AlertSettings.objects.filter(tenant__active=True).select_related("tenant").order_by("pk"):
        if not alert_settings.recipients:
            continue
        try:
            sent += alert_digest_send(tenant=alert_settings.tenant) is not None
        except Exception:
            logger.exception("The alert digest of tenant %s failed", alert_settings.tenant.slug)
    return sent
