"""The Visma.net sandbox's Sales Order service (SalesOrders API V3), served under ``/salesorder`` beside the API.

Paths, bodies and answers follow the service's OpenAPI document as recorded in ``docs/vendors/vismanet.md``
("Sales Order service"): paged lists ``{value, nextPage, totalCount}`` with a zero-based ``pageIndex``, orders by
type and number, plain JSON commands, 201 + ``Location`` on create, 202 on changes, ``ETag`` on reads and changes
and ``If-Match`` required on every change (428 without it, 412 when stale), errors as ``ProblemDetails``. Orders are
kept by the company's store (:mod:`.sandbox_store`) in its own shape and translated here at the edge.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from ..catalog import Entity
from ..sandbox import SandboxError, json_response, read_json
from . import dto, salesorders
from .sandbox_store import StoreError, parse_stamp, to_json

PREFIX = "/salesorder" + salesorders.API_PATH
#: The most orders one page holds; a larger ``pageSize`` is refused with a 400 as the service documents.
MAX_PAGE_SIZE = 1000
MAX_LINE_PAGE_SIZE = 1000
#: Events of the Sales Order service publisher, on create and on change (delete of a line included).
ORDER_EVENTS = ("OrderCreated", "OrderUpdated")
#: Lengths the commands refuse beyond (NewSalesOrderCommand / PatchSalesOrderCommand ``maxLength``).
MAX_LENGTHS = {"description": 255, "currencyId": 5, "orderId": 15, "customer.order": 40, "customer.refNo": 40}


def problem(status: int, title: str, detail: str = "") -> SandboxError:
    """The service's error body (RFC 7807 ``ProblemDetails``)."""
    body = {"type": "https://tools.ietf.org/html/rfc7231", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    return SandboxError(status, body)


def sales_order_rules() -> list[Rule]:
    return [
        Rule(PREFIX, methods=["GET"], endpoint="orders_list"),
        Rule(PREFIX, methods=["POST"], endpoint="order_create"),
        Rule(f"{PREFIX}/<kind>/<number>", methods=["GET"], endpoint="order_get"),
        Rule(f"{PREFIX}/<kind>/<number>", methods=["PATCH"], endpoint="order_patch"),
        Rule(f"{PREFIX}/<kind>/<number>/lines", methods=["GET"], endpoint="order_lines"),
        Rule(f"{PREFIX}/<kind>/<number>/lines", methods=["PATCH"], endpoint="order_lines_patch"),
        Rule(f"{PREFIX}/<kind>/<number>/lines", methods=["POST"], endpoint="order_lines_add"),
        Rule(f"{PREFIX}/<kind>/<number>/lines", methods=["DELETE"], endpoint="order_lines_delete"),
    ]


def etag(row: Mapping[str, Any]) -> str:
    """An order's version: changes whenever anything in it changes."""
    return '"' + hashlib.sha256(json.dumps(to_json(row), sort_keys=True, default=str).encode()).hexdigest()[:20] + '"'


def order_dto(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored order as ``SalesOrderDto`` (customer expanded)."""
    customer = row.get("customer") or {}
    return to_json({
        "type": row.get("orderType"), "orderId": row.get("orderNo"), "description": row.get("description"),
        "date": row.get("date"), "lastModified": row.get("lastModifiedDateTime"), "requestOn": row.get("requestOn"),
        "currencyId": row.get("currency"),
        "status": {"description": row.get("status"), "hold": bool(row.get("hold")),
                   "cancelled": bool(row.get("canceled"))},
        "customer": {"id": customer.get("number"), "name": customer.get("name"), "order": row.get("customerOrder"),
                     "refNo": row.get("customerRefNo")},
        "totals": {"orderTotal": row.get("orderTotal", 0), "taxableTotal": row.get("vatTaxableTotal", 0),
                   "taxExemptTotal": row.get("vatExemptTotal", 0), "taxTotal": row.get("taxTotal", 0)},
        "version": etag(row),
    })


def order_list_dto(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored order as ``SalesOrderListDto``."""
    customer = row.get("customer") or {}
    return to_json({
        "type": row.get("orderType"), "orderId": row.get("orderNo"), "status": row.get("status"),
        "date": row.get("date"), "customerId": customer.get("number"), "customerName": customer.get("name"),
        "orderTotal": row.get("orderTotal", 0), "taxTotal": row.get("taxTotal", 0), "currency": row.get("currency"),
        "requestOn": row.get("requestOn") or row.get("date"), "customerOrder": row.get("customerOrder"),
        "customerRefNo": row.get("customerRefNo"), "description": row.get("description"),
        "lastModified": row.get("lastModifiedDateTime"),
    })


def line_dto(line: Mapping[str, Any]) -> dict[str, Any]:
    """A stored order line as ``SalesOrderLineDto``."""
    inventory = line.get("inventory") or {}
    return to_json({
        "lineId": line.get("lineNbr"), "inventory": {"id": inventory.get("number"),
                                                     "description": inventory.get("description")},
        "description": line.get("lineDescription"), "quantity": line.get("quantity"),
        "unitOfMeasure": line.get("uom"), "unitPrice": line.get("unitPrice"),
        "discountPercent": line.get("discountPercent"), "discountAmount": line.get("discountAmount"),
        "extendedPrice": line.get("extPrice"), "warehouseId": (line.get("warehouse") or {}).get("id"),
    })


#: ``NewSalesOrderLineDto`` / ``PatchSalesOrderLineDto`` names → the store's line write names.
_LINE_TO_STORE = {"inventoryId": "inventoryId", "description": "lineDescription", "quantity": "quantity",
                  "unitPrice": "unitPrice", "discountPercent": "discountPercent", "unitOfMeasure": "uom",
                  "warehouseId": "warehouse"}


def _line_operation(kind: str, line: Mapping[str, Any]) -> dict[str, Any]:
    flat = {_LINE_TO_STORE[k]: v for k, v in line.items() if k in _LINE_TO_STORE and v is not None}
    if kind != "Insert":
        flat["lineNbr"] = line.get("lineId")
    return {"operation": kind, **dto.wrap(flat)}


def _header_to_store(command: Mapping[str, Any]) -> dict[str, Any]:
    """A New/Patch command's header → the store's (value-wrapped) order body."""
    customer = command.get("customer") if isinstance(command.get("customer"), Mapping) else {}
    flat: dict[str, Any] = {}
    for source, target in (("date", "date"), ("requestOn", "requestOn"), ("currencyId", "currency"),
                           ("description", "description"), ("type", "orderType"), ("orderId", "orderNumber")):
        if command.get(source) is not None:
            flat[target] = command[source]
    for source, target in (("id", "customer"), ("order", "customerOrder"), ("refNo", "customerRefNo")):
        if customer.get(source) is not None:
            flat[target] = customer[source]
    status = command.get("status")
    if status in ("Hold", "Open"):
        flat["hold"] = status == "Hold"
    elif status == "Cancelled":
        flat["canceled"] = True
    elif status:
        raise problem(400, "One or more validation errors occurred.", f"The status '{status}' cannot be set here.")
    return dto.wrap(flat)


def _check_lengths(command: Mapping[str, Any]) -> None:
    flat = dto.flatten(command)
    for name, limit in MAX_LENGTHS.items():
        value = flat.get(name)
        if isinstance(value, str) and len(value) > limit:
            raise problem(400, "One or more validation errors occurred.",
                          f"'{name}' must be {limit} characters or fewer (it is {len(value)}).")


class SalesOrderService:
    """The routes of the Sales Order service; mixed into :class:`.sandbox.VismaNetSandbox`."""

    sales_order_rules = sales_order_rules()

    # -- helpers ----------------------------------------------------------------------------------
    def _orders_authorize(self, request: Request, *, write: bool) -> None:
        self._authorize(request, "write" if write else "read",  # type: ignore[attr-defined]
                        scope="visma.net.erp.salesorder")

    def _order_row(self, kind: str, number: str) -> dict[str, Any]:
        row = self.store.ledgers[Entity.DELIVERY].rows.get(str(number))  # type: ignore[attr-defined]
        if row is None or row.get("orderType") != kind:
            raise problem(404, "Not Found", f"Sales order {kind} {number} was not found.")
        return row

    def _command(self, request: Request) -> dict[str, Any]:
        try:
            body = read_json(request)
        except SandboxError:
            raise problem(400, "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise problem(400, "The request body must be a JSON object.")
        return body

    def _check_version(self, request: Request, row: Mapping[str, Any]) -> None:
        sent = request.headers.get("If-Match")
        if not sent:
            raise problem(428, "Precondition Required", "The If-Match header is required to change an order.")
        if sent.strip() != etag(row):
            raise problem(412, "Precondition Failed", "The order was changed since it was read (ETag mismatch).")

    def _store_write(self, kind: str, number: str, body: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return self.store.update(Entity.DELIVERY, number, body)  # type: ignore[attr-defined]
        except StoreError as error:
            raise problem(error.status if error.status != 404 else 404, "One or more validation errors occurred.",
                          error.message) from None

    def _changed(self, kind: str, number: str, event: str = "OrderUpdated") -> Response:
        with self.lock:  # type: ignore[attr-defined]
            tag = etag(self._order_row(kind, number))
        self._notify_order(kind, number, event)
        return Response(status=202, headers={"ETag": tag})

    def _notify_order(self, kind: str, number: str, event: str) -> None:
        self._notify("salesorder", salesorders.order_id(kind, number), event,  # type: ignore[attr-defined]
                     extra={"orderType": kind})

    @staticmethod
    def _paging(request: Request, *, default: int, largest: int) -> tuple[int, int]:
        try:
            size = int(request.args.get("pageSize", default))
            index = int(request.args.get("pageIndex", 0))
        except ValueError:
            raise problem(400, "pageSize and pageIndex must be whole numbers.") from None
        if not 1 <= size <= largest or index < 0:
            raise problem(400, "Bad Request", f"pageSize must be 1 to {largest}; pageIndex 0 or more.")
        return size, index

    # -- endpoints --------------------------------------------------------------------------------
    def orders_list(self, request: Request) -> Response:
        self._orders_authorize(request, write=False)
        size, index = self._paging(request, default=salesorders.PAGE_SIZE, largest=MAX_PAGE_SIZE)
        filters = {}
        if request.args.get("customerId"):
            filters["customer.number"] = request.args["customerId"]
        if request.args.get("status"):
            filters["status"] = request.args["status"]
        modified = None
        if request.args.get("modifiedSince"):
            try:
                modified = (">=", parse_stamp(request.args["modifiedSince"]))
            except ValueError:
                raise problem(400, "Bad Request", "modifiedSince is not a valid date and time.") from None
        with self.lock:  # type: ignore[attr-defined]
            matching = list(self.store.select(Entity.DELIVERY, modified=modified,  # type: ignore[attr-defined]
                                              filters=filters))
            page = [order_list_dto(row) for row in matching[index * size:(index + 1) * size]]
        following = None
        if (index + 1) * size < len(matching):
            args = {**request.args.to_dict(), "pageIndex": str(index + 1), "pageSize": str(size)}
            following = f"{request.base_url}?" + "&".join(f"{k}={v}" for k, v in args.items())
        return json_response({"value": page, "nextPage": following, "totalCount": len(matching)})

    def order_get(self, request: Request, kind: str, number: str) -> Response:
        self._orders_authorize(request, write=False)
        with self.lock:  # type: ignore[attr-defined]
            row = self._order_row(kind, number)
            return json_response(order_dto(row), headers={"ETag": etag(row)})

    def order_lines(self, request: Request, kind: str, number: str) -> Response:
        self._orders_authorize(request, write=False)
        size, index = self._paging(request, default=MAX_LINE_PAGE_SIZE, largest=MAX_LINE_PAGE_SIZE)
        with self.lock:  # type: ignore[attr-defined]
            lines = list(self._order_row(kind, number).get("lines") or [])
        page = [line_dto(line) for line in lines[index * size:(index + 1) * size]]
        return json_response({"value": page, "nextPage": None, "totalCount": len(lines)})

    def order_create(self, request: Request) -> Response:
        self._orders_authorize(request, write=True)
        command = self._command(request)
        if not command.get("type"):
            raise problem(400, "One or more validation errors occurred.", "The type field is required.")
        if not isinstance(command.get("customer"), Mapping) or not command["customer"].get("id"):
            raise problem(400, "One or more validation errors occurred.", "The customer field is required.")
        _check_lengths(command)
        body = _header_to_store(command)
        body["lines"] = [_line_operation("Insert", line) for line in command.get("orderLines") or []]
        with self.lock:  # type: ignore[attr-defined]
            try:
                row = self.store.create(Entity.DELIVERY, body)  # type: ignore[attr-defined]
            except StoreError as error:
                raise problem(409 if "already exists" in error.message else 400,
                              "One or more validation errors occurred.", error.message) from None
            kind, number = row["orderType"], row["orderNo"]
        self._notify_order(kind, number, "OrderCreated")
        location = f"{request.host_url.rstrip('/')}{request.script_root}{PREFIX}/{kind}/{number}"
        return Response(status=201, headers={"Location": location, "ETag": etag(row)})

    def order_patch(self, request: Request, kind: str, number: str) -> Response:
        self._orders_authorize(request, write=True)
        command = self._command(request)
        if command.get("status") and len(command) > 1:
            raise problem(400, "One or more validation errors occurred.",
                          "When status is set, no other fields may be patched in the same call.")
        _check_lengths(command)
        with self.lock:  # type: ignore[attr-defined]
            self._check_version(request, self._order_row(kind, number))
            self._store_write(kind, number, _header_to_store(command))
        return self._changed(kind, number)

    def _lines_change(self, request: Request, kind: str, number: str, operations: list[dict[str, Any]]) -> Response:
        with self.lock:  # type: ignore[attr-defined]
            self._check_version(request, self._order_row(kind, number))
            self._store_write(kind, number, {"lines": operations})
        return self._changed(kind, number)

    def order_lines_patch(self, request: Request, kind: str, number: str) -> Response:
        self._orders_authorize(request, write=True)
        lines = self._command(request).get("lines")
        if not isinstance(lines, list) or not all(isinstance(x, Mapping) and x.get("lineId") for x in lines):
            raise problem(400, "One or more validation errors occurred.", "Every line needs its lineId.")
        return self._lines_change(request, kind, number, [_line_operation("Update", line) for line in lines])

    def order_lines_add(self, request: Request, kind: str, number: str) -> Response:
        self._orders_authorize(request, write=True)
        lines = self._command(request).get("lines")
        if not isinstance(lines, list) or not all(isinstance(x, Mapping) and x.get("inventoryId") for x in lines):
            raise problem(400, "One or more validation errors occurred.", "Every new line needs its inventoryId.")
        return self._lines_change(request, kind, number, [_line_operation("Insert", line) for line in lines])

    def order_lines_delete(self, request: Request, kind: str, number: str) -> Response:
        self._orders_authorize(request, write=True)
        ids: list[str] = []
        for value in request.args.getlist("ids"):
            ids += [part for part in value.split(",") if part.strip()]
        if not ids or not all(i.strip().isdigit() for i in ids):
            raise problem(400, "Bad Request", "ids must name the lines to delete.")
        operations = [{"operation": "Delete", "lineNbr": {"value": int(i)}} for i in ids]
        return self._lines_change(request, kind, number, operations)
