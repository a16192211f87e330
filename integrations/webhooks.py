"""The inbound webhook endpoint: one URL per integration and system, authenticated by its token.

The answer is 2xx only after the events are committed; malformed input is a 400, a wrong token or
an unknown integration a 404, an oversized body a 413 — and none of those stores an event.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .engine.intake import WebhookSource, webhook_error_record, webhook_events_store, webhook_source
from .models import Connection
from .systems.errors import WebhookRejected
from .systems.registry import get_system

logger = logging.getLogger(__name__)


def _not_found() -> JsonResponse:
    return JsonResponse({"error": "No such webhook. Check the URL shown on the integration's webhook page."},
                        status=404)


def _refused(source: WebhookSource, message: str, status: int) -> JsonResponse:
    webhook_error_record(integration_id=source.integration_id, tenant_id=source.tenant_id, system=source.system,
                         message=message)
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST", "PUT"])
def webhook_receive(request: HttpRequest, system: str, token: str) -> JsonResponse:
    """Vendors call this; GET is allowed because some (Uniconta without "Post") send only a query string."""
    try:
        provider = get_system(system)
    except LookupError:
        return _not_found()
    source = webhook_source(system=system, token=token) if provider.has_webhooks else None
    if source is None:
        return _not_found()
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.WEBHOOK_MAX_BYTES:
        return _refused(source, f"The notification was {length} bytes; at most {settings.WEBHOOK_MAX_BYTES} "
                                "are accepted.", 413)
    secret = None
    if provider.signs_webhooks:
        credentials = Connection.objects.get(pk=source.connection_id).credentials
        secret = credentials.get("signing_secret") or None
    try:
        events = provider.parse_webhook(body=request.body, headers=request.headers, query=request.GET, secret=secret)
    except WebhookRejected as rejected:
        return _refused(source, rejected.message, rejected.status)
    outcome = webhook_events_store(source=source, events=events)
    # webhook_events_store ran in its own transaction: the events are committed before we answer.
    return JsonResponse({"stored": len(outcome.stored) - outcome.coalesced, "coalesced": outcome.coalesced,
                         "ignored": outcome.dropped}, status=200)
