"""Customers 1st REST hooks: verify ``X-C1st-Webhook-Signature`` and say what changed.

A hook body is ``{"content": <the object>, "event": "customer.updated", "logid", "resthookid",
"storeid", "initiated", "metadata"}``; the signature is base64(HMAC-SHA256(body, signing secret)). The store's secret is
the config ``resthook_signing_secret``; Synkro learns or sets it when it registers its hooks
(:func:`ensure_signing_secret`) and refuses every notice it cannot verify with it.
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

SIGNATURE_HEADER = "X-C1st-Webhook-Signature"

#: The hook events' resource prefix → Synkro's entity.
EVENT_ENTITIES: dict[str, Entity] = {
    "customer": Entity.ORGANISATION,
    "product": Entity.ITEM,
    "pospayment": Entity.POS_SALE,
    "posbalance": Entity.DAILY_REPORT,
}

#: The events we subscribe to; Customers 1st documents only ``.created`` for payments and balances.
SUBSCRIBED_EVENTS: tuple[str, ...] = (
    "customer.created", "customer.updated", "customer.deleted",
    "product.created", "product.updated", "product.deleted",
    "pospayment.created", "posbalance.created",
)


#: Ids of customers, products, payments and balances are integers in the spec (``Customer.id`` …);
#: as text: ASCII digits, bounded by a signed 64-bit integer.
_ID = re.compile(r"[0-9]{1,19}")
MAX_ID = 2**63 - 1


def customers1st_id(value: Any, event: str) -> str:
    """A Customers 1st record id as text: a JSON integer or ASCII digits, from 1 to 2**63 - 1; else refused."""
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not _ID.fullmatch(text) or not 0 < int(text) <= MAX_ID:
        shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:40]}…"
        raise WebhookRejected(f"{event}: content id {shown} is not a Customers 1st id (a whole number)")
    return str(int(text))


def sign(body: bytes, secret: str) -> str:
    """The signature Customers 1st puts in ``X-C1st-Webhook-Signature``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def parse_webhook(*, body: bytes, headers: Mapping[str, str], query: Mapping[str, str],
                  secret: str | None = None) -> list[WebhookEvent]:
    """One REST hook call as one event; anything unsigned, malformed or unknown is rejected."""
    if secret:
        signature = _header(headers, SIGNATURE_HEADER)
        if not signature:
            raise WebhookRejected(f"Missing {SIGNATURE_HEADER}", status=401)
        if not hmac.compare_digest(signature.strip().encode(), sign(body, secret).encode()):
            raise WebhookRejected("Webhook failed signature check", status=401)
    try:
        payload: Any = json.loads(body or b"")
    except ValueError:
        raise WebhookRejected("Body is not JSON") from None
    except RecursionError:
        raise WebhookRejected("Body is nested too deeply to read") from None
    if not isinstance(payload, dict):
        raise WebhookRejected("Body is not a JSON object")
    event = payload.get("event")
    resource, _, verb = str(event or "").partition(".")
    entity = EVENT_ENTITIES.get(resource)
    if entity is None:
        raise WebhookRejected(f"Unknown event {event!r}")
    try:
        action = WebhookAction(verb)
    except ValueError:
        raise WebhookRejected(f"Unknown event {event!r}") from None
    content = payload.get("content")
    if not isinstance(content, dict) or content.get("id") in (None, ""):
        raise WebhookRejected(f"{event}: content has no id")
    return [WebhookEvent(entity=entity, action=action, external_id=customers1st_id(content["id"], str(event)),
                         payload=payload)]


#: Which REST-hook events speak of which entity.
EVENT_PREFIXES = {Entity.ORGANISATION: "customer.", Entity.ITEM: "product.", Entity.POS_SALE: "pospayment.",
                  Entity.DAILY_REPORT: "posbalance."}


#: The store config holding the key REST hooks are signed with (customers1st-rest-hooks.md "Validate Hooks").
SIGNING_SECRET_CONFIG = "resthook_signing_secret"  # noqa: S105 - a config key, not a secret


def ensure_signing_secret(client: Any) -> str:
    """The key the store signs its REST hooks with, known to the connection afterwards.

    ``POST /hooks`` takes only ``{event, url}`` and answers ``{id}``: a hook has no secret of its own. The store has
    one, the config ``resthook_signing_secret``, which the API reads and writes (``/settings/configs``). A
    connection with a secret keeps it; without one, the store's current secret is taken when it has one (so other
    receivers of the same store keep working), and only a store without any gets a new random secret. The secret
    is kept encrypted on the connection through ``client.update_credentials``.
    """
    secret = str(client.credentials.get("signing_secret") or "")
    if secret:
        return secret
    secret = str(client.store_configs().get(SIGNING_SECRET_CONFIG) or "")
    if not secret:
        secret = new_signing_secret()
        client.set_store_config(SIGNING_SECRET_CONFIG, secret)
    client.update_credentials(signing_secret=secret)
    return secret


def new_signing_secret() -> str:
    """A fresh random signing secret (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def register_webhooks(client: Any, url: str, entities: list[Entity]) -> str:
    """Make sure the connection knows the store's signing secret, then subscribe ``url`` to the REST-hook events of
    ``entities`` that it is not subscribed to yet."""
    ensure_signing_secret(client)
    existing = {(hook.get("event"), hook.get("url")) for hook in client.list_hooks()}
    prefixes = tuple(EVENT_PREFIXES[Entity(e)] for e in entities if Entity(e) in EVENT_PREFIXES)
    made = [event for event in SUBSCRIBED_EVENTS if event.startswith(prefixes) and (event, url) not in existing]
    for event in made:
        client.subscribe(event, url)
    return f"Customers 1st: subscribed to {', '.join(made)}" if made else "Customers 1st: every hook was in place"


def unregister_webhooks(client: Any, url: str, entities: list[Entity] | None = None) -> str:
    """Unsubscribe every REST hook calling ``url`` (of ``entities``' events; all by default) with
    ``DELETE /hooks/{id}`` (rest-hooks "To unsubscribe"). Says what it did."""
    prefixes = None if entities is None else tuple(EVENT_PREFIXES[Entity(e)] for e in entities
                                                   if Entity(e) in EVENT_PREFIXES)
    ours = [hook for hook in client.list_hooks() if hook.get("url") == url
            and (prefixes is None or str(hook.get("event") or "").startswith(prefixes))]
    for hook in ours:
        client.unsubscribe(hook["id"])
    if not ours:
        return "Customers 1st: no hook to remove"
    return f"Customers 1st: unsubscribed from {', '.join(str(hook.get('event')) for hook in ours)}"
