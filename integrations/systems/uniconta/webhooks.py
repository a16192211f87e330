"""Uniconta's "Change URL" (Ændrings-URL) notifications, turned into Synkro webhook events.

Uniconta calls the configured URL with ``CompanyId``, ``Table``, ``RowId``, ``Key`` and ``Operation``
(Insert / Update / Delete) in the query string; with "Post" ticked the changed record comes as JSON in
the body. Uniconta signs nothing. The configuration row's free ``Argument`` comes back in the call, so
when a secret is configured for the connection it is expected there and compared in constant time.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from ..base import WebhookAction, WebhookEvent
from ..catalog import Entity, FieldType
from ..errors import WebhookRejected
from .catalog import CHANGE_TABLES, uniconta_catalog

TABLE_ENTITIES: dict[str, Entity] = {table: entity for entity, table in CHANGE_TABLES.items()}
OPERATIONS = {"insert": WebhookAction.CREATED, "update": WebhookAction.UPDATED, "delete": WebhookAction.DELETED}
#: Tables whose rows have no key of their own: the engine addresses them by RowId.
ROW_ID_TABLES = frozenset({"Contact"})
#: RowId and the numeric keys (OrderNumber, InvoiceNumber) are C# ``int``s: ASCII digits, at most 2**31 - 1.
_NUMBER = re.compile(r"[0-9]{1,10}")
MAX_NUMBER = 2**31 - 1
#: Text keys (Account, Item, Number) are printable text without control characters.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


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
    except RecursionError:
        raise WebhookRejected("The Uniconta change notification body is nested too deeply to read") from None
    if not isinstance(record, dict):
        raise WebhookRejected("The Uniconta change notification body is not a record")
    return record


def row_number(value: str, name: str = "RowId") -> str:
    """A Uniconta integer (RowId, an order or invoice number) as ASCII digits within ``int``; else refused."""
    if not _NUMBER.fullmatch(value) or int(value) > MAX_NUMBER:
        shown = repr(value) if len(value) <= 40 else f"{value[:40]!r}…"
        raise WebhookRejected(f"The Uniconta {name} {shown} is not a number from 0 to {MAX_NUMBER}")
    return str(int(value))


def table_key(table: str, value: str) -> str:
    """``value`` checked against the key field of ``table`` in the catalog: a number, or text that fits the field."""
    entity = TABLE_ENTITIES[table]
    spec = uniconta_catalog().entity(entity)
    field = uniconta_catalog().field(entity, spec.id_field) if spec else None
    name = spec.id_field if spec else "key"
    if field is not None and field.type == FieldType.INTEGER:
        return row_number(value, name)
    limit = field.max_length if field is not None and field.max_length else 120
    if _CONTROL.search(value) or value != value.strip():
        raise WebhookRejected(f"The Uniconta {table} {name} holds a control character or surrounding spaces")
    if len(value) > limit:
        raise WebhookRejected(f"The Uniconta {table} {name} is {len(value)} characters; it holds at most {limit}")
    return value


def external_id(table: str, row_id: str, key: str, record: Mapping[str, Any] | None) -> str:
    """The id the engine passes to ``get_record``: the table's key (Account, Item, …), RowId for contacts."""
    entity = TABLE_ENTITIES[table]
    if table in ROW_ID_TABLES:
        return row_id
    if key:
        return table_key(table, key)
    spec = uniconta_catalog().entity(entity)
    value = record.get(spec.id_field) if record and spec else None
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        raise WebhookRejected(f"The Uniconta change notification for {table} carries no key")
    return table_key(table, str(value).strip())


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
    row_id = row_number(row_id)
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


def unregister_webhooks(client: Any, url: str, entities: list[Entity] | None = None) -> str:
    """Delete the Change URL rows calling ``url`` (of ``entities``' tables; all tables by default) through the same
    CRUD face that adds them (``api/Entities/Delete/TableChangeEventClient``). Says what it did."""
    tables = None if entities is None else {CHANGE_TABLES[Entity(e)] for e in entities if Entity(e) in CHANGE_TABLES}
    ours = [row for row in client.query_rows("TableChangeEventClient")
            if row.get("Url") == url and (tables is None or row.get("Table") in tables)]
    for row in ours:
        client.delete_rows("TableChangeEventClient", [row])
    if not ours:
        return "Uniconta: no change URL to remove"
    return f"Uniconta: change URL removed for {', '.join(str(row.get('Table')) for row in ours)}"
