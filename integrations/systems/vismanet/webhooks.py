"""Parse and verify Visma.net ERP webhooks, as posted by the Visma Webhook Dispatcher.

The dispatcher signs the raw body: base64(HMAC-SHA256(subscription secret, body)) in the header
``x-vwd-signature-v1``, beside ``x-vwd-event-id``, ``x-vwd-tenant-id`` and friends. The body names the
event and the record; Synkro re-reads the record, so the body is never trusted as data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from typing import Any

from ..base import WebhookAction, WebhookEvent
from ..catalog import Entity
from ..errors import WebhookRejected

SIGNATURE_HEADER = "x-vwd-signature-v1"

#: Event name -> (entity, action). "Changed" fires on create and update alike, so it means "updated":
#: the engine re-reads the record and decides.
EVENTS: dict[str, tuple[Entity, WebhookAction]] = {
    "CustomerCreated": (Entity.ORGANISATION, WebhookAction.CREATED),
    "CustomerUpdated": (Entity.ORGANISATION, WebhookAction.UPDATED),
    "CustomerChanged": (Entity.ORGANISATION, WebhookAction.UPDATED),
    "InventoryItemCreated": (Entity.ITEM, WebhookAction.CREATED),
    "InventoryItemUpdated": (Entity.ITEM, WebhookAction.UPDATED),
    "InventoryItemChanged": (Entity.ITEM, WebhookAction.UPDATED),
    # The Sales Order service's publisher (visma.net.erp.salesorderservice): "Order created" / "Order updated"
    # (a deleted line counts as updated). entityId names the order as Synkro does: its number for type SO,
    # "<type>/<number>" otherwise.
    "OrderCreated": (Entity.DELIVERY, WebhookAction.CREATED),
    "OrderUpdated": (Entity.DELIVERY, WebhookAction.UPDATED),
    # The finance publisher's events of the retired /v1/salesorder endpoints.
    "SalesOrderChanged": (Entity.DELIVERY, WebhookAction.UPDATED),
    "SalesOrderStatusChanged": (Entity.DELIVERY, WebhookAction.UPDATED),
    "ArInvoiceChanged": (Entity.INVOICE, WebhookAction.UPDATED),
    "ArInvoiceStatusChanged": (Entity.INVOICE, WebhookAction.UPDATED),
    "EmployeeChanged": (Entity.USER, WebhookAction.UPDATED),
}


#: The records' numbers are strings in the spec (``CustomerDto.number``, ``InventoryDto.inventoryNumber``,
#: ``SalesOrderDto.orderNo``, ``CustomerInvoiceDto.referenceNumber``, ``EmployeeDto.employeeNumber``);
#: ``entityId`` carries one of them, so it is printable text (a JSON number is read as its digits).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_ID_LENGTH = 120


def vismanet_id(value: Any) -> str:
    """A notification's ``entityId`` as text: a string or integer without control characters, at most 120 long."""
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        raise WebhookRejected("Notification names no entityId")
    text = str(value).strip()
    if _CONTROL.search(text):
        raise WebhookRejected("The notification's entityId holds a control character")
    if len(text) > MAX_ID_LENGTH:
        raise WebhookRejected(f"The notification's entityId is {len(text)} characters; at most {MAX_ID_LENGTH}")
    return text


def signature(raw: bytes, secret: str) -> str:
    """What the dispatcher puts in ``x-vwd-signature-v1`` for this body."""
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def parse_webhook(*, body: bytes, headers: Mapping[str, str], query: Mapping[str, str],
                  secret: str | None = None) -> list[WebhookEvent]:
    """One notification (or a list of them) -> events; anything unsigned, malformed or unknown is refused."""
    if secret:
        sent = _header(headers, SIGNATURE_HEADER)
        if not sent:
            raise WebhookRejected(f"Missing {SIGNATURE_HEADER} header", status=401)
        if not hmac.compare_digest(sent.strip(), signature(body, secret)):
            raise WebhookRejected("Signature does not match the body", status=401)
    try:
        parsed: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("Body is not JSON") from None
    except RecursionError:
        raise WebhookRejected("Body is nested too deeply to read") from None
    notifications = parsed if isinstance(parsed, list) else [parsed]
    if not notifications:
        raise WebhookRejected("No notifications in the body")
    return [_event(notification) for notification in notifications]


def _event(notification: Any) -> WebhookEvent:
    if not isinstance(notification, dict):
        raise WebhookRejected("A notification must be a JSON object")
    name = notification.get("event")
    if not isinstance(name, str) or not name:
        raise WebhookRejected("Notification names no event")
    if name not in EVENTS:
        raise WebhookRejected(f"Unknown Visma.net event {name!r}")
    entity, action = EVENTS[name]
    return WebhookEvent(entity=entity, action=action, external_id=vismanet_id(notification.get("entityId")),
                        payload=notification)


INSTRUCTIONS = ("Visma.net webhooks are subscribed in Visma's Developer Portal: open your integration, choose "
                "Webhooks → Add subscription, paste the URL shown here and tick the Customer, Inventory item and AR "
                "invoice events of the Visma Net Financial publisher and the order events of the Sales Order "
                "service publisher. Then copy the subscription's signature key into the connection's "
                "\"Webhook signature key\" field: Synkro refuses every notice it cannot verify with that key.")


def new_signing_secret() -> str:
    """A fresh random key for signing notices (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def register_webhooks(client: Any, url: str, entities: list[Entity]) -> str:
    """Visma offers no API for subscriptions (Developer Portal only); the sandbox has an admin endpoint standing in
    for the portal. The subscription's signature key is the connection's ``signing_secret``; when the connection has
    none yet, one is made here and kept (encrypted) through ``client.update_credentials``, as pasting the portal's
    key would."""
    from .client import token_url_for

    if token_url_for(client.base_url).startswith("https://connect.visma.com"):
        raise NotImplementedError(INSTRUCTIONS)
    wanted = sorted(name for name, (entity, _) in EVENTS.items() if entity in {Entity(e) for e in entities})
    secret = str(client.credentials.get("signing_secret") or "")
    fresh = not secret
    if fresh:
        secret = new_signing_secret()
        client.update_credentials(signing_secret=secret)
    existing = client.json("GET", "/sandbox-admin/subscriptions") or []
    ours = [sub for sub in existing if sub.get("url") == url]
    if not fresh and any(set(wanted) <= set(sub.get("events") or ()) for sub in ours):
        return "Visma.net: the subscription was in place"
    for sub in ours:  # signed with a key we no longer hold, or missing events: replace it
        client.request("DELETE", f"/sandbox-admin/subscriptions/{sub['id']}")
    client.request("POST", "/sandbox-admin/subscriptions", json={"url": url, "events": wanted, "secret": secret})
    return f"Visma.net: subscribed to {len(wanted)} events, signed with the connection's signature key"


def unregister_webhooks(client: Any, url: str, entities: list[Entity] | None = None) -> str:
    """Visma offers no API for subscriptions (Developer Portal only, see ``INSTRUCTIONS``): against Visma itself this
    says how a person removes it (``NotImplementedError``). The sandbox's admin endpoint, standing in for the portal,
    deletes the subscriptions calling ``url``. ``entities`` is accepted for the common signature; a subscription
    is removed whole."""
    from .client import token_url_for

    if token_url_for(client.base_url).startswith("https://connect.visma.com"):
        raise NotImplementedError("Visma.net webhooks are removed in Visma's Developer Portal: open your integration, "
                                  "choose Webhooks and delete the subscription calling this integration's URL. Until "
                                  "then, notices that arrive are acknowledged and dropped.")
    ours = [sub for sub in client.json("GET", "/sandbox-admin/subscriptions") or [] if sub.get("url") == url]
    for sub in ours:
        client.request("DELETE", f"/sandbox-admin/subscriptions/{sub['id']}")
    return f"Visma.net: {len(ours)} subscription{'s' if len(ours) != 1 else ''} removed" if ours else \
        "Visma.net: no subscription to remove"
