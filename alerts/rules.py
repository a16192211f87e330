"""Which alerts fire for a tenant at a given time, each with a sentence in plain words and a link to act on it.

The rules are plain functions of the facts (``selectors``) and the tenant's settings; ``alerts_firing`` gathers
both (a handful of grouped queries) and applies them. Four kinds:

- **failures**: changes that failed in the last hour and were not replayed since, at or over the threshold;
- **dead letters**: events parked as failed, at or over the threshold;
- **webhook silent**: a system of a running integration has sent no notice for the threshold's hours while a
  reconciliation or polling found changes from it in those hours (its webhook is probably not working);
- **connection failing**: the vendor refuses a connection's credentials (``Connection.status``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.urls import reverse
from django.utils import timezone

from integrations.models import Connection
from integrations.systems.registry import get_system
from tenants.models import Tenant

from . import selectors
from .models import AlertSettings

#: The window of the failures alert.
FAILURE_WINDOW = dt.timedelta(hours=1)


class AlertKind(StrEnum):
    FAILURES = "failures"
    DEAD_LETTERS = "dead_letters"
    WEBHOOK_SILENT = "webhook_silent"
    CONNECTION_FAILING = "connection_failing"


@dataclass(frozen=True)
class Alert:
    """One firing alert.

    ``key`` names what is wrong, not how much (``"failures"``, ``"webhook_silent:12:webcrm"``): the digest compares
    keys, so a count that moves from 14 to 15 is the same alert. ``link`` is a path inside the tenant
    (``/t/<slug>/log/?action=failed``) and ``link_text`` says where it leads.
    """

    kind: AlertKind
    key: str
    sentence: str
    link: str
    link_text: str


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


def _when(at: dt.datetime, now: dt.datetime) -> str:
    """A time in the installation's zone: ``14:05`` today, ``28 Nov 14:05`` another day."""
    local, today = timezone.localtime(at), timezone.localtime(now).date()
    return f"{local:%H:%M}" if local.date() == today else f"{local.day} {local:%b %H:%M}"


def _tenant_url(name: str, tenant: Tenant, **kwargs: object) -> str:
    return reverse(name, kwargs={"tenant_slug": tenant.slug, **kwargs})


def failures_alert(*, tenant: Tenant, count: int, threshold: int) -> Alert | None:
    """Fires when ``count`` unresolved failures of the last hour reach ``threshold``."""
    if count < threshold:
        return None
    return Alert(kind=AlertKind.FAILURES, key=AlertKind.FAILURES,
                 sentence=f"{_plural(count, 'change', 'changes')} failed in the last hour (threshold {threshold}).",
                 link=_tenant_url("log-list", tenant) + "?action=failed&unresolved=on",
                 link_text="Failed changes in the sync log")


def dead_letters_alert(*, tenant: Tenant, count: int, threshold: int) -> Alert | None:
    """Fires when ``count`` dead letters reach ``threshold``."""
    if count < threshold:
        return None
    waits = "waits" if count == 1 else "wait"
    return Alert(kind=AlertKind.DEAD_LETTERS, key=AlertKind.DEAD_LETTERS,
                 sentence=f"{_plural(count, 'change', 'changes')} {waits} as dead letters for a person to replay "
                          f"(threshold {threshold}).",
                 link=_tenant_url("dead-letter-list", tenant), link_text="Dead letters")


def webhook_silent_alert(*, tenant: Tenant, silence: selectors.NoticeSilence, hours: int, now: dt.datetime
                         ) -> Alert | None:
    """Fires when ``silence``'s system sent no notice for at least ``hours`` hours while a reconciliation or polling
    found changes from it in those hours. Quiet alone is no alert (nothing may have changed); changes found alone
    are none either (notices arrive, a few were missed)."""
    window = dt.timedelta(hours=hours)
    if now - silence.quiet_since < window or not (silence.found_by_reconcile or silence.found_by_poll):
        return None
    integration, system = silence.integration, silence.system_name
    if silence.last_notice_at is None:
        quiet = f"{system} has never sent a notice to “{integration.name}”"
    else:
        quiet_hours = int((now - silence.last_notice_at) / dt.timedelta(hours=1))
        quiet = f"{system} has sent no notice to “{integration.name}” for {_plural(quiet_hours, 'hour', 'hours')}"
    found = []
    if silence.found_by_reconcile:
        at = f" at {_when(silence.reconciled_at, now)}" if silence.reconciled_at else ""
        found.append(f"the reconciliation{at} found {_plural(silence.found_by_reconcile, 'change', 'changes')} "
                     f"webhooks had missed")
    if silence.found_by_poll:
        found.append(f"polling found {_plural(silence.found_by_poll, 'change', 'changes')} in that time")
    channel = "webhook" if get_system(silence.system).has_webhooks else "change stream"
    return Alert(kind=AlertKind.WEBHOOK_SILENT, key=f"{AlertKind.WEBHOOK_SILENT}:{integration.pk}:{silence.system}",
                 sentence=f"{quiet}, but {' and '.join(found)} — its {channel} is probably not working.",
                 link=_tenant_url("webhook-health", tenant, integration_id=integration.pk),
                 link_text=f"Webhook health of {integration.name}")


def connection_failing_alert(*, tenant: Tenant, connection: Connection, now: dt.datetime) -> Alert:
    """The alert of a connection whose credentials the vendor refuses."""
    since = f" since {_when(connection.failing_since, now)}" if connection.failing_since else ""
    return Alert(kind=AlertKind.CONNECTION_FAILING, key=f"{AlertKind.CONNECTION_FAILING}:{connection.pk}",
                 sentence=f"{connection.get_system_display()} refuses the credentials of the connection "
                          f"“{connection.name}”{since}: nothing of it syncs until they are corrected.",
                 link=_tenant_url("connection-list", tenant), link_text="Connections")


def alerts_firing(*, tenant: Tenant, now: dt.datetime | None = None, settings: AlertSettings | None = None
                  ) -> list[Alert]:
    """The alerts of ``tenant`` firing at ``now`` (default: now), in the order of the kinds above.

    ``settings`` defaults to the tenant's saved ones (or the defaults). Kinds switched off are not evaluated.
    """
    now = now or timezone.now()
    settings = settings or selectors.alert_settings_get(tenant=tenant)
    firing: list[Alert | None] = []
    if settings.failures_enabled:
        count = selectors.failures_unresolved_count(tenant=tenant, since=now - FAILURE_WINDOW)
        firing.append(failures_alert(tenant=tenant, count=count, threshold=settings.failures_threshold))
    if settings.dead_letters_enabled:
        firing.append(dead_letters_alert(tenant=tenant, count=selectors.dead_letters_count(tenant=tenant),
                                         threshold=settings.dead_letters_threshold))
    if settings.webhook_silent_enabled:
        hours = settings.webhook_silent_hours
        for silence in selectors.notice_silences(tenant=tenant, since=now - dt.timedelta(hours=hours)):
            firing.append(webhook_silent_alert(tenant=tenant, silence=silence, hours=hours, now=now))
    if settings.connection_failing_enabled:
        firing.extend(connection_failing_alert(tenant=tenant, connection=connection, now=now)
                      for connection in selectors.connections_failing(tenant=tenant))
    return [alert for alert in firing if alert is not None]
