"""Read what webCRM posts to a hook's ``TargetUrl`` into events the engine understands; register the hooks.

webCRM does not document the body of a hook call, nor does it sign it: the integration's
unguessable URL token is what authenticates the caller (checked by the inbound view). A hook is made per
entity and event (spec ``OrganisationHookDto`` & co.: one ``EventType`` each), so Synkro registers one
``TargetUrl`` per entity and event, naming both in the query (``?entity=Organisation&event=Update``): what
happened is known from the URL whatever the body holds. The parser reads

* a notice naming entity, event and id, e.g. ``{"HookId", "EventType", "EntityType", "EntityId", "Data"}``;
* the bare record (``{"OrganisationId": 5, ...}``);
* a list of either.

The engine re-reads every record; the body only says which. Where the URL and the body name different
entities or events, the call is refused. A quotation-line change is also reported as a change of its
delivery, since deliveries carry their lines. Anything else is refused with :class:`WebhookRejected`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..base import WebhookAction, WebhookEvent
from ..catalog import Entity
from ..errors import WebhookRejected

#: webCRM's entity names in any of the forms a notification may use → Synkro's entity.
ENTITIES: dict[str, Entity] = {}
for _names, _entity in (
    (("organisation", "organisations", "organization"), Entity.ORGANISATION),
    (("person", "persons"), Entity.PERSON),
    (("delivery", "deliveries"), Entity.DELIVERY),
    (("quotationline", "quotationlines"), Entity.DELIVERY_LINE),
    (("user", "users"), Entity.USER),
):
    ENTITIES.update(dict.fromkeys(_names, _entity))
#: The id field that names each entity in a bare record.
#: (``/Products`` are not Synkro's items: those live in the quotation-line register, which has no hooks.)
ID_FIELDS = {"OrganisationId": Entity.ORGANISATION, "PersonId": Entity.PERSON,
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
    """The events of one hook call; ``secret`` is unused because webCRM does not sign.

    ``query`` is the registered ``TargetUrl``'s: ``entity`` and ``event`` there say which hook fired.
    """
    try:
        payload = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("webCRM hook body is not JSON") from None
    except RecursionError:
        raise WebhookRejected("webCRM hook body is nested too deeply to read") from None
    notifications = payload if isinstance(payload, list) else [payload]
    if not notifications:
        raise WebhookRejected("webCRM hook body is empty")
    url_event = _lookup(query, ("event", "EventType"))
    url_entity = _lookup(query, ("entity", "EntityType"))
    fallback_event = url_event or _lookup(headers, ("EventType", "X-Event-Type"))
    events: list[WebhookEvent] = []
    for notification in notifications:
        events.extend(_events(notification, fallback_event, url_entity, from_url=url_event is not None))
    return events


def _events(notification: Any, fallback_event: str | None, url_entity: str | None, *,
            from_url: bool = False) -> list[WebhookEvent]:
    if not isinstance(notification, dict):
        raise WebhookRejected("webCRM hook notification is not an object")
    keys = {key.lower(): key for key in notification}
    data = next((notification[keys[k.lower()]] for k in DATA_KEYS
                 if k.lower() in keys and isinstance(notification[keys[k.lower()]], dict)), None)
    record = data if data is not None else notification

    named_entity = _lookup(notification, ENTITY_KEYS, only_text=True)
    entity = _entity(url_entity or named_entity, record)
    if url_entity and named_entity and _entity(named_entity, record) != entity:
        raise WebhookRejected(f"webCRM hook for {url_entity} carries a notice about {named_entity!r}")
    named_event = _lookup(notification, EVENT_KEYS, only_text=True)
    action = _action(fallback_event if from_url else (named_event or fallback_event))
    if from_url and named_event and _action(named_event) != action:
        raise WebhookRejected(f"webCRM hook for {fallback_event} events carries a {named_event!r} notice")
    record_id = _id_of(entity, record)
    external_id = _lookup(notification, ID_KEYS) or record_id
    if external_id is None or not str(external_id).strip():
        raise WebhookRejected(f"webCRM hook notification names no {entity} id")
    external_id = webcrm_id(external_id)
    if record_id not in (None, "") and webcrm_id(record_id) != external_id:
        raise WebhookRejected(f"webCRM hook notification names two {entity} ids")

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
    id_field = next((field for field, candidate in ID_FIELDS.items() if candidate == entity), None)
    return record.get(id_field) if id_field else None


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
#: Entities webCRM has hooks for (spec ``/{Resource}/Hooks``): resource path and the singular the URL names.
#: The item register (``/QuotationLines/LinkedData``) has none; items come from the ERP.
HOOK_RESOURCES: dict[Entity, tuple[str, str]] = {
    Entity.ORGANISATION: ("Organisations", "Organisation"), Entity.PERSON: ("Persons", "Person"),
    Entity.DELIVERY: ("Deliveries", "Delivery"), Entity.DELIVERY_LINE: ("QuotationLines", "QuotationLine"),
    Entity.USER: ("Users", "User"),
}
HOOK_PAGE_SIZE = 1000


def hook_target(url: str, entity: Entity, event_type: str) -> str:
    """Synkro's URL for one entity and event: ``…/hooks/webcrm/<token>/?entity=Organisation&event=Update``."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("entity", HOOK_RESOURCES[Entity(entity)][1]),
             ("event", event_type)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _is_ours(hook: Mapping[str, Any], url: str) -> bool:
    """A hook calling ``url``, in the per-event form or the older single-URL form."""
    target = str(hook.get("TargetUrl") or "")
    return target == url or target.startswith(f"{url}?") or target.startswith(f"{url}&")


def _hooks(client: Any, path: str) -> list[dict[str, Any]]:
    """Every hook of a resource; ``GET /{Resource}/Hooks`` is paged like the records (spec)."""
    hooks: list[dict[str, Any]] = []
    page = 1
    while True:
        rows = client.json("GET", f"/{path}/Hooks", params={"Page": page, "Size": HOOK_PAGE_SIZE}) or []
        if not isinstance(rows, list) or not rows:
            return hooks
        hooks.extend(row for row in rows if isinstance(row, dict))
        if len(rows) < HOOK_PAGE_SIZE:
            return hooks
        page += 1


def _hook_body(target: str, event_type: str, *, hook_id: int = 0, enabled: bool = True) -> dict[str, Any]:
    """A hook as the spec's ``…HookDto`` requires it: ``Id``, ``TargetUrl``, ``Filter`` and ``IsEnabled``."""
    return {"Id": hook_id, "TargetUrl": target, "EventType": event_type, "Filter": ["All"], "IsEnabled": enabled}


def register_webhooks(client: Any, url: str, entities: list[Entity]) -> str:
    """One hook per entity and event calling ``hook_target``; Synkro's other hooks of ``url`` are removed.

    Idempotent: hooks in place are kept, a disabled one is switched on, a duplicate or one in the older
    single-URL form (which cannot say which event fired) is deleted. Says what it did.
    """
    made = removed = switched_on = 0
    notes: list[str] = []
    for entity in dict.fromkeys(Entity(e) for e in entities):
        if entity not in HOOK_RESOURCES:
            if entity == Entity.ITEM:
                notes.append("webCRM has no hooks for its item register; items come from the other system")
            continue
        path, _ = HOOK_RESOURCES[entity]
        wanted = {event_type: hook_target(url, entity, event_type) for event_type in HOOK_EVENT_TYPES}
        in_place: set[str] = set()
        for hook in _hooks(client, path):
            if not _is_ours(hook, url):
                continue
            event_type = hook.get("EventType")
            if hook.get("TargetUrl") == wanted.get(event_type) and event_type not in in_place:
                in_place.add(event_type)
                if not hook.get("IsEnabled"):
                    client.request("PUT", f"/{path}/Hooks/{int(hook['Id'])}",
                                   json=_hook_body(wanted[event_type], event_type, hook_id=int(hook["Id"])))
                    switched_on += 1
                continue
            client.request("DELETE", f"/{path}/Hooks/{int(hook['Id'])}")
            removed += 1
        for event_type, target in wanted.items():
            if event_type not in in_place:
                client.request("POST", f"/{path}/Hooks", json=_hook_body(target, event_type))
                made += 1
    done = [f"{count} hook{'s' if count != 1 else ''} {what}" for count, what in
            ((made, "added"), (switched_on, "switched on"), (removed, "removed")) if count]
    message = f"webCRM: {', '.join(done)}" if done else "webCRM: every hook was in place"
    return "; ".join([message, *notes])


def unregister_webhooks(client: Any, url: str, entities: list[Entity] | None = None) -> str:
    """Delete every hook calling ``url`` (any event, either URL form) of ``entities`` (all by default)."""
    removed = 0
    chosen = HOOK_RESOURCES if entities is None else [Entity(e) for e in entities if Entity(e) in HOOK_RESOURCES]
    for entity in chosen:
        path, _ = HOOK_RESOURCES[entity]
        for hook in _hooks(client, path):
            if _is_ours(hook, url):
                client.request("DELETE", f"/{path}/Hooks/{int(hook['Id'])}")
                removed += 1
    return f"webCRM: {removed} hook{'s' if removed != 1 else ''} removed" if removed else "webCRM: no hook to remove"
