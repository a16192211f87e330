"""The inbound webhook endpoint: one URL per integration and system, authenticated by its token.

The answer is 2xx only after the events are committed; malformed input is a 400 (also a body nested
too deeply, an id of the wrong shape, a control character in an id or in text), a notice of a system that signs
its notices that is unsigned, wrongly signed or has no secret to be checked with a 401, a wrong token or an
unknown integration a 404, an oversized body or too many notices in one call a 413 — and none of
those stores an event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .engine.intake import (
    WebhookSource,
    webhook_error_record,
    webhook_events_check,
    webhook_events_store,
    webhook_paused_count,
    webhook_source,
)
from .models import Connection
from .systems.errors import WebhookRejected
from .systems.registry import get_system

logger = logging.getLogger(__name__)


def _not_found() -> JsonResponse:
    return JsonResponse({"error": "No such webhook. Check the URL shown on the integration's webhook page."},
                        status=404)


def _declared_length(request: HttpRequest) -> int | None:
    """The body length the caller declares (0 when it declares none); None for a garbled ``Content-Length``."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    return length if length >= 0 else None


def _too_large(length: int) -> str:
    return f"The notification was {length} bytes; at most {settings.WEBHOOK_MAX_BYTES} are accepted."


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
    if not source.active:
        # Paused: acknowledged, so the vendor stops retrying, counted on the health screen, and nothing stored.
        webhook_paused_count(source)
        return JsonResponse({"stored": 0, "paused": True,
                             "message": "This integration is paused in Synkro; the notice was not stored."},
                            status=200)
    length = _declared_length(request)
    if length is None:
        return _refused(source, "The Content-Length header is not a number of bytes.", 400)
    if length > settings.WEBHOOK_MAX_BYTES:
        return _refused(source, _too_large(length), 413)
    try:
        body = request.body
    except RequestDataTooBig:
        return _refused(source, _too_large(length), 413)
    if len(body) > settings.WEBHOOK_MAX_BYTES:
        return _refused(source, _too_large(len(body)), 413)
    secret = None
    if provider.signs_webhooks:
        credentials = Connection.objects.get(pk=source.connection_id).credentials
        secret = credentials.get("signing_secret") or None
        if not secret:  # a system that signs its notices is never taken at its word unsigned
            return _refused(source, f"{provider.name} signs its notices, but this connection has no webhook signing "
                                    "secret to check them with; enter it on the connection.", 401)
    try:
        events = provider.parse_webhook(body=body, headers=request.headers, query=request.GET, secret=secret)
        webhook_events_check(events=events)
    except WebhookRejected as rejected:
        return _refused(source, rejected.message, rejected.status)
    except RecursionError:  # the JSON decoder gave up on nesting deeper than the interpreter's stack allows
        return _refused(source, "The notification is nested too deeply to read.", 400)
    outcome = webhook_events_store(source=source, events=events)
    # webhook_events_store ran in its own transaction: the events are committed before we answer.
    return JsonResponse({"stored": len(outcome.stored) - outcome.coalesced, "coalesced": outcome.coalesced,
                         "ignored": outcome.dropped}, status=200)


@cache
def _hooks_prefix() -> str:
    """Where the webhook URLs start ("/hooks/"), from the URL conf."""
    return reverse("webhook-receive", args=["system", "token"]).split("system/", 1)[0]


class WebhookShortcutMiddleware:
    """Webhook calls go straight to :func:`webhook_receive`, past the middleware that serves people.

    Sessions, authentication, CSRF, messages, framing and content-security headers, htmx and login throttling do
    work on every request that a vendor's machine calling with a token needs none of (a fifth of a webhook
    call's time). Placed after ``SecurityMiddleware`` and ``SecretsInUrlMiddleware``, which still apply; the host
    is checked as ``CommonMiddleware`` checks it (a host outside ``ALLOWED_HOSTS`` is a 400). Any other address,
    or one under the prefix that is not a webhook URL, goes the whole way as before.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(_hooks_prefix()):
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            if match is not None and match.func is webhook_receive:
                request.get_host()  # DisallowedHost (a 400) for a host this installation does not serve
                request.resolver_match = match
                return webhook_receive(request, *match.args, **match.kwargs)
        return self.get_response(request)
