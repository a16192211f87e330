"""The alert digest: one e-mail per tenant with recipients, listing the firing alerts.

It is sent when the set of firing alerts (their keys, ``rules.Alert.key``) differs from the one the last e-mail
listed, or when the same set has fired unchanged for ``REPEAT_AFTER``; when every alert has stopped, a short
"all clear" is sent once. A mail that cannot be sent is logged (tenant and kind of error only) and tried again at
the next run: nothing is remembered as sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from enum import StrEnum

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone

from tenants.models import Tenant

from .rules import Alert, alerts_firing
from .selectors import alert_settings_get, digest_state_get
from .services import digest_state_store

logger = logging.getLogger(__name__)

#: An unchanged set of alerts is sent again after this long.
REPEAT_AFTER = dt.timedelta(hours=24)


class DigestKind(StrEnum):
    ALERTS = "alerts"
    ALL_CLEAR = "all_clear"


def digest_due(*, firing: set[str], last_sent: set[str] | None, last_sent_at: dt.datetime | None,
               now: dt.datetime) -> DigestKind | None:
    """What the digest should send now, if anything.

    ``firing``: the keys of the alerts firing now; ``last_sent``: those the last e-mail listed (None: no e-mail was
    ever sent; empty: the last one was an "all clear"). Alerts go out when they differ from the last e-mail's, or
    when ``REPEAT_AFTER`` has passed since it; an "all clear" goes out once when alerts had been sent and none fire.
    """
    if firing:
        if firing != (last_sent or set()) or last_sent_at is None or now - last_sent_at >= REPEAT_AFTER:
            return DigestKind.ALERTS
        return None
    return DigestKind.ALL_CLEAR if last_sent else None


def _absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}"


def digest_message(*, tenant: Tenant, alerts: list[Alert], kind: DigestKind) -> tuple[str, str]:
    """The e-mail's subject and plain-text body for ``tenant``."""
    dashboard = _absolute(reverse("tenant-home", kwargs={"tenant_slug": tenant.slug}))
    settings_page = _absolute(reverse("tenant-settings", kwargs={"tenant_slug": tenant.slug}))
    if kind == DigestKind.ALL_CLEAR:
        return (f"Synkro: all clear for {tenant.name}",
                f"Every alert of {tenant.name} has stopped: nothing needs a person right now.\n\n"
                f"Dashboard: {dashboard}\n\nYou receive this because you are listed under Alerts and data: "
                f"{settings_page}\n")
    count = len(alerts)
    lines = [f"{count} alert{'s' if count != 1 else ''} for {tenant.name}:", ""]
    for alert in alerts:
        lines += [f"- {alert.sentence}", f"  {alert.link_text}: {_absolute(alert.link)}", ""]
    lines += [f"Dashboard: {dashboard}", "",
              "This e-mail is sent again when the alerts change, or after 24 hours while they last.",
              f"You receive it because you are listed under Alerts and data: {settings_page}"]
    return f"Synkro: {count} alert{'s' if count != 1 else ''} for {tenant.name}", "\n".join(lines) + "\n"


def alert_digest_send(*, tenant: Tenant, now: dt.datetime | None = None) -> DigestKind | None:
    """Send ``tenant``'s digest if one is due (see ``digest_due``); returns what was sent, or None (nothing due, no
    recipients, or the mail failed: logged, and tried again next time)."""
    now = now or timezone.now()
    alert_settings = alert_settings_get(tenant=tenant)
    if not alert_settings.recipients:
        return None
    alerts = alerts_firing(tenant=tenant, now=now, settings=alert_settings)
    state = digest_state_get(tenant=tenant)
    kind = digest_due(firing={alert.key for alert in alerts}, last_sent=set(state.keys) if state else None,
                      last_sent_at=state.sent_at if state else None, now=now)
    if kind is None:
        return None
    subject, body = digest_message(tenant=tenant, alerts=alerts, kind=kind)
    try:
        EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL,
                     to=list(alert_settings.recipients)).send()
    except Exception as error:  # a mail server's trouble must not stop the other tenants' digests
        logger.warning("The alert digest of tenant %s could not be sent (%s); it is tried again at the next run.",
                       tenant.slug, type(error).__name__)
        return None
    digest_state_store(tenant=tenant, keys=[alert.key for alert in alerts] if kind == DigestKind.ALERTS else [],
                       at=now)
    return kind
