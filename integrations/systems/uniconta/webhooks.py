"""Uniconta's "Change URL" (Ændrings-URL) notifications, turned into Synkro webhook events.

Uniconta calls the configured URL with ``CompanyId``, ``Table``, ``RowId``, ``Key`` and ``Operation``
(Insert / Update / Delete) in the query string; with "Post" ticked the changed record comes as JSON in
the body. Uniconta signs nothing. The configuration row's free ``Argument`` comes back in the call, so
when a secret is configured for the connection it is expected there and compared in constant time.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any

from ..base import WebhookAction, WebhookEvent
from ..catalog import Entity
from ..errors import WebhookRejected
from .catalog import CHANGE_TABLES, uniconta_catalog

TABLE_ENTITIES: dict[str, Entity] = {table: entity for entity, table in CHANGE_TABLES.items()}
OPERATIONS = {"insert": WebhookAction.CREATED, "update": WebhookAction.UPDATED, "delete": WebhookAction.DELETED}
#: Tables whose rows have no key of their own: the engine addresses them by RowId.
ROW_ID_TABLES = frozenset({"Contact"})


def _param(query: Mapping[str, str], name: str) -> str:
    """Query parameters as Uniconta spells them, but forgiving about their case."""
    for key, value in query.items():
        if key.lower() == name.lower():
            return str(value if not isinstance(value, list) else value[0]).strip()
    return ""


def _record(body: bytes) -> dict[str, Any] | None:
    if not body or not body.strip():
        return None
    try:
        record = json.loads(body)
    except ValueError:
        raise WebhookRejected("The Uniconta change notification body is not JSON") from None
    if not isinstance(record, dict):
        raise WebhookRejected("The Uniconta change notification body is not a record")
    return record


def external_id(table: str, row_id: str, key: str, record: Mapping[str, Any] | None) -> str:
    """The id the engine passes to ``get_record``: the table's key (Account, Item, …), RowId for contacts."""
    entity = TABLE_ENTITIES[table]
    if table in ROW_ID_TABLES:
        return row_id
    if key:
        return key
    spec = uniconta_catalog().entity(entity)
    if record and spec and record.get(spec.id_field) not in (None, ""):
        return str(record[spec.id_field])
    raise WebhookRejected(f"The Uniconta change notification for {table} carries no key")


def parse_change_notification(*, body: bytes, headers: Mapping[str, str], query: Mapping[str, str],
                              secret: str | None = None) -> list[WebhookEvent]:
    """One Uniconta call is one changed row; reject anything that does not look like Uniconta's."""
    if secret:
        argument = _param(query, "Argument")
        if not hmac.compare_digest(argument.encode(), secret.encode()):
            raise WebhookRejected("The Uniconta change notification has the wrong Argument", status=403)
    table, operation = _param(query, "Table"), _param(query, "Operation")
    row_id, key = _param(query, "RowId"), _param(query, "Key")
    if not table or not operation or not row_id:
        raise WebhookRejected("A Uniconta change notification needs Table, RowId and Operation")
    if table not in TABLE_ENTITIES:
        raise WebhookRejected(f"Synkro does not sync the Uniconta table {table!r}")
    action = OPERATIONS.get(operation.lower())
    if action is None:
        raise WebhookRejected(f"Unknown Uniconta operation {operation!r}")
    if not row_id.isdigit():
        raise WebhookRejected(f"The Uniconta RowId {row_id!r} is not a number")
    record = _record(body)
    payload = {"CompanyId": _param(query, "CompanyId"), "Table": table, "RowId": int(row_id), "Key": key,
               "Operation": operation, "record": record}
    return [WebhookEvent(entity=TABLE_ENTITIES[table], action=action,
                         external_id=external_id(table, row_id, key, record), payload=payload)]


def register_webhooks(client: Any, url: str, entities: list[Entity]) -> str:
    """Add a Change URL row (with "Post" ticked) for each entity's table that does not call ``url`` yet."""
    existing = {(row.get("Table"), row.get("Url")) for row in client.query_rows("TableChangeEventClient")}
    missing = [{"Table": CHANGE_TABLES[Entity(e)], "Url": url, "UsePost": True} for e in entities
               if Entity(e) in CHANGE_TABLES and (CHANGE_TABLES[Entity(e)], url) not in existing]
    if missing:
        client.insert_rows("TableChangeEventClient", missing)
    tables = ", ".join(row["Table"] for row in missing)
    return f"Uniconta: change URL added for {tables}" if missing else "Uniconta: every change URL was in place"
