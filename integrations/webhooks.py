"""The inbound webhook endpoint: one URL per integration and system, authenticated by its token.

The answer is 2xx only after the events are committed; malformed input is a 400, a wrong token or
an unknown integration a 404, an oversized body a 413 — and none of those stores an event.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .engine.ingest import webhook_error_record, webhook_events_store
from .models import Integration
from .systems.errors import WebhookRejected
from .systems.registry import get_system

logger = logging.getLogger(__name__)


def _not_found() -> JsonResponse:
    return JsonResponse({"error": "No such webhook. Check the URL shown on the integration's webhook page."},
                        status=404)


def integration_for_token(*, system: str, token: str) -> Integration | None:
    """The active integration owning ``token`` and a connection of ``system``; compared in constant time."""
    candidate = (Integration.objects.select_related("crm_connection", "erp_connection")
                 .filter(webhook_token=token, active=True, tenant__active=True).first())
    if candidate is None or not hmac.compare_digest(candidate.webhook_token.encode(), token.encode()):
        return None
    if system not in (candidate.crm_connection.system, candidate.erp_connection.system):
        return None
    return candidate


@csrf_exempt
@require_http_methods(["GET", "POST", "PUT"])
def webhook_receive(request: HttpRequest, system: str, token: str) -> JsonResponse:
    """Vendors call this; GET is allowed because some (Uniconta without "Post") send only a query string."""
    try:
        provider = get_system(system)
    except LookupError:
        return _not_found()
    integration = integration_for_token(system=system, token=token)
    if integration is None or not provider.has_webhooks:
        return _not_found()
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.WEBHOOK_MAX_BYTES:
        message = f"The notification was {length} bytes; at most {settings.WEBHOOK_MAX_BYTES} are accepted."
        webhook_error_record(integration=integration, system=system, message=message)
        return JsonResponse({"error": message}, status=413)
    body = request.body
    connection = integration.crm_connection if integration.crm_connection.system == system \
        else integration.erp_connection
    secret = (connection.credentials.get("signing_secret") or None) if provider.signs_webhooks else None
    try:
        events = provider.parse_webhook(body=body, headers=request.headers, query=request.GET, secret=secret)
    except WebhookRejected as rejected:
        webhook_error_record(integration=integration, system=system, message=rejected.message)
        return JsonResponse({"error": rejected.message}, status=rejected.status)
    outcome = webhook_events_store(integration=integration, system=system, events=events)
    # webhook_events_store ran in its own transaction: the events are committed before we answer.
    return JsonResponse({"stored": len(outcome.stored) - outcome.coalesced, "coalesced": outcome.coalesced,
                         "ignored": outcome.dropped}, status=200)
