"""Fortnox's change stream into Synkro: which connections to listen to, and storing what they announce.

The listener (``manage.py fortnox_listen``, :mod:`integrations.systems.fortnox.stream`) calls these from a
worker thread. An event goes the webhooks' way (:func:`.intake.webhook_events_store`: checked, coalesced
per record, counted on the webhook health screen, handed to the workers) and its topic's offset is kept in
the same transaction, so an offset is never ahead of what is stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

from integrations.models import Connection, Integration, StreamOffset
from integrations.systems.base import WebhookEvent
from integrations.systems.errors import WebhookRejected
from integrations.systems.fortnox.stream import Subscription
from integrations.systems.fortnox.webhooks import TOPIC_ENTITIES, parse_topic_event
from mappings.models import EntitySync, WebhookToggle

from .intake import WebhookSource, webhook_events_check, webhook_events_store
from .poll import poll_sources

logger = logging.getLogger(__name__)

SYSTEM = "fortnox"
TOPIC_BY_ENTITY = {str(entity): topic for topic, (_name, entity) in TOPIC_ENTITIES.items()}
#: Acted on unless a webhook toggle of the integration says otherwise; deletes only when switched on.
DEFAULT_ACTIONS = {"created": True, "updated": True, "deleted": False}
_OFFSET_MAX = StreamOffset._meta.get_field("offset").max_length


def _listening_integrations(connection_id: int | None = None):
    integrations = (Integration.objects.filter(erp_connection__system=SYSTEM, active=True, tenant__active=True)
                    .select_related("crm_connection", "erp_connection"))
    if connection_id is not None:
        integrations = integrations.filter(erp_connection_id=connection_id)
    return integrations


def _streamed_entities(integration: Integration) -> list[str]:
    """The entities whose Fortnox changes this integration brings over (the ones polling would read)."""
    syncs = EntitySync.objects.filter(integration=integration).exclude(direction="off")
    return [sync.entity for sync in syncs
            if sync.entity in TOPIC_BY_ENTITY and SYSTEM in poll_sources(integration, sync)]


def stream_subscriptions(*, stream_url_for: Callable[[Connection], str | None]) -> list[Subscription]:
    """One subscription per Fortnox connection that an active integration of an active tenant reads from.

    ``stream_url_for(connection)`` names the stream address of a connection, or None where it has none
    (then the connection is left to polling). Topics are those of the entities synced from Fortnox.
    """
    topics: dict[int, set[str]] = {}
    connections: dict[int, Connection] = {}
    for integration in _listening_integrations():
        entities = _streamed_entities(integration)
        if entities:
            connections[integration.erp_connection_id] = integration.erp_connection
            topics.setdefault(integration.erp_connection_id, set()).update(TOPIC_BY_ENTITY[e] for e in entities)
    subscriptions = []
    for key, connection in sorted(connections.items()):
        url = stream_url_for(connection)
        if not url:
            continue
        credentials = connection.credentials or {}
        chosen = tuple(sorted(topics[key]))
        fingerprint = hashlib.sha256(json.dumps([url, credentials.get("client_id"), credentials.get("client_secret"),
                                                 chosen]).encode()).hexdigest()[:16]
        subscriptions.append(Subscription(key=key, url=url, client_secret=str(credentials.get("client_secret", "")),
                                          topics=chosen, version=fingerprint))
    return subscriptions


def stream_access_token(*, connection_id: int, fresh: bool = False) -> str:
    """A current access token of the connection: the one its workers share, or with ``fresh`` (Fortnox refused
    the shared one) a new one from a refresh, which the workers then share too."""
    connection = Connection.objects.get(pk=connection_id, system=SYSTEM)
    client = connection.client()
    try:
        if fresh:
            client.refresh_auth()
        headers: dict[str, str] = {}
        client.authenticate(headers)
    finally:
        close = getattr(client, "close", None)
        if close is not None:
            close()
    return headers["Authorization"].removeprefix("Bearer ")


def stream_offsets(*, connection_id: int) -> dict[str, str]:
    """``{topic: offset}`` of the last events stored for the connection."""
    return dict(StreamOffset.objects.filter(connection_id=connection_id).values_list("topic", "offset"))


def _enabled(integration: Integration) -> frozenset[tuple[str, str]]:
    toggles = dict(((t.entity, t.action), t.enabled) for t in
                   WebhookToggle.objects.filter(integration=integration, system=SYSTEM))
    return frozenset((entity, action) for entity in _streamed_entities(integration)
                     for action, default in DEFAULT_ACTIONS.items() if toggles.get((entity, action), default))


def stream_event_store(*, connection_id: int, fortnox_tenant_id: str, message: dict[str, Any]) -> int:
    """Store one stream event for every integration reading the connection, and keep its topic's offset.

    ``fortnox_tenant_id`` is the Fortnox tenant the session was opened for; an event of another tenant, of a type
    Synkro does not sync (payments, reminders …) or malformed is stored for no integration but its offset
    is kept, so it is not asked for again. Returns how many events were stored (coalesced ones included).
    """
    try:
        events: list[WebhookEvent] = parse_topic_event(body=json.dumps(message).encode(), secret=fortnox_tenant_id)
        webhook_events_check(events=events)
    except WebhookRejected as rejected:
        logger.info("Fortnox stream event for connection %s not synced: %s", connection_id, rejected)
        events = []
    stored = 0
    with transaction.atomic():
        for integration in _listening_integrations(connection_id):
            if events:
                source = WebhookSource(integration_id=integration.pk, tenant_id=integration.tenant_id, system=SYSTEM,
                                       connection_id=connection_id, enabled=_enabled(integration))
                stored += len(webhook_events_store(source=source, events=events).stored)
        _offset_keep(connection_id=connection_id, topic=message.get("topic"), offset=message.get("offset"))
    return stored


def _offset_keep(*, connection_id: int, topic: Any, offset: Any) -> None:
    if topic not in TOPIC_ENTITIES or isinstance(offset, bool) or not isinstance(offset, str | int):
        return
    text = str(offset)
    if not text or len(text) > _OFFSET_MAX or not text.isprintable():
        logger.warning("Fortnox stream offset %r for connection %s cannot be kept", text[:40], connection_id)
        return
    tenant_id = Connection.objects.filter(pk=connection_id).values_list("tenant_id", flat=True).first()
    if tenant_id is None:
        return
    StreamOffset.objects.update_or_create(connection_id=connection_id, topic=topic,
                                          defaults={"offset": text, "tenant_id": tenant_id})
