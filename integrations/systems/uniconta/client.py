"""Uniconta's REST/OData face: read through OData, write through ``api/Entities``, HTTP Basic auth.

Reads are ``GET /odata/<CompanyId>/<Entity>`` with ``$filter``/``$orderby``/``$top``/``$skip`` and an
OData ``value`` envelope; writes are ``POST|PUT|DELETE /api/Entities/{Insert|Update|Delete}/<Entity>``
with the entity as JSON. The HTTP shape lives in the small ``_…_path``/``query_rows``/``insert_rows``
methods so that another transport (the .NET API behind a bridge) can replace it without touching the
record interface the sync engine uses.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any

import requests

from ..base import ApiClient, Record, normalise_match_value
from ..catalog import Entity, EntitySpec, FieldType
from ..errors import NotFoundError, Refusal, VendorValidationError
from .catalog import ORDER_LINE, lines_spec, uniconta_catalog
from .messages import uniconta_refusal

#: Rows per OData page we ask for; the service caps a page at its own maximum and then sends a next link.
DEFAULT_PAGE_SIZE = 500
#: Rows Synkro sends in one ``InsertList``. Uniconta documents no limit; 100 keeps a request near 50 KB of debtors,
#: well under the sandbox's refusal (``sandbox.LIST_ROWS_MAX``), and a list refused as a whole (one transaction) costs
#: at most 100 rows sent again one by one. See docs/vendors/uniconta.md "List inserts".
LIST_INSERT_ROWS = 100
#: Longest ``$filter`` Synkro sends when it joins conditions with ``or``: IIS (likely behind Uniconta's ASP.NET
#: feed) refuses query strings over 2048 bytes by default (``maxQueryString``); 900 characters stay under it encoded.
FILTER_CHARS = 900
#: Document entities whose lines hang on the header by this field.
LINE_LINK = {Entity.DELIVERY: "OrderNumber", Entity.POS_SALE: "OrderNumber", Entity.INVOICE: "InvoiceNumber"}


def odata_literal(value: Any, field_type: FieldType | None = None) -> str:
    """A value written the way an OData v3 ``$filter`` expects it (strings quoted, datetimes typed)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return f"datetime'{_wire_datetime(value)}'"
    if field_type in (FieldType.INTEGER, FieldType.DECIMAL) or isinstance(value, int | float | Decimal):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _wire_datetime(value: datetime | date | str) -> str:
    """Uniconta's .NET timestamps: ISO 8601 in UTC without an offset."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat()
    return f"{value.isoformat()}T00:00:00"


def _to_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return _wire_datetime(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class UnicontaClient(ApiClient):
    """Talks to one Uniconta company as one API user."""

    system = "uniconta"

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.catalog = uniconta_catalog()

    # -- auth and errors ---------------------------------------------------------------------
    @property
    def company_id(self) -> str:
        return str(self.credentials.get("company_id", "")).strip()

    def login_name(self) -> str:
        """``00<CompanyId>/<login>``: the leading zeros tell Uniconta a company id follows."""
        return f"00{self.company_id}/{self.credentials.get('username', '')}"

    def authenticate(self, headers: dict[str, str]) -> None:
        """HTTP Basic on every call; Uniconta's REST face has no token to fetch, cache or refresh (the base
        ``refresh_auth`` says so), so a 401 means the login or password is wrong."""
        pair = f"{self.login_name()}:{self.credentials.get('password', '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")

    def refusal_for(self, body: Any) -> Refusal | None:
        """Uniconta's ``ErrorCodes`` name explained (``messages.uniconta_refusal``), from ``{"ErrorCode", "Message"}``
        or a bare name; None for other bodies."""
        if isinstance(body, dict):
            return uniconta_refusal(body.get("ErrorCode"), body.get("Message"))
        if isinstance(body, str):
            return uniconta_refusal(body, "")
        return None

    def vendor_message(self, response: requests.Response) -> str:
        """Uniconta answers ``{"ErrorCode", "Message"}``, an OData error, or a bare ErrorCodes name."""
        try:
            body = response.json()
        except ValueError:
            return super().vendor_message(response)
        if isinstance(body, str | int):
            return f"Uniconta error {body}"
        if isinstance(body, dict):
            odata = body.get("odata.error") or body.get("error")
            if isinstance(odata, dict):
                message = odata.get("message")
                return str(message.get("value") if isinstance(message, dict) else message or odata)
            if body.get("Message"):
                return str(body["Message"])
            if body.get("ErrorCode"):
                return f"Uniconta error {body['ErrorCode']}"
        return super().vendor_message(response)

    # -- the HTTP shape --------------------------------------------------------------------------
    def _odata_path(self, vendor_name: str) -> str:
        return f"odata/{self.company_id}/{vendor_name}"

    def _entities_path(self, action: str, vendor_name: str) -> str:
        return f"api/Entities/{action}/{vendor_name}"

    def _send_json(self, method: str, path: str, body: Any) -> Any:
        response = self.request(method, path, data=json.dumps(body, default=_to_json),
                                headers={"Content-Type": "application/json"})
        if not response.content:
            return None
        return json.loads(response.content, parse_float=Decimal)

    def query_rows(self, vendor_name: str, *, filter: str | None = None, orderby: str | None = "RowId",
                   page_size: int | None = None) -> Iterator[Record]:
        """Every row matching ``filter``, page by page with ``$top``/``$skip`` (or the service's next link)."""
        top = page_size or DEFAULT_PAGE_SIZE
        skip = 0
        path: str | None = self._odata_path(vendor_name)
        while path is not None:
            params: dict[str, Any] | None = None
            if "?" not in path:
                params = {"$top": top, "$skip": skip}
                if filter:
                    params["$filter"] = filter
                if orderby:
                    params["$orderby"] = orderby
            response = self.request("GET", path, params=params)
            body = json.loads(response.content or b"{}", parse_float=Decimal)
            rows = body.get("value", []) if isinstance(body, dict) else body
            yield from rows
            skip += len(rows)
            next_link = (body.get("odata.nextLink") or body.get("@odata.nextLink")) if isinstance(body, dict) else None
            if next_link:
                path = next_link
            elif len(rows) < top:
                path = None
            else:
                path = self._odata_path(vendor_name)

    def insert_rows(self, vendor_name: str, rows: list[Record]) -> list[Record]:
        """Insert rows: one with ``Insert`` (a JSON object), several in one call with ``InsertList`` (an array).

        Uniconta answers with the rows as stored (or nothing; then the rows sent are returned).
        """
        if not rows:
            return []
        if len(rows) == 1:
            answer = self._send_json("POST", self._entities_path("Insert", vendor_name), rows[0])
            return [answer if isinstance(answer, dict) else rows[0]]
        answer = self._send_json("POST", self._entities_path("InsertList", vendor_name), rows)
        return answer if isinstance(answer, list) and len(answer) == len(rows) else list(rows)

    def update_row(self, vendor_name: str, row: Record) -> Record:
        """Replace a row: Uniconta's Update takes the whole entity, so read, change, then put."""
        return self._send_json("PUT", self._entities_path("Update", vendor_name), row) or row

    def delete_rows(self, vendor_name: str, rows: list[Record]) -> None:
        """Delete rows as read: one with ``Delete`` (an object), several with ``DeleteList`` (an array)."""
        if not rows:
            return
        if len(rows) == 1:
            self._send_json("DELETE", self._entities_path("Delete", vendor_name), rows[0])
        else:
            self._send_json("DELETE", self._entities_path("DeleteList", vendor_name), rows)

    # -- the record interface ----------------------------------------------------------------------
    def _spec(self, entity: Entity) -> EntitySpec:
        spec = self.catalog.entity(entity)
        if spec is None:
            raise NotImplementedError(f"Uniconta has no table for {entity}")
        return spec

    def _key_filter(self, spec: EntitySpec, record_id: Any) -> str:
        field = spec.field(spec.id_field)
        return f"{spec.id_field} eq {odata_literal(record_id, field.type if field else None)}"

    def _read_row(self, spec: EntitySpec, record_id: Any) -> Record:
        key = spec.field(spec.id_field)
        if key is not None and key.type == FieldType.INTEGER and not str(record_id).strip().isdigit():
            raise NotFoundError(f"Uniconta has no {spec.vendor_name} with {spec.id_field} {record_id}", status=404)
        rows = list(islice(self.query_rows(spec.vendor_name, filter=self._key_filter(spec, record_id)), 1))
        if not rows:
            raise NotFoundError(f"Uniconta has no {spec.vendor_name} with {spec.id_field} {record_id}",
                                status=404)
        return rows[0]

    def _with_lines(self, entity: Entity, headers: list[Record]) -> Iterator[Record]:
        """Attach lines to a page of document headers with one ranged query, not one per header."""
        line_spec, link = lines_spec(entity), LINE_LINK.get(entity)
        if line_spec is None or link is None or not headers:
            yield from headers
            return
        numbers = [h[link] for h in headers if h.get(link) is not None]
        grouped: dict[Any, list[Record]] = {n: [] for n in numbers}
        if numbers:
            span = f"{link} ge {min(numbers)} and {link} le {max(numbers)}"
            for line in self.query_rows(line_spec.vendor_name, filter=span, orderby=f"{link},LineNumber"):
                if line.get(link) in grouped:
                    grouped[line[link]].append(line)
        for header in headers:
            yield {**header, "lines": grouped.get(header.get(link), [])}

    def check_connection(self) -> str:
        first = next(self.query_rows("DebtorClient", page_size=1, orderby=None), None)
        return f"Uniconta company {self.company_id} answers as {self.credentials.get('username')}" + (
            "" if first else " (no debtors yet)")

    def list_records(self, entity: Entity, *, modified_since: Any = None, page_size: int | None = None
                     ) -> Iterator[Record]:
        spec = self._spec(entity)
        filter = None
        if modified_since is not None and spec.modified_field:
            filter = f"{spec.modified_field} gt {odata_literal(_as_datetime(modified_since))}"
        elif modified_since is not None and entity == Entity.INVOICE:
            # Posted invoices never change; the invoice date is what moves forward.
            filter = f"Date ge {odata_literal(_as_datetime(modified_since).date())}"
        size = page_size or DEFAULT_PAGE_SIZE
        page: list[Record] = []
        for row in self.query_rows(spec.vendor_name, filter=filter, page_size=size):
            page.append(row)
            if len(page) >= size:
                yield from self._with_lines(entity, page)
                page = []
        yield from self._with_lines(entity, page)

    def filters_by_change(self, entity: Entity) -> bool:
        """Only orders and order lines carry ``UpdatedAt`` (Uniconta's own order pages show it; its debtor, item,
        contact and employee pages do not), and invoices are asked for by date; other tables are listed whole
        (their Change URLs are the way Uniconta tells about changes)."""
        return bool(self._spec(entity).modified_field) or entity == Entity.INVOICE

    def get_record(self, entity: Entity, record_id: str) -> Record:
        spec = self._spec(entity)
        return self.read_noted(entity, record_id, next(self._with_lines(entity, [self._read_row(spec, record_id)])))

    def find_records(self, entity: Entity, field_name: str, value: Any) -> list[Record]:
        """Match before create with a server-side filter; text compared without case, as the engine wants.

        Text is asked for with ``startswith(tolower(<Field>), '<value>')`` (both functions are on Uniconta's
        OData filter page), so a value stored with trailing spaces is found; the engine's own normalised
        comparison then keeps only the equal ones.
        """
        spec = self._spec(entity)
        field = spec.field(field_name)
        wanted = normalise_match_value(value)
        if field is None or wanted == "":
            return []
        if field.type in (FieldType.INTEGER, FieldType.DECIMAL):
            condition = f"{field_name} eq {odata_literal(str(value).strip(), field.type)}"
        else:  # stored values may carry stray spaces at the end ("a@b.dk "): startswith finds them too
            condition = f"startswith(tolower({field_name}), {odata_literal(' '.join(str(value).split()).lower())})"
        found = [r for r in self.query_rows(spec.vendor_name, filter=condition)
                 if normalise_match_value(r.get(field_name)) == wanted]
        return list(self._with_lines(entity, found))

    def create_record(self, entity: Entity, data: Record) -> Record:
        spec = self._spec(entity)
        if not self.can_create(entity):
            raise VendorValidationError(
                "Uniconta's REST API cannot post invoices: send the delivery as a sales order and invoice it in "
                "Uniconta", vendor_message="No invoice posting on the REST API")
        header = {k: v for k, v in data.items() if k != "lines"}
        created = self.insert_rows(spec.vendor_name, [header])[0]
        if lines_spec(entity) is ORDER_LINE:
            created["lines"] = self._insert_order_lines(created["OrderNumber"], data.get("lines") or [])
            # Uniconta sums the lines into the header; read it back so totals are the vendor's.
            return self.get_record(entity, str(created["OrderNumber"]))
        return created

    def create_records(self, entity: Entity, rows: list[Record]) -> list[Record]:
        """Rows of a table without lines in ``InsertList`` calls of ``LIST_INSERT_ROWS`` (documents go one by one, with
        their lines). Each call is one transaction at Uniconta: a refused row refuses its whole call."""
        if lines_spec(entity) is not None or not self.can_create(entity):
            return super().create_records(entity, rows)
        vendor_name = self._spec(entity).vendor_name
        created: list[Record] = []
        for start in range(0, len(rows), LIST_INSERT_ROWS):
            created += self.insert_rows(vendor_name, [dict(row) for row in rows[start:start + LIST_INSERT_ROWS]])
        return created

    def list_insert_size(self, entity: Entity) -> int:
        """Rows per ``InsertList`` call for tables without lines: ``LIST_INSERT_ROWS`` (Uniconta documents no limit;
        see that constant). Documents go one by one with their lines."""
        if lines_spec(entity) is not None or not self.can_create(entity):
            return 1
        return LIST_INSERT_ROWS

    def _match_condition(self, field: Any, field_name: str, value: Any) -> str:
        """The ``$filter`` condition :meth:`find_records` asks for one value (see there)."""
        if field.type in (FieldType.INTEGER, FieldType.DECIMAL):
            return f"{field_name} eq {odata_literal(str(value).strip(), field.type)}"
        return f"startswith(tolower({field_name}), {odata_literal(' '.join(str(value).split()).lower())})"

    def find_records_each(self, entity: Entity, terms: list[tuple[str, Any]]) -> list[list[Record]]:
        """:meth:`find_records` for several fields in one query: each term's condition joined with ``or`` (on
        Uniconta's OData filter page — odata-help; docs/vendors/uniconta.md "One filter for many values"), at most
        ``FILTER_CHARS`` characters a query. Each term keeps the rows :meth:`find_records` keeps for it."""
        spec = self._spec(entity)
        if lines_spec(entity) is not None:
            return super().find_records_each(entity, terms)
        asked: list[tuple[int, str, str]] = []  # (term's index, field, normalised value)
        conditions: list[str] = []
        for index, (field_name, value) in enumerate(terms):
            field, wanted = spec.field(field_name), normalise_match_value(value)
            if field is None or wanted == "":
                continue
            asked.append((index, field_name, wanted))
            condition = self._match_condition(field, field_name, value)
            if condition not in conditions:
                conditions.append(condition)
        rows: dict[str, Record] = {}
        chunk: list[str] = []
        for condition in [*conditions, None]:
            if condition is not None and (not chunk or len(" or ".join([*chunk, condition])) <= FILTER_CHARS):
                chunk.append(condition)
                continue
            if chunk:
                for row in self.query_rows(spec.vendor_name, filter=" or ".join(chunk)):
                    rows.setdefault(self.record_id(entity, row), row)
            chunk = [condition] if condition is not None else []
        answers: list[list[Record]] = [[] for _ in terms]
        for index, field_name, wanted in asked:
            answers[index] = [row for row in rows.values() if normalise_match_value(row.get(field_name)) == wanted]
        return answers

    def _insert_order_lines(self, order_number: int, lines: Iterable[Record]) -> list[Record]:
        rows = [{**line, "OrderNumber": order_number} for line in lines]
        return self.insert_rows(ORDER_LINE.vendor_name, rows) if rows else []

    def update_record(self, entity: Entity, record_id: str, data: Record, *,
                      check: Callable[[Record], None] | None = None, read: Record | None = None) -> Record:
        """Read the row, merge ``data`` and update it whole (``api/Entities/Update`` takes whole rows); an order's
        lines are replaced when given. ``check`` sees the row as read just before the write and may stop it.

        ``read``: the record the caller has just read through this client (``get_record``); its row is used instead
        of a second read of the same row while nothing was sent since (``ApiClient.read_is_latest``)."""
        spec = self._spec(entity)
        if entity == Entity.INVOICE:
            raise VendorValidationError("A posted invoice cannot be changed in Uniconta",
                                        vendor_message="Posted invoices are read-only")
        current = ({k: v for k, v in read.items() if k != "lines"} if self.read_is_latest(entity, record_id, read)
                   else self._read_row(spec, record_id))
        if check is not None:
            check(current)
        changes = {k: v for k, v in data.items() if k != "lines"}
        updated = self.update_row(spec.vendor_name, {**current, **changes})
        if lines_spec(entity) is ORDER_LINE and "lines" in data:
            number = current["OrderNumber"]
            old = list(self.query_rows(ORDER_LINE.vendor_name, filter=f"OrderNumber eq {number}"))
            if old:
                self.delete_rows(ORDER_LINE.vendor_name, old)
            self._insert_order_lines(number, data["lines"] or [])
            return self.get_record(entity, str(number))
        return next(self._with_lines(entity, [updated]))

    def delete_record(self, entity: Entity, record_id: str) -> None:
        spec = self._spec(entity)
        if entity == Entity.INVOICE:
            raise VendorValidationError("A posted invoice cannot be deleted in Uniconta",
                                        vendor_message="Posted invoices are read-only")
        # Deleting an order deletes its lines with it (master and detail).
        self.delete_rows(spec.vendor_name, [self._read_row(spec, record_id)])

    def can_create(self, entity: Entity) -> bool:
        """Every table Synkro writes except invoices: posting is the .NET ``InvoiceAPI``'s, not the REST face's."""
        return entity != Entity.INVOICE and self.catalog.entity(entity) is not None

    def can_delete(self, entity: Entity) -> bool:
        """Every table Synkro writes can be deleted through ``api/Entities/Delete`` except posted invoices."""
        return entity != Entity.INVOICE and self.catalog.entity(entity) is not None

    def has_activity(self, entity: Entity, record_id: str) -> bool | None:
        """Whether debtor ``record_id`` has a sales order or an invoice: one ``Account eq '…'`` query of each."""
        if entity != Entity.ORGANISATION:
            return None
        condition = f"Account eq {odata_literal(str(record_id).strip(), FieldType.STRING)}"
        for vendor_name in ("DebtorOrderClient", "DebtorInvoiceClient"):
            if next(self.query_rows(vendor_name, filter=condition, orderby=None, page_size=1), None) is not None:
                return True
        return False

    def record_id(self, entity: Entity, record: Record) -> str:
        return str(record[self._spec(entity).id_field])


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
