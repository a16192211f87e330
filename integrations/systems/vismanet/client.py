"""Visma.net ERP client: Visma Connect client-credentials tokens and the ``/v1`` resource endpoints.

URL rule: the connection's base URL is the API host without version (``https://api.finance.visma.net``
in production, ``<site>/sandbox/vismanet`` in the demo); the client appends :attr:`api_prefix`
(``/v1``). The token endpoint lives on another host, Visma Connect: for a base URL on ``visma.net``
it is ``https://connect.visma.com/connect/token``; for any other base URL (a sandbox) it is
``<base_url>/connect/token``, served beside the API.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from ..base import ApiClient, Record
from ..catalog import Entity, EntitySpec
from ..errors import AuthError, ExternalSystemError, NotFoundError, VendorValidationError
from . import dto
from .catalog import vismanet_catalog

logger = logging.getLogger(__name__)

VISMA_CONNECT_TOKEN_URL = "https://connect.visma.com/connect/token"  # noqa: S105 - a URL, not a secret
SCOPES = ("vismanet_erp_service_api:read", "vismanet_erp_service_api:create",
          "vismanet_erp_service_api:update", "vismanet_erp_service_api:delete")


#: How :meth:`VismaNetClient.delete_record` removes a record: the API has no DELETE, so it deactivates.
DEACTIVATION: dict[Entity, Record] = {
    Entity.ORGANISATION: {"status": "Inactive"},
    Entity.PERSON: {"active": False},
    Entity.ITEM: {"status": "Inactive"},
    Entity.DELIVERY: {"canceled": True},
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
        return super().vendor_message(response)

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
        """Walk ``pageNumber`` 1, 2, ... until a short page; one page in memory at a time."""
        size = page_size or self.default_page_size
        params: dict[str, Any] = {"pageSize": size}
        if modified_since is not None:
            params["lastModifiedDateTime"] = visma_datetime(modified_since)
            params["lastModifiedDateTimeCondition"] = self.modified_condition
        number = 1
        while True:
            page = self.json("GET", self._path(entity), params={**params, "pageNumber": number}) or []
            for dto_record in page:
                yield self.record_from_dto(entity, dto_record)
            if len(page) < size:
                return
            number += 1

    def get_record(self, entity: Entity, record_id: str) -> Record:
        return self.record_from_dto(entity, self.json("GET", self._path(entity, record_id)))

    def create_record(self, entity: Entity, data: Record) -> Record:
        """POST answers 201 with the new record's URL in Location; read it back from there."""
        self._refuse_read_only_entity(entity)
        response = self.request("POST", self._path(entity), json=self.update_dto(entity, data))
        location = response.headers.get("Location")
        if not location:
            raise VendorValidationError("Visma.net created the record but did not say where (no Location)",
                                        status=response.status_code)
        return self.record_from_dto(entity, self.json("GET", location))

    def update_record(self, entity: Entity, record_id: str, data: Record) -> Record:
        """PUT the changed fields (204), then read the record back as Visma.net stored it."""
        self._refuse_read_only_entity(entity)
        current_lines = None
        if "lines" in data and entity in dto.LINE_LISTS:
            current_lines = self.get_record(entity, record_id).get("lines", [])
        body = self.update_dto(entity, data, current_lines=current_lines)
        self.request("PUT", self._path(entity, record_id), json=body)
        return self.get_record(entity, record_id)

    def delete_record(self, entity: Entity, record_id: str) -> None:
        """Visma.net ERP's API deletes none of these; it deactivates: customers and items become
        Inactive, contacts inactive, sales orders cancelled. Invoices and employees cannot go."""
        if entity not in DEACTIVATION:
            raise VendorValidationError(f"Visma.net ERP cannot delete a {self._spec(entity).label.lower()}",
                                        vendor_message="Not supported by the Visma.net ERP API")
        self.request("PUT", self._path(entity, record_id), json=self.update_dto(entity, DEACTIVATION[entity]))

    def can_delete(self, entity: Entity) -> bool:
        """What :meth:`delete_record` can deactivate; invoices and employees have no way to go."""
        return entity in DEACTIVATION

    def has_activity(self, entity: Entity, record_id: str) -> bool | None:
        """Whether customer ``record_id`` has an invoice or a sales order: ``/customer/{number}/invoice`` and
        ``/customer/{number}/salesorder``, one row each."""
        if entity != Entity.ORGANISATION:
            return None
        customer = self._path(Entity.ORGANISATION, record_id)
        for documents in ("invoice", "salesorder"):
            if self.json("GET", f"{customer}/{documents}", params={"pageNumber": 1, "pageSize": 1}):
                return True
        return False

    def record_id(self, entity: Entity, record: Record) -> str:
        return str(record[self._spec(entity).id_field])

    # -- shapes ---------------------------------------------------------------------------------
    def _refuse_read_only_entity(self, entity: Entity) -> None:
        if entity == Entity.USER:
            raise VendorValidationError("Visma.net ERP's API only reads employees",
                                        vendor_message="Employees are read-only in the Visma.net ERP API")

    def record_from_dto(self, entity: Entity, body: Mapping[str, Any]) -> Record:
        """A read DTO -> a flat record; documents carry their lines under ``lines``."""
        if not isinstance(body, Mapping):
            raise ExternalSystemError(f"Visma.net answered a {entity} that is not an object")
        line_list = dto.LINE_LISTS.get(entity)
        record = dto.flatten(body, skip=("metadata",))
        if line_list:
            record["lines"] = [dto.flatten(line) for line in body.get(line_list) or []]
        return record

    def update_dto(self, entity: Entity, data: Mapping[str, Any], *,
                   current_lines: list[Record] | None = None) -> dict[str, Any]:
        """A flat record -> the vendor's update DTO, values wrapped, read-only fields left out."""
        spec = self._spec(entity)
        flat: dict[str, Any] = {}
        for name, value in data.items():
            if name == "lines":
                continue
            field = spec.field(name)
            if field is None:
                raise VendorValidationError(f"Visma.net {spec.vendor_name} has no field {name!r}",
                                            vendor_message=f"Unknown field {name}")
            if field.read_only:
                continue
            flat[dto.write_name(entity, name)] = _plain(value)
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
