"""Visma.net's Sales Order service (SalesOrders API V3): where it lives, how orders are named, and their shapes.

Sales orders left the finance API: its ``/v1/salesorder`` endpoints reached end of life on 2026-03-31 and are
throttled since (docs.vismasoftware.no/vismanetapi/end-of-life-notices/salesorder-v1-v2). They live in a separate
service on its own host, ``https://salesorder.visma.net`` (…/api-reference/salesordersv3), described by its own
OpenAPI document (``Visma.net.ERP.SalesOrders.Api``; read in ON-IT/Visma.Net
``Visma.Net.SalesOrderNG/Visma.net.SalesOrder.nswag``). The facts Synkro relies on are listed in
``docs/vendors/vismanet.md`` ("Sales Order service"); in short:

* ``GET /api/v3/SalesOrders?pageSize&pageIndex&modifiedSince&customerId`` → ``{value: [SalesOrderListDto],
  nextPage, totalCount}``; ``pageIndex`` counts from 0, ``pageSize`` defaults to 100;
* ``GET /api/v3/SalesOrders/{type}/{orderId}`` → ``SalesOrderDto`` with an ``ETag``; its lines at
  ``…/lines`` (paged the same way, ``SalesOrderLineDto``);
* ``POST /api/v3/SalesOrders`` with ``NewSalesOrderCommand`` → 201 and ``Location`` ``…/SalesOrders/SO/000223``;
* ``PATCH /api/v3/SalesOrders/{type}/{orderId}`` (``PatchSalesOrderCommand``), ``PATCH …/lines``
  (``{lines: [{lineId, …}]}``), ``POST …/lines`` (``{lines: [NewSalesOrderLineDto]}``), ``DELETE …/lines?ids=``;
  each answers 202, and a change needs ``If-Match`` with the current ETag (428 without it, 412 when stale);
* values are plain JSON (no ``{"value": …}`` wrapping as in the finance API); a status change (``Cancelled`` …)
  goes alone in its PATCH.

An order is named by its type and number. Synkro's id of an order is the number alone for type ``SO`` (as the
finance API named it, so links made before the move stay valid) and ``<type>/<number>`` for any other type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

#: The Sales Order service of Visma's production cloud.
VISMA_SALES_ORDER_URL = "https://salesorder.visma.net"
API_PATH = "/api/v3/SalesOrders"
DEFAULT_TYPE = "SO"
#: The documented default ``pageSize`` of the order list.
PAGE_SIZE = 100
#: Scopes of the service (its OpenAPI ``securitySchemes.oauth2.flows.clientCredentials.scopes``).
SCOPES = ("visma.net.erp.salesorder:read", "visma.net.erp.salesorder:write")
#: Statuses ``PatchSalesOrderCommand.status`` takes (alone in its call).
PATCH_STATUSES = ("Open", "Hold", "BackOrder", "Cancelled", "Completed")

#: Synkro's flat header names (``SalesOrderDto``, dotted) → where a change goes in a New/Patch command.
HEADER_WRITES: dict[str, str] = {
    "date": "date", "requestOn": "requestOn", "currencyId": "currencyId", "description": "description",
    "customer.id": "customer.id", "customer.order": "customer.order", "customer.refNo": "customer.refNo",
}
#: The same for lines (``SalesOrderLineDto`` → ``NewSalesOrderLineDto`` / ``PatchSalesOrderLineDto``).
LINE_WRITES: dict[str, str] = {
    "inventory.id": "inventoryId", "description": "description", "quantity": "quantity",
    "unitOfMeasure": "unitOfMeasure", "unitPrice": "unitPrice", "discountPercent": "discountPercent",
    "warehouseId": "warehouseId",
}
#: Line fields a PATCH cannot change (``PatchSalesOrderLineDto`` has no ``inventoryId``): a new item is a new line.
LINE_FIXED = ("inventory.id",)


def sales_order_base_for(base_url: str) -> str:
    """Where a connection's sales orders are: Visma's service for a base URL on Visma's hosts, else beside the API.

    ``https://api.finance.visma.net`` → ``https://salesorder.visma.net`` (a fixed address, as the token URL is: the
    connection's credentials go to Visma's hosts only); a sandbox ``<site>/sandbox/vismanet`` →
    ``<site>/sandbox/vismanet/salesorder``, served by the same sandbox (same origin).
    """
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "visma.net" or host.endswith(".visma.net"):
        return VISMA_SALES_ORDER_URL
    return f"{base_url.rstrip('/')}/salesorder"


def order_key(record_id: str) -> tuple[str, str]:
    """Synkro's id of an order → ``(type, number)``: ``"000223"`` → ``("SO", "000223")``, ``"IN/7"`` → ``("IN", "7")``.
    """
    text = str(record_id).strip()
    kind, slash, number = text.partition("/")
    if slash and kind and number:
        return kind, number
    return DEFAULT_TYPE, text


def order_id(kind: str | None, number: str) -> str:
    """The inverse of :func:`order_key`."""
    kind = (kind or DEFAULT_TYPE).strip()
    return str(number) if kind == DEFAULT_TYPE else f"{kind}/{number}"


def order_path(record_id: str) -> str:
    kind, number = order_key(record_id)
    return f"{API_PATH}/{quote(kind, safe='')}/{quote(number, safe='')}"


def key_from_location(location: str) -> tuple[str, str]:
    """``Location: https://salesorder.visma.net/api/v3/SalesOrders/SO/000223`` → ``("SO", "000223")``."""
    parts = [p for p in urlsplit(location).path.split("/") if p]
    if len(parts) < 2:
        raise ValueError(f"not an order address: {location}")
    return parts[-2], parts[-1]


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted names → nested plain JSON (``{"customer.id": "1"}`` → ``{"customer": {"id": "1"}}``)."""
    body: dict[str, Any] = {}
    for dotted, value in flat.items():
        parts = dotted.split(".")
        node = body
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return body


def header_command(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Flat header changes → the plain body of a New/Patch command (names Visma takes, unknown names left out)."""
    return nest({HEADER_WRITES[name]: value for name, value in changes.items() if name in HEADER_WRITES})


def line_command(line: Mapping[str, Any], *, line_id: int | None = None) -> dict[str, Any]:
    """A flat line → ``NewSalesOrderLineDto`` (no id) or ``PatchSalesOrderLineDto`` (with ``lineId``)."""
    body = {LINE_WRITES[name]: value for name, value in line.items()
            if name in LINE_WRITES and not (line_id is not None and name in LINE_FIXED)}
    if line_id is not None:
        body = {"lineId": line_id, **body}
    return body
