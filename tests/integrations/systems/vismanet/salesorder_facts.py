"""What Visma.net's Sales Order service (SalesOrders API V3) documents, as far as Synkro uses it.

The service's own description is not among the vendor files the other contract tests read; these facts were taken
from its OpenAPI document ``Visma.net.ERP.SalesOrders.Api`` 1.1.0.1279 as embedded in ON-IT/Visma.Net
``Visma.Net.SalesOrderNG/Visma.net.SalesOrder.nswag`` (commit 70d732d0, 2025-02-11) and from
docs.vismasoftware.no/vismanetapi/api-reference/salesordersv3 (host ``salesorder.visma.net``, PATCH, pageIndex,
modifiedSince, If-Match). docs/vendors/vismanet.md ("Sales Order service") lists them with their sources.

Each schema keeps only the properties Synkro reads or writes, with the description's types, lengths and
``additionalProperties: false`` where the description says so (so a misnamed field fails).
"""

from __future__ import annotations

from typing import Any

import jsonschema

S, N, INT = {"type": ["string", "null"]}, {"type": ["number", "null"]}, {"type": ["integer", "null"]}


def _s(max_length: int) -> dict[str, Any]:
    return {"type": ["string", "null"], "maxLength": max_length}


def _obj(properties: dict[str, Any], *, required: tuple[str, ...] = (), closed: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


#: The service's operations: (method, path template) → (request schema or None, documented success status).
CUSTOMER = {"id": S, "order": _s(40), "refNo": _s(40)}
NEW_LINE = _obj({"inventoryId": {"type": "string", "minLength": 1}, "description": _s(256), "quantity": N,
                 "unitOfMeasure": _s(6), "unitPrice": N, "discountPercent": {"type": ["number", "null"],
                                                                             "minimum": -100, "maximum": 100},
                 "discountAmount": N, "warehouseId": S}, required=("inventoryId",))
PATCH_LINE = _obj({"lineId": {"type": "integer"}, "description": _s(256), "quantity": N, "unitOfMeasure": _s(6),
                   "unitPrice": N, "discountPercent": {"type": ["number", "null"], "minimum": -100, "maximum": 100},
                   "discountAmount": N, "warehouseId": S}, required=("lineId",))
NEW_ORDER = _obj({"type": {"type": "string", "minLength": 1}, "orderId": _s(15), "currencyId": _s(5),
                  "date": S, "requestOn": S, "description": _s(255), "status": {"enum": [None, "", "Open", "Hold"]},
                  "customer": _obj(CUSTOMER), "orderLines": {"type": ["array", "null"], "items": NEW_LINE}},
                 required=("customer", "type"))
PATCH_ORDER = _obj({"date": S, "customer": _obj(CUSTOMER), "currencyId": _s(5), "description": _s(255),
                    "status": {"enum": [None, "Open", "Hold", "BackOrder", "Cancelled", "Completed"]},
                    "requestOn": S})
OPERATIONS: dict[tuple[str, str], tuple[dict[str, Any] | None, int]] = {
    ("GET", "/api/v3/SalesOrders"): (None, 200),
    ("POST", "/api/v3/SalesOrders"): (NEW_ORDER, 201),
    ("GET", "/api/v3/SalesOrders/{type}/{orderId}"): (None, 200),
    ("PATCH", "/api/v3/SalesOrders/{type}/{orderId}"): (PATCH_ORDER, 202),
    ("DELETE", "/api/v3/SalesOrders/{type}/{orderId}"): (None, 202),
    ("GET", "/api/v3/SalesOrders/{type}/{orderId}/lines"): (None, 200),
    ("PATCH", "/api/v3/SalesOrders/{type}/{orderId}/lines"): (_obj({"lines": {"type": ["array", "null"],
                                                                              "items": PATCH_LINE}}), 202),
    ("POST", "/api/v3/SalesOrders/{type}/{orderId}/lines"): (_obj({"lines": {"type": ["array", "null"],
                                                                             "items": NEW_LINE}}), 202),
    ("DELETE", "/api/v3/SalesOrders/{type}/{orderId}/lines"): (None, 202),
}
#: Query parameters each list takes (anything else is not the service's).
LIST_PARAMETERS = {
    "/api/v3/SalesOrders": {"customerId", "status", "modifiedSince", "pageSize", "pageIndex", "orderBy", "filter"},
    "/api/v3/SalesOrders/{type}/{orderId}": {"expand"},
    "/api/v3/SalesOrders/{type}/{orderId}/lines": {"pageSize", "pageIndex", "ids"},
}
#: Changes that must name the version they change (412 when stale, 428 without If-Match).
NEEDS_IF_MATCH = {("PATCH", "/api/v3/SalesOrders/{type}/{orderId}"),
                  ("PATCH", "/api/v3/SalesOrders/{type}/{orderId}/lines")}

#: Answers: the paged list and the read DTOs (the properties Synkro reads).
LIST_DTO = _obj({"type": S, "orderId": S, "status": S, "date": {"type": "string"}, "customerId": S,
                 "customerName": S, "orderTotal": {"type": "number"}, "taxTotal": {"type": "number"},
                 "currency": S, "requestOn": {"type": "string"}, "customerOrder": S, "customerRefNo": S,
                 "description": S, "lastModified": {"type": "string"}, "_links": {"type": ["object", "null"]},
                 "orderQty": {"type": "number"}, "shippingScheduledDate": {"type": "string"}, "location": S})
PAGED_ORDERS = _obj({"value": {"type": ["array", "null"], "items": LIST_DTO}, "nextPage": S, "totalCount": INT})
ORDER_DTO = _obj({
    "type": S, "orderId": S, "description": S, "date": {"type": "string"}, "lastModified": {"type": "string"},
    "requestOn": S, "currencyId": S, "version": S,
    "status": _obj({"description": S, "cancelled": {"type": "boolean"}, "hold": {"type": "boolean"}}),
    "customer": _obj({"internalId": {"type": "integer"}, "id": S, "name": S, "order": S, "refNo": S,
                      "contactId": INT, "taxZone": {"type": "object"}, "location": {"type": "object"}}),
    "totals": _obj({"orderTotal": {"type": "number"}, "taxableTotal": {"type": "number"},
                    "taxExemptTotal": {"type": "number"}, "taxTotal": {"type": "number"}}, closed=False),
}, closed=False)
LINE_DTO = _obj({"lineId": {"type": "integer"},
                 "inventory": _obj({"id": S, "description": S, "baseUnit": S}),
                 "description": S, "quantity": N, "unitOfMeasure": S, "unitPrice": N, "discountPercent": N,
                 "discountAmount": N, "extendedPrice": N, "warehouseId": S}, closed=False)
PAGED_LINES = _obj({"value": {"type": ["array", "null"], "items": LINE_DTO}, "nextPage": S, "totalCount": INT})
#: The read DTO a catalog field is read from, and the command it is written with.
READ_SCHEMAS = {"order": ORDER_DTO, "line": LINE_DTO}
WRITE_SCHEMAS = {"order": NEW_ORDER, "line": NEW_LINE}


def validate(schema: dict[str, Any], instance: Any, what: str) -> None:
    """``AssertionError`` naming the first differences when ``instance`` does not fit ``schema``."""
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        detail = "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
        raise AssertionError(f"{what} does not match the Sales Order service's description: {detail}")


def has_property(schema: dict[str, Any], dotted: str) -> bool:
    node = schema
    for part in dotted.split("."):
        node = (node.get("properties") or {}).get(part)
        if node is None:
            return False
    return True
