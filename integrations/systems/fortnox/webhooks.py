"""Fortnox change events, as its WebSocket API streams them, turned into Synkro's events.

Fortnox sends no HTTP webhooks: it is polled with ``lastmodified``. Its WebSocket API
(``wss://ws.fortnox.se/topics-v1``) streams one small JSON event per change::

    {"topic": "customers", "offset": "xDy7J", "type": "customer-updated-v1",
     "tenantId": 29302, "entityId": "1042", "timestamp": "2024-05-02T09:41:16.500+02:00"}

A WebSocket listener hands each message here. Events carry no signature; the listener is
authenticated by Fortnox instead, so the check that stands in for one is the tenant: pass the
connection's tenant id as ``secret`` and events of any other tenant are rejected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..base import WebhookAction, WebhookEvent
from ..catalog import Entity
from ..errors import WebhookRejected

TOPIC_ENTITIES: dict[str, tuple[str, Entity]] = {
    "customers": ("customer", Entity.ORGANISATION),
    "articles": ("article", Entity.ITEM),
    "orders": ("order", Entity.DELIVERY),
    "invoices": ("invoice", Entity.INVOICE),
}
#: Event verbs and what they mean for the record; bookkeeping, cancelling and crediting change it.
VERBS: dict[str, WebhookAction] = {
    "created": WebhookAction.CREATED,
    "updated": WebhookAction.UPDATED,
    "deleted": WebhookAction.DELETED,
    "bookkeep": WebhookAction.UPDATED,
    "cancel": WebhookAction.UPDATED,
    "cancelled": WebhookAction.UPDATED,  # order-cancelled-v1, invoice-cancelled-v1 (docs/vendors/fortnox.md)
    "credit": WebhookAction.UPDATED,
}
EVENT_TYPE = re.compile(r"^(?P<name>[a-z]+)-(?P<verb>[a-z]+)-v(?P<version>\d+)$")
REQUIRED_KEYS = ("topic", "offset", "type", "tenantId", "entityId", "timestamp")
#: ``entityId`` is the record's number, a string in the spec (``Customer.CustomerNumber`` at most 1024,
#: ``Article.ArticleNumber`` at most 50, ``Order``/``Invoice.DocumentNumber``); Synkro holds ids of at most 120.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_ID_LENGTH = {"articles": 50}
DEFAULT_MAX_ID_LENGTH = 120


def fortnox_id(value: Any, topic: str) -> str:
    """An event's ``entityId`` as text: a string or integer without control characters that fits its field."""
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        raise WebhookRejected("Fortnox event lacks entityId")
    text = str(value).strip()
    limit = MAX_ID_LENGTH.get(topic, DEFAULT_MAX_ID_LENGTH)
    if _CONTROL.search(text):
        raise WebhookRejected("Fortnox event's entityId holds a control character")
    if len(text) > limit:
        raise WebhookRejected(f"Fortnox event's entityId is {len(text)} characters; {topic} numbers hold {limit}")
    return text


def parse_topic_event(*, body: bytes, headers: Mapping[str, str] | None = None,
                      query: Mapping[str, str] | None = None, secret: str | None = None) -> list[WebhookEvent]:
    """One event (or a list of events) from Fortnox's topics, checked and translated.

    Raises :class:`WebhookRejected` for malformed JSON, a missing key, an unknown topic or event
    type (payments, reminders and other entities Synkro does not sync), or another tenant's event.
    """
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("Fortnox event is not JSON") from None
    except RecursionError:
        raise WebhookRejected("Fortnox event is nested too deeply to read") from None
    messages = message if isinstance(message, list) else [message]
    if not messages:
        raise WebhookRejected("Fortnox sent no events")
    return [_event(item, secret) for item in messages]


def _event(message: Any, tenant_id: str | None) -> WebhookEvent:
    if not isinstance(message, dict):
        raise WebhookRejected("Fortnox event is not an object")
    missing = [key for key in REQUIRED_KEYS if message.get(key) in (None, "")]
    if missing:
        raise WebhookRejected(f"Fortnox event lacks {', '.join(missing)}")
    if tenant_id is not None and str(message["tenantId"]) != str(tenant_id):
        raise WebhookRejected("Fortnox event belongs to another tenant", status=403)
    topic = TOPIC_ENTITIES.get(str(message["topic"]))
    if topic is None:
        raise WebhookRejected(f"Fortnox topic {message['topic']!r} is not synced")
    match = EVENT_TYPE.match(str(message["type"]))
    if match is None or match["name"] != topic[0] or match["verb"] not in VERBS:
        raise WebhookRejected(f"Fortnox event type {message['type']!r} is not known for topic {message['topic']}")
    external_id = fortnox_id(message["entityId"], str(message["topic"]))
    return WebhookEvent(entity=topic[1], action=VERBS[match["verb"]], external_id=external_id, payload=dict(message))
