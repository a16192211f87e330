"""Read what webCRM posts to a hook's ``TargetUrl`` into events the engine understands.

webCRM does not document the body of a hook call, nor does it sign it: the integration's
unguessable URL token is what authenticates the caller (checked by the inbound view). So this parser
is tolerant. It reads

* the notification Synkro's sandbox sends, ``{"HookId", "EventType", "EntityType", "EntityId", "Data"}``;
* a bare record (``{"OrganisationId": 5, ...}``) or a list of them, the REST-hook style, with the event
  taken from the URL Synkro registered (``?event=Update``) or an ``EventType`` header;
* a list of notifications.

A quotation-line change is also reported as a change of its delivery, since deliveries carry their
lines. Anything else is refused with :class:`WebhookRejected`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..base import WebhookAction, WebhookEvent
from ..catalog import Entity
from ..errors import WebhookRejected

#: webCRM's entity names in any of the forms a notification may use → Synkro's entity.
ENTITIES: dict[str, Entity] = {}
for _names, _entity in (
    (("organisation", "organisations", "organization"), Entity.ORGANISATION),
    (("person", "persons"), Entity.PERSON),
    (("product", "products"), Entity.ITEM),
    (("delivery", "deliveries"), Entity.DELIVERY),
    (("quotationline", "quotationlines"), Entity.DELIVERY_LINE),
    (("user", "users"), Entity.USER),
):
    ENTITIES.update(dict.fromkeys(_names, _entity))
#: The id field that names each entity in a bare record.
ID_FIELDS = {"OrganisationId": Entity.ORGANISATION, "PersonId": Entity.PERSON, "ProductId": Entity.ITEM,
             "DeliveryId": Entity.DELIVERY, "QuotationLineId": Entity.DELIVERY_LINE, "UserId": Entity.USER}
ACTIONS = {
    "create": WebhookAction.CREATED, "created": WebhookAction.CREATED, "insert": WebhookAction.CREATED,
    "update": WebhookAction.UPDATED, "updated": WebhookAction.UPDATED,
    "delete": WebhookAction.DELETED, "deleted": WebhookAction.DELETED,
}
ENTITY_KEYS = ("EntityType", "Entity", "EntityName", "Type", "ObjectType")
EVENT_KEYS = ("EventType", "Event", "Action", "HookEventType")
ID_KEYS = ("EntityId", "Id", "RecordId", "ObjectId")
DATA_KEYS = ("Data", "Entity", "Record", "Item")
#: webCRM ids are int32 (``OrganisationDto.OrganisationId`` and the others in the spec): ASCII digits only.
_ID = re.compile(r"[0-9]{1,10}")
MAX_ID = 2**31 - 1


def parse_webhook(*, body: bytes, headers: Mapping[str, str], query: Mapping[str, str],
                  secret: str | None = None) -> list[WebhookEvent]:
    """The events of one hook call; ``secret`` is unused because webCRM does not sign."""
    try:
        payload = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("webCRM hook body is not JSON") from None
    except RecursionError:
        raise WebhookRejected("webCRM hook body is nested too deeply to read") from None
    notifications = payload if isinstance(payload, list) else [payload]
    if not notifications:
        raise WebhookRejected("webCRM hook body is empty")
    fallback_event = _lookup(query, ("event", "EventType")) or _lookup(headers, ("EventType", "X-Event-Type"))
    fallback_entity = _lookup(query, ("entity", "EntityType"))
    events: list[WebhookEvent] = []
    for notification in notifications:
        events.extend(_events(notification, fallback_event, fallback_entity))
    return events


def _events(notification: Any, fallback_event: str | None, fallback_entity: str | None) -> list[WebhookEvent]:
    if not isinstance(notification, dict):
        raise WebhookRejected("webCRM hook notification is not an object")
    keys = {key.lower(): key for key in notification}
    data = next((notification[keys[k.lower()]] for k in DATA_KEYS
                 if k.lower() in keys and isinstance(notification[keys[k.lower()]], dict)), None)
    record = data if data is not None else notification

    entity_name = _lookup(notification, ENTITY_KEYS, only_text=True) or fallback_entity
    entity = _entity(entity_name, record)
    action = _action(_lookup(notification, EVENT_KEYS, only_text=True) or fallback_event)
    external_id = _lookup(notification, ID_KEYS) or _id_of(entity, record)
    if external_id is None or not str(external_id).strip():
        raise WebhookRejected(f"webCRM hook notification names no {entity} id")
    external_id = webcrm_id(external_id)

    events = [WebhookEvent(entity=entity, action=action, external_id=external_id, payload=notification)]
    delivery_id = record.get("QuotationLineOpportunityId") if entity == Entity.DELIVERY_LINE else None
    if delivery_id:  # the delivery changed with its line; the engine re-reads it whole
        events.append(WebhookEvent(entity=Entity.DELIVERY, action=WebhookAction.UPDATED,
                                   external_id=webcrm_id(delivery_id), payload=notification))
    return events


def webcrm_id(value: Any) -> str:
    """A webCRM record id as text: a JSON integer or ASCII digits, from 1 to 2**31 - 1; anything else is refused."""
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not _ID.fullmatch(text) or not 0 < int(text) <= MAX_ID:
        shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:40]}…"
        raise WebhookRejected(f"webCRM ids are numbers from 1 to {MAX_ID}, not {shown}")
    return str(int(text))


def _entity(name: str | None, record: Mapping[str, Any]) -> Entity:
    if name:
        entity = ENTITIES.get(name.strip().lower())
        if entity is None:
            raise WebhookRejected(f"webCRM hook for an entity Synkro does not sync: {name!r}")
        return entity
    found = [(field[: -len("Id")], entity) for field, entity in ID_FIELDS.items() if field in record]
    if not found:
        raise WebhookRejected("webCRM hook notification does not say which entity changed")
    # A line also carries its organisation's id: the record is the entity whose prefix most names carry.
    return max(found, key=lambda pair: sum(1 for key in record if key.startswith(pair[0])))[1]


def _action(name: str | None) -> WebhookAction:
    if not name:
        raise WebhookRejected("webCRM hook notification does not say what happened (EventType)")
    action = ACTIONS.get(name.strip().lower())
    if action is None:
        raise WebhookRejected(f"Unknown webCRM hook event {name!r}")
    return action


def _id_of(entity: Entity, record: Mapping[str, Any]) -> Any:
    id_field = next(field for field, candidate in ID_FIELDS.items() if candidate == entity)
    return record.get(id_field)


def _lookup(source: Mapping[str, Any] | None, names: Iterable[str], *, only_text: bool = False) -> Any:
    """A value by any of ``names``, ignoring case, as senders differ in spelling."""
    if not source:
        return None
    lowered = {str(key).lower(): value for key, value in source.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value is None or (only_text and not isinstance(value, str)):
            continue
        return value
    return None


HOOK_EVENT_TYPES = ("Create", "Update", "Delete")


def register_webhooks(client: Any, url: str, entities: list[Entity]) -> str:
    """Create the missing ``/{Entity}/Hooks`` of ``url`` (create, update and delete) for each entity."""
    from .client import RESOURCES

    made = 0
    for entity in entities:
        resource = RESOURCES.get(Entity(entity))
        if resource is None:
            continue
        existing = {(h.get("TargetUrl"), h.get("EventType")) for h in client.json("GET", f"/{resource.path}/Hooks")
                    or []}
        for event_type in HOOK_EVENT_TYPES:
            if (url, event_type) not in existing:
                client.request("POST", f"/{resource.path}/Hooks",
                               json={"TargetUrl": url, "EventType": event_type, "IsEnabled": True})
                made += 1
    return f"webCRM: {made} hook{'s' if made != 1 else ''} added" if made else "webCRM: every hook was in place"
