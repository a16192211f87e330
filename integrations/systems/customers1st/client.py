"""Customers 1st REST API client (``https://api.c1st.com/api``).

Auth is a static bearer token of an API user (no login handshake, nothing to refresh). Lists page
with ``paginationStart`` / ``paginationPageLength`` and answer ``{"content": [...], "hasMore": ...}``.
A PUT replaces the whole object (omitted fields become null), so an update reads, merges and puts.
Our own writes carry ``X-Suppress-Hooks`` so they do not come back to us as REST hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import requests

from ..base import ApiClient, Record
from ..catalog import Entity
from ..errors import AuthError, NotFoundError, Refusal
from .catalog import PAYMENT_ARTICLE_FIELDS, build_catalog
from .messages import customers1st_refusal

#: The documented ceiling of ``paginationPageLength``.
MAX_PAGE_LENGTH = 250
#: Timestamps such as ``updated_at`` are the store's local time without a zone.
STORE_TIMEZONE = ZoneInfo("Europe/Copenhagen")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Resource:
    """How one entity is reached: its path and the quirks of its endpoints."""

    path: str
    #: Query parameter taking a "changed since" timestamp, if the list endpoint has one.
    modified_param: str | None = "updated_after"
    paged: bool = True
    #: GET /path/{id} exists (otherwise the record is found in the list).
    has_get: bool = True
    #: POST takes and answers the bare object instead of ``{"content": ...}``.
    bare_create: bool = False
    writable: bool = True
    deletable: bool = True
    #: Extra list parameters the entity needs (POS payments only show articles with ``extra=1``).
    list_params: tuple[tuple[str, str], ...] = ()
    #: The vendor's key of the document's lines, shown to Synkro as ``lines``.
    lines_key: str | None = None


RESOURCES: dict[Entity, Resource] = {
    Entity.ORGANISATION: Resource("customers"),
    Entity.ITEM: Resource("products"),
    Entity.POS_SALE: Resource("pospayments", bare_create=True, deletable=False,
                              list_params=(("extra", "1"),), lines_key="articles"),
    Entity.DAILY_REPORT: Resource("posbalances", modified_param="fromDate", has_get=False, writable=False,
                                  deletable=False),
    Entity.USER: Resource("users", modified_param=None, paged=False, has_get=False),
}


def flatten(vendor: Mapping[str, Any], prefix: str = "") -> Record:
    """A vendor object as a flat record: nested objects become dotted keys, lists stay lists."""
    record: Record = {}
    for key, value in vendor.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            record.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            record[name] = [flatten(v) if isinstance(v, Mapping) else v for v in value]
        else:
            record[name] = value
    return record


def unflatten(record: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`flatten`: dotted keys become nested objects again."""
    vendor: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, list):
            value = [unflatten(v) if isinstance(v, Mapping) else v for v in value]
        parts = key.split(".")
        node = vendor
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return vendor


def store_timestamp(value: Any) -> str:
    """A "changed since" value in the store's own format: ``YYYY-MM-DD HH:MM:SS``, local time."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(STORE_TIMEZONE).replace(tzinfo=None)
        return value.strftime(TIMESTAMP_FORMAT)
    if isinstance(value, date):
        return f"{value.isoformat()} 00:00:00"
    return str(value)


class Customers1stClient(ApiClient):
    """Customers, products, POS payments and balances, registers and REST hooks of one store."""

    system = "customers1st"
    #: ``updated_after`` is the store's wall-clock time, compared to the second (``store_timestamp``).
    change_filter_zone = STORE_TIMEZONE
    #: Send ``X-Suppress-Hooks`` on writes so our own changes raise no REST hooks.
    suppress_hooks: bool = True

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._catalog = build_catalog()

    # -- auth and errors ----------------------------------------------------------------------
    def authenticate(self, headers: dict[str, str]) -> None:
        """The API user's token is the whole handshake."""
        token = self.credentials.get("api_token", "").strip()
        if not token:
            raise AuthError("Customers 1st needs the API token of an API user")
        headers["Authorization"] = f"Bearer {token}"

    def refusal_for(self, body: Any) -> Refusal | None:
        """Its ``errorcode`` or validator list explained (``messages.customers1st_refusal``); None for other bodies."""
        if isinstance(body, dict):
            return customers1st_refusal(body.get("errorcode"), body.get("errors"))
        return None

    def vendor_message(self, response: requests.Response) -> str:
        """Customers 1st answers ``{message, errorcode}``, the validator's ``{message, errors[]}``,
        the rate limiter's ``{error, bucket_size, bucket_regen}`` or, on some 404s, a bare string."""
        try:
            body = response.json()
        except ValueError:
            return super().vendor_message(response)
        if isinstance(body, str):
            return body
        if not isinstance(body, dict):
            return str(body)[:500]
        message = str(body.get("message") or body.get("error") or "").strip()
        if body.get("errorcode"):
            message = f"{message} ({body['errorcode']})" if message else str(body["errorcode"])
        details = _error_details(body.get("errors"))
        if details:
            message = f"{message}: {details}" if message else details
        return message or str(body)[:500]

    def retry_after(self, response: requests.Response) -> float | None:
        """Retry-After when sent; otherwise one token's refill time from the 429 body's ``bucket_regen``."""
        seconds = super().retry_after(response)
        if seconds is not None or response.status_code != 429:
            return seconds
        try:
            regen = float(response.json().get("bucket_regen"))
        except (ValueError, TypeError, AttributeError):
            return None
        return 1.0 / regen if regen > 0 else None

    def _write_headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.suppress_hooks:
            headers["X-Suppress-Hooks"] = "1"
        return headers

    # -- the record interface -----------------------------------------------------------------
    def check_connection(self) -> str:
        store = self.json("GET", "settings/store") or {}
        return f"Customers 1st store {store.get('title') or store.get('id') or ''}".strip()

    def list_records(self, entity: Entity, *, modified_since: Any = None, page_size: int | None = None
                     ) -> Iterator[Record]:
        resource = self._resource(entity)
        params: dict[str, Any] = dict(resource.list_params)
        if modified_since is not None and resource.modified_param:
            params[resource.modified_param] = store_timestamp(modified_since)
        if not resource.paged:
            for vendor in self.json("GET", resource.path, params=params).get("content") or []:
                yield self._to_record(resource, vendor)
            return
        length = max(1, min(page_size or MAX_PAGE_LENGTH, MAX_PAGE_LENGTH))
        start = 0
        while True:
            page = self.json("GET", resource.path, params={
                **params, "paginationStart": start, "paginationPageLength": length}) or {}
            content = page.get("content") or []
            for vendor in content:
                yield self._to_record(resource, vendor)
            if not page.get("hasMore") or not content:
                return
            start += len(content)

    def get_record(self, entity: Entity, record_id: str) -> Record:
        resource = self._resource(entity)
        return self._to_record(resource, self._get_vendor(entity, resource, record_id))

    def create_record(self, entity: Entity, data: Record) -> Record:
        resource = self._resource(entity, write=True)
        vendor = self._to_vendor(entity, resource, data, drop_read_only=True)
        body = vendor if resource.bare_create else {"content": vendor}
        answer = self.json("POST", resource.path, json=body, headers=self._write_headers())
        created = answer if resource.bare_create else answer.get("content", answer)
        return self._to_record(resource, created)

    def update_record(self, entity: Entity, record_id: str, data: Record, *,
                      check: Callable[[Record], None] | None = None, read: Record | None = None) -> Record:
        """Read, merge, put: a PUT nulls every field it does not name. ``check`` sees the record as read just
        before the write (Synkro's record shape) and may stop it. ``read`` is not used: the merge needs the
        vendor's own shape of the record, which Synkro's read does not keep."""
        resource = self._resource(entity, write=True)
        current = self._get_vendor(entity, resource, record_id)
        if check is not None:
            check(self._to_record(resource, current))
        merged = _merge(current, self._to_vendor(entity, resource, data, drop_read_only=True))
        answer = self.json("PUT", f"{resource.path}/{int(record_id)}", json={"content": merged},
                           headers=self._write_headers())
        return self._to_record(resource, (answer or {}).get("content") or merged)

    def delete_record(self, entity: Entity, record_id: str) -> None:
        resource = self._resource(entity, write=True)
        if not resource.deletable:
            raise NotImplementedError(f"Customers 1st cannot delete {entity}")
        self.request("DELETE", f"{resource.path}/{int(record_id)}", headers=self._write_headers())

    def can_delete(self, entity: Entity) -> bool:
        """Customers, products and users have a ``DELETE``; POS payments and balances have none."""
        resource = RESOURCES.get(entity)
        return resource is not None and resource.writable and resource.deletable

    def is_deleted(self, entity: Entity, record: Record) -> bool:
        """A customer carries ``deleted`` (1 when deleted), so a read may find it marked rather than gone."""
        return bool(record.get("deleted"))

    def record_id(self, entity: Entity, record: Record) -> str:
        return str(record["id"])

    # -- registers and REST hooks ---------------------------------------------------------------
    def list_registers(self, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """The store's cash registers, for the POS settings ("several registers")."""
        params = {"includeDeleted": "true"} if include_deleted else {}
        return self.json("GET", "registers", params=params).get("content") or []

    def list_hooks(self) -> list[dict[str, Any]]:
        return self.json("GET", "hooks").get("content") or []

    def subscribe(self, event: str, url: str) -> int:
        """Register a REST hook (e.g. ``customer.updated``); returns the subscription id."""
        answer = self.json("POST", "hooks", json={"event": event, "url": url},
                           headers={"Content-Type": "application/json"})
        return int(answer["id"])

    def unsubscribe(self, hook_id: int | str) -> None:
        self.request("DELETE", f"hooks/{int(hook_id)}")

    def store_configs(self) -> dict[str, str | None]:
        """The store's configs as ``{key: value}`` (``GET /settings/configs``, ``GetConfigs.content[{key, value}]``)."""
        answer = self.json("GET", "settings/configs") or {}
        content = answer.get("content") if isinstance(answer, dict) else None
        return {str(c.get("key")): c.get("value") for c in content or [] if isinstance(c, dict) and c.get("key")}

    def set_store_config(self, key: str, value: str) -> None:
        """Set one store config (``PUT /settings/configs`` with ``SetConfigs {content: [{key, value}]}``)."""
        self.request("PUT", "settings/configs", json={"content": [{"key": key, "value": value}]},
                     headers={"Content-Type": "application/json"})

    # -- shapes -------------------------------------------------------------------------------
    def _resource(self, entity: Entity, *, write: bool = False) -> Resource:
        resource = RESOURCES.get(Entity(entity))
        if resource is None:
            raise NotImplementedError(f"Customers 1st has no {entity}")
        if write and not resource.writable:
            raise NotImplementedError(f"Customers 1st's {entity} is read-only")
        return resource

    def _get_vendor(self, entity: Entity, resource: Resource, record_id: str) -> dict[str, Any]:
        if resource.has_get:
            answer = self.json("GET", f"{resource.path}/{int(record_id)}")
            return answer.get("content", answer) if isinstance(answer, dict) else {}
        for record in self.list_records(entity):  # no GET by id: look it up in the list
            if str(record.get("id")) == str(record_id):
                return unflatten(record)
        raise NotFoundError(f"Customers 1st has no {entity} {record_id}", status=404)

    def _to_record(self, resource: Resource, vendor: Mapping[str, Any]) -> Record:
        record = flatten(vendor)
        if resource.lines_key:
            record["lines"] = record.pop(resource.lines_key, None) or []
        return record

    def _to_vendor(self, entity: Entity, resource: Resource, record: Mapping[str, Any], *,
                   drop_read_only: bool) -> dict[str, Any]:
        spec = self._catalog.entity(entity)
        read_only = {f.name for f in spec.fields if f.read_only} if spec and drop_read_only else set()
        fields = {k: v for k, v in record.items() if k not in read_only}
        if resource.lines_key and "lines" in fields:
            fields[resource.lines_key] = [_without_read_only_line_fields(line) for line in fields.pop("lines") or []]
        return unflatten(fields)


def _without_read_only_line_fields(line: Mapping[str, Any]) -> dict[str, Any]:
    read_only = {f.name for f in PAYMENT_ARTICLE_FIELDS if f.read_only}
    return {k: v for k, v in line.items() if k not in read_only}


def _merge(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _error_details(errors: Any) -> str:
    """The validator's list (``[{name, code}]``) or a form request's ``{field: [messages]}``."""
    if isinstance(errors, list):
        parts = [f"{e.get('name') or e.get('in') or '?'} {e.get('code', '')}".strip()
                 for e in errors if isinstance(e, Mapping)]
        return "; ".join(parts)
    if isinstance(errors, Mapping):
        return "; ".join(f"{field}: {' '.join(map(str, messages if isinstance(messages, list) else [messages]))}"
                         for field, messages in errors.items())
    return ""
