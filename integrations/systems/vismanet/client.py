"""Visma.net ERP client: Visma Connect client-credentials tokens and the ``/v1`` resource endpoints.

URL rule: the connection's base URL is the API host without version (``https://api.finance.visma.net``
in production, ``<site>/sandbox/vismanet`` in the demo); the client appends :attr:`api_prefix`
(``/v1``). The token endpoint lives on another host, Visma Connect: for a base URL on ``visma.net``
it is ``https://connect.visma.com/connect/token``; for any other base URL (a sandbox) it is
``<base_url>/connect/token``, served beside the API.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from ..base import ApiClient, Record
from ..catalog import Entity, EntitySpec
from ..errors import AuthError, ExternalSystemError, NotFoundError, Refusal, VendorValidationError
from ..words import with_article
from . import dto, salesorders
from .catalog import vismanet_catalog
from .messages import vismanet_refusal

logger = logging.getLogger(__name__)

VISMA_CONNECT_TOKEN_URL = "https://connect.visma.com/connect/token"  # noqa: S105 - a URL, not a secret
SCOPES = ("vismanet_erp_service_api:read", "vismanet_erp_service_api:create",
          "vismanet_erp_service_api:update", "vismanet_erp_service_api:delete", *salesorders.SCOPES)


#: How :meth:`VismaNetClient.delete_record` removes a record: the API has no DELETE, so it deactivates.
DEACTIVATION: dict[Entity, Record] = {
    Entity.ORGANISATION: {"status": "Inactive"},
    Entity.PERSON: {"active": False},
    Entity.ITEM: {"status": "Inactive"},
    Entity.DELIVERY: {"status": "Cancelled"},  # the Sales Order service: PATCH {"status": "Cancelled"}, alone
}


def token_url_for(base_url: str) -> str:
    """Visma Connect for Visma's own hosts; the sandbox convention (beside the API) for anything else."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "visma.net" or host.endswith(".visma.net"):
        return VISMA_CONNECT_TOKEN_URL
    return f"{base_url.rstrip('/')}/connect/token"


def visma_datetime(value: datetime | date | str) -> str:
    """The form ``lastModifiedDateTime`` filters take: ISO 8601, UTC, milliseconds, no offset."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="milliseconds")
    return value.isoformat()


def page_metadata(page: list[Any]) -> tuple[int | None, int | None]:
    """``(totalCount, maxPageSize)`` from the ``metadata`` Visma.net puts on each listed record; None where absent."""
    for row in page:
        meta = row.get("metadata") if isinstance(row, Mapping) else None
        if isinstance(meta, Mapping):
            return _whole(meta.get("totalCount")), _whole(meta.get("maxPageSize"))
    return None, None


def _whole(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


class VismaNetClient(ApiClient):
    """One Visma.net company (tenant), reached with a Visma Connect client (id, secret, tenant id)."""

    system = "vismanet"
    api_prefix = "/v1"
    default_page_size = 500
    #: Visma's operator for "changed after"; the docs also offer ``>=``.
    modified_condition = ">"
    #: Refresh a token this long before Visma Connect says it expires.
    token_margin = 60.0

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.catalog = vismanet_catalog()

    # -- auth ---------------------------------------------------------------------------------
    @property
    def sales_order_url(self) -> str:
        """The Sales Order service of this connection (:func:`.salesorders.sales_order_base_for`)."""
        return salesorders.sales_order_base_for(self.base_url)

    def _auth_urls(self) -> tuple[str, ...]:
        """Visma Connect and the Sales Order service: the only addresses besides the base URL the credentials reach."""
        return (*super()._auth_urls(), self.token_url, self.sales_order_url)

    @property
    def token_url(self) -> str:
        return token_url_for(self.base_url)

    def authenticate(self, headers: dict[str, str]) -> None:
        headers["Authorization"] = f"Bearer {self.access_token()}"

    def refresh_auth(self) -> bool:
        """A 401 means the cached token was revoked or expired early: drop it and log in again once."""
        self.token_store.set(self.token_key(), None, timeout=1)
        return True

    def access_token(self) -> str:
        token = self.token_store.get(self.token_key())
        if token:
            return str(token)
        return self._fetch_token()

    def _fetch_token(self) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.credentials.get("client_id", ""),
            "client_secret": self.credentials.get("client_secret", ""),
            "tenant_id": self.credentials.get("tenant_id", ""),
            "scope": " ".join(SCOPES),
        }
        try:
            response = self.request("POST", self.token_url, auth=False, data=form)
        except (VendorValidationError, NotFoundError, AuthError) as error:
            raise AuthError(f"Visma Connect refused the credentials: {error.vendor_message}",
                            status=error.status, vendor_message=error.vendor_message) from error
        body = response.json()
        token = body.get("access_token")
        if not token:
            raise AuthError("Visma Connect answered without an access token", status=response.status_code)
        expires_in = float(body.get("expires_in") or 3600)
        self.token_store.set(self.token_key(), token, timeout=max(1.0, expires_in - self.token_margin))
        return str(token)

    def refusal_for(self, body: Any) -> Refusal | None:
        """Visma.net's fault code or words explained (``messages.vismanet_refusal``) from a body carrying
        ``ExceptionMessage`` or ``ExceptionFaultCode``; None for other bodies."""
        if isinstance(body, dict) and ("ExceptionMessage" in body or "ExceptionFaultCode" in body):
            return vismanet_refusal(body.get("ExceptionFaultCode"), body.get("ExceptionMessage"))
        return None

    def vendor_message(self, response: requests.Response) -> str:
        """Visma.net's ``ExceptionMessage`` (with its fault code), ASP.NET's ``Message``, or OAuth's error."""
        try:
            body = response.json()
        except ValueError:
            return super().vendor_message(response)
        if isinstance(body, dict):
            if "ExceptionType" in body or "ExceptionMessage" in body:
                message = str(body.get("ExceptionMessage") or "").strip()
                code = body.get("ExceptionFaultCode")
                if not message:
                    message = f"{body.get('ExceptionType', 'Error')} {code or ''}".strip()
                elif code:
                    message = f"{message} (fault code {code})"
                return message
            if body.get("error"):
                return str(body.get("error_description") or body["error"])
            if "title" in body or "detail" in body:  # the Sales Order service's ProblemDetails
                details = "; ".join(str(d.get("message") or d.get("code")) for d in body.get("details") or []
                                    if isinstance(d, Mapping))
                text = str(body.get("detail") or body.get("title") or "").strip()
                return f"{text}: {details}" if details and text else (details or text)
        return super().vendor_message(response)

    def retry_after(self, response: requests.Response) -> float | None:
        """Retry-After if ever sent; on a 429, else the seconds ``X-RateLimit-Reset`` says remain in the window.

        Visma documents only ``X-RateLimit-Limit/Remaining/Reset/Policy`` (docs.vismasoftware.no/vismanetapi/
        ratelimits), no Retry-After; a 429 means the window is spent, so waiting for its reset is the backoff.
        """
        seconds = super().retry_after(response)
        if seconds is not None or response.status_code != 429:
            return seconds
        try:
            return max(0.0, float(response.headers.get("X-RateLimit-Reset", "")))
        except ValueError:
            return None

    # -- paths --------------------------------------------------------------------------------
    def _path(self, entity: Entity, record_id: str | None = None) -> str:
        try:
            resource = dto.RESOURCES[entity]
        except KeyError:
            raise NotImplementedError(f"Visma.net has no {entity} resource in Synkro") from None
        path = f"{self.api_prefix}/{resource}"
        return f"{path}/{requests.utils.quote(str(record_id), safe='')}" if record_id is not None else path

    def _spec(self, entity: Entity) -> EntitySpec:
        spec = self.catalog.entity(entity)
        if spec is None:
            raise NotImplementedError(f"Visma.net has no {entity} in its catalog")
        return spec

    # -- the record interface -----------------------------------------------------------------
    def check_connection(self) -> str:
        page = self.json("GET", self._path(Entity.ORGANISATION), params={"pageNumber": 1, "pageSize": 1})
        total = None
        if page and isinstance(page[0], dict):
            total = (page[0].get("metadata") or {}).get("totalCount")
        tenant = self.credentials.get("tenant_id", "")
        if total is not None:
            return f"Visma.net tenant {tenant}: connected, {total} customers"
        return f"Visma.net tenant {tenant}: connected"

    def list_records(self, entity: Entity, *, modified_since: Any = None, page_size: int | None = None
                     ) -> Iterator[Record]:
        """Every record, one page in memory at a time, paged by what Visma says of the list.

        Each listed record carries ``metadata {totalCount, maxPageSize}``. Visma serves at most ``maxPageSize``
        records a page whatever ``pageSize`` asks, so a short page is not the end: once the cap is known the pages
        are asked at that size (``pageNumber`` then counts pages of the size really served) until ``totalCount``
        records came, or an empty page. Without metadata only an empty page ends the list.
        """
        if entity == Entity.DELIVERY:
            yield from self._list_orders(modified_since=modified_since, page_size=page_size)
            return
        params: dict[str, Any] = {}
        if modified_since is not None:
            params["lastModifiedDateTime"] = visma_datetime(modified_since)
            params["lastModifiedDateTimeCondition"] = self.modified_condition
        yield from (self.record_from_dto(entity, row) for row in self._pages(self._path(entity), params,
                                                                              page_size or self.default_page_size))

    def _pages(self, path: str, params: Mapping[str, Any], size: int) -> Iterator[Mapping[str, Any]]:
        """The rows of a ``pageNumber``/``pageSize`` list of the finance API (see :meth:`list_records`)."""
        number, seen = 1, 0
        while True:
            page = self.json("GET", path, params={**params, "pageSize": size, "pageNumber": number}) or []
            if not isinstance(page, list):
                raise ExternalSystemError(f"Visma.net answered {path} with something that is not a list")
            yield from page
            seen += len(page)
            total, cap = page_metadata(page)
            if not page or (total is not None and seen >= total):
                return
            if cap and cap < size:
                if number == 1:  # the cap was learnt on the first page: ask again at the size served
                    size, number = cap, seen // cap
                else:
                    size = cap
            number += 1

    def get_record(self, entity: Entity, record_id: str) -> Record:
        if entity == Entity.DELIVERY:
            return self.read_noted(entity, record_id, self._get_order(record_id)[0])
        record = self.record_from_dto(entity, self.json("GET", self._path(entity, record_id)))
        return self.read_noted(entity, record_id, record)

    def create_record(self, entity: Entity, data: Record) -> Record:
        """POST answers 201 with the new record's URL in Location; read it back from there."""
        self._refuse_read_only_entity(entity)
        if entity == Entity.DELIVERY:
            return self._create_order(data)
        response = self.request("POST", self._path(entity), json=self.update_dto(entity, data))
        location = response.headers.get("Location")
        if not location:
            raise VendorValidationError("Visma.net created the record but did not say where (no Location)",
                                        status=response.status_code)
        return self.record_from_dto(entity, self.json("GET", location))

    def update_record(self, entity: Entity, record_id: str, data: Record, *,
                      check: Callable[[Record], None] | None = None, read: Record | None = None) -> Record:
        """PUT the changed fields (204), then read the record back as Visma.net stored it.

        Only the fields sent change (a sales order's write carries its ``If-Match`` ETag), so ``check`` is ignored;
        ``read`` (the record the caller has just read through this client) stands in for the read of the lines.
        """
        self._refuse_read_only_entity(entity)
        if entity == Entity.DELIVERY:
            return self._update_order(record_id, data)
        current_lines = None
        if "lines" in data and entity in dto.LINE_LISTS:
            current_lines = (read if self.read_is_latest(entity, record_id, read) and "lines" in read
                             else self.get_record(entity, record_id)).get("lines", [])
        body = self.update_dto(entity, data, current_lines=current_lines)
        self.request("PUT", self._path(entity, record_id), json=body)
        return self.get_record(entity, record_id)

    def delete_record(self, entity: Entity, record_id: str) -> None:
        """Visma.net ERP's API deletes none of these; it deactivates: customers and items become
        Inactive, contacts inactive, sales orders cancelled. Invoices and employees cannot go."""
        if entity not in DEACTIVATION:
            raise VendorValidationError(f"Visma.net ERP cannot delete {with_article(self._spec(entity).label.lower())}",
                                        vendor_message="Not supported by the Visma.net ERP API")
        if entity == Entity.DELIVERY:
            _, etag = self._get_order(record_id, lines=False)
            self.request("PATCH", self._order_url(record_id), json=DEACTIVATION[entity], headers={"If-Match": etag})
            return
        self.request("PUT", self._path(entity, record_id), json=self.update_dto(entity, DEACTIVATION[entity]))

    def can_delete(self, entity: Entity) -> bool:
        """What :meth:`delete_record` can deactivate; invoices and employees have no way to go."""
        return entity in DEACTIVATION

    def has_activity(self, entity: Entity, record_id: str) -> bool | None:
        """Whether customer ``record_id`` has an invoice or a sales order: ``/customer/{number}/invoice`` of the
        finance API and the Sales Order service's ``/api/v3/SalesOrders?customerId=``, one row each."""
        if entity != Entity.ORGANISATION:
            return None
        customer = self._path(Entity.ORGANISATION, record_id)
        if self.json("GET", f"{customer}/invoice", params={"pageNumber": 1, "pageSize": 1}):
            return True
        orders = self.json("GET", f"{self.sales_order_url}{salesorders.API_PATH}",
                           params={"customerId": record_id, "pageSize": 1, "pageIndex": 0}) or {}
        return bool(orders.get("value")) or bool(orders.get("totalCount"))

    def record_id(self, entity: Entity, record: Record) -> str:
        if entity == Entity.DELIVERY:
            return salesorders.order_id(record.get("type"), str(record["orderId"]))
        return str(record[self._spec(entity).id_field])

    # -- the Sales Order service ----------------------------------------------------------------
    def _order_url(self, record_id: str, tail: str = "") -> str:
        return f"{self.sales_order_url}{salesorders.order_path(record_id)}{tail}"

    def _list_orders(self, *, modified_since: Any, page_size: int | None) -> Iterator[Record]:
        """``pageIndex`` 0, 1, … until ``totalCount`` orders came or a page is empty; each order read whole."""
        params: dict[str, Any] = {"pageSize": page_size or salesorders.PAGE_SIZE}
        if modified_since is not None:
            params["modifiedSince"] = visma_datetime(modified_since)
        for row in self._service_pages(f"{self.sales_order_url}{salesorders.API_PATH}", params):
            yield self._get_order(salesorders.order_id(row.get("type"), str(row.get("orderId"))))[0]

    def _service_pages(self, url: str, params: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        index, seen = 0, 0
        while True:
            page = self.json("GET", url, params={**params, "pageIndex": index}) or {}
            rows = page.get("value") or [] if isinstance(page, Mapping) else []
            yield from rows
            seen += len(rows)
            total = _whole(page.get("totalCount")) if isinstance(page, Mapping) else None
            if not rows or (total is not None and seen >= total):
                return
            index += 1

    def _get_order(self, record_id: str, *, lines: bool = True) -> tuple[Record, str]:
        """An order as a flat record with its ``lines``, and its ETag (the version a change must name)."""
        response = self.request("GET", self._order_url(record_id), params={"expand": "Customer"})
        body = response.json()
        if not isinstance(body, Mapping):
            raise ExternalSystemError("Visma.net answered a sales order that is not an object")
        record = dto.flatten(body, skip=("_links", "attachments", "customFields"))
        if lines:
            record["lines"] = [dto.flatten(line, skip=("attachments", "customFields"))
                               for line in self._service_pages(self._order_url(record_id, "/lines"),
                                                               {"pageSize": 1000})]
        return record, response.headers.get("ETag", "")

    def _create_order(self, data: Record) -> Record:
        """``POST /api/v3/SalesOrders``; 201 names the new order in ``Location``, read back from there."""
        body = {"type": str(data.get("type") or salesorders.DEFAULT_TYPE),
                **salesorders.header_command(self._sales_order_fields(Entity.DELIVERY, data))}
        body["orderLines"] = [salesorders.line_command(self._sales_order_fields(Entity.DELIVERY_LINE, line))
                              for line in data.get("lines") or []]
        response = self.request("POST", f"{self.sales_order_url}{salesorders.API_PATH}", json=body)
        location = response.headers.get("Location")
        if not location:
            raise VendorValidationError("Visma.net created the sales order but did not say where (no Location)",
                                        status=response.status_code)
        kind, number = salesorders.key_from_location(location)
        return self.get_record(Entity.DELIVERY, salesorders.order_id(kind, number))

    def _update_order(self, record_id: str, data: Record) -> Record:
        """PATCH the header, then the lines (changed ones patched, new ones added, missing ones deleted), each
        naming the version it changes (``If-Match``); read the order back as Visma stored it."""
        current, etag = self._get_order(record_id, lines="lines" in data)

        def send(method: str, tail: str, **kwargs: Any) -> None:
            nonlocal etag
            response = self.request(method, self._order_url(record_id, tail), headers={"If-Match": etag}, **kwargs)
            etag = response.headers.get("ETag", etag)

        header = salesorders.header_command(self._sales_order_fields(Entity.DELIVERY, data))
        if header:
            send("PATCH", "", json=header)
        if "lines" in data:
            existing = {int(line["lineId"]): line for line in current.get("lines") or [] if line.get("lineId")}
            changed, added, kept = [], [], set()
            for line in data.get("lines") or []:
                wanted = self._sales_order_fields(Entity.DELIVERY_LINE, line)
                line_id = _whole(line.get("lineId"))
                old = existing.get(line_id) if line_id is not None else None
                if old is not None and all(old.get(f) == wanted.get(f, old.get(f)) for f in salesorders.LINE_FIXED):
                    kept.add(line_id)
                    changed.append(salesorders.line_command(wanted, line_id=line_id))
                else:
                    added.append(salesorders.line_command(wanted))
            if changed:
                send("PATCH", "/lines", json={"lines": changed})
            if added:
                send("POST", "/lines", json={"lines": added})
            gone = sorted(set(existing) - kept)
            if gone:
                send("DELETE", "/lines", params={"ids": gone})
        return self.get_record(Entity.DELIVERY, record_id)

    def _writable(self, entity: Entity, data: Mapping[str, Any]) -> Record:
        """The fields of ``data`` that can be written (not ``lines``, not read-only), by their catalog names, as
        plain values; an unknown field is refused (``VendorValidationError``)."""
        spec = self._spec(entity)
        writable: Record = {}
        for name, value in data.items():
            if name == "lines":
                continue
            field = spec.field(name)
            if field is None:
                raise VendorValidationError(f"Visma.net {spec.vendor_name} has no field {name!r}",
                                            vendor_message=f"Unknown field {name}")
            if not field.read_only:
                writable[name] = _plain(value)
        return writable

    def _sales_order_fields(self, entity: Entity, data: Mapping[str, Any]) -> Record:
        """:meth:`_writable` as the Sales Order service takes it: plain JSON values, not wrapped."""
        return {name: dto.jsonable(value) for name, value in self._writable(entity, data).items()}

    # -- shapes ---------------------------------------------------------------------------------
    def _refuse_read_only_entity(self, entity: Entity) -> None:
        if entity == Entity.USER:
            raise VendorValidationError("Visma.net ERP's API only reads employees",
                                        vendor_message="Employees are read-only in the Visma.net ERP API")

    def record_from_dto(self, entity: Entity, body: Mapping[str, Any]) -> Record:
        """A read DTO -> a flat record; documents carry their lines under ``lines``."""
        if not isinstance(body, Mapping):
            raise ExternalSystemError(f"Visma.net answered {with_article(str(entity).replace('_', ' '))} that is not "
                                      "an object")
        line_list = dto.LINE_LISTS.get(entity)
        record = dto.flatten(body, skip=("metadata",))
        if line_list:
            record["lines"] = [dto.flatten(line) for line in body.get(line_list) or []]
        return record

    def update_dto(self, entity: Entity, data: Mapping[str, Any], *,
                   current_lines: list[Record] | None = None) -> dict[str, Any]:
        """A flat record -> the vendor's update DTO, values wrapped, read-only fields left out."""
        flat = {dto.write_name(entity, name): value for name, value in self._writable(entity, data).items()}
        body = dto.wrap(flat)
        if entity in dto.LINE_LISTS and "lines" in data:
            key = dto.LINE_LISTS[entity]
            body[key] = self._line_operations(entity, data.get("lines") or [], current_lines)
        return body

    def _line_operations(self, entity: Entity, lines: list[Record], current: list[Record] | None) -> list[dict]:
        """Lines go as Insert / Update / Delete operations keyed by line number; lines we no longer
        send are deleted, so the ERP ends up with exactly our lines."""
        line_spec = self._spec(Entity.DELIVERY_LINE if entity == Entity.DELIVERY else Entity.INVOICE_LINE)
        number_field = dto.LINE_NUMBERS[entity]
        existing = {str(line.get(number_field)) for line in current or [] if line.get(number_field) is not None}
        operations: list[dict[str, Any]] = []
        kept: set[str] = set()
        for line in lines:
            flat: dict[str, Any] = {}
            for name, value in line.items():
                field = line_spec.field(name)
                if field is None or field.read_only:
                    continue
                flat[dto.write_name(entity, name, line=True)] = _plain(value)
            number = line.get(number_field)
            update = number is not None and str(number) in existing
            if update:
                kept.add(str(number))
            else:
                flat.pop(number_field, None)
            operations.append({"operation": "Update" if update else "Insert", **dto.wrap(flat)})
        for number in sorted(existing - kept, key=_line_order):
            operations.append({"operation": "Delete", number_field: {"value": int(number)}})
        return operations


def _line_order(number: str) -> tuple[int, str]:
    return (int(number), "") if number.isdigit() else (0, number)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return visma_datetime(value)
    return value
