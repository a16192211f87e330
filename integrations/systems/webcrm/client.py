"""webCRM's REST API v1: application-token login, paging, change queries, deliveries with their lines.

webCRM trades an application token (``authCode``) for an hour-long access token at
``POST /Auth/ApiLogin`` and renews it with the refresh token at ``POST /Auth/ApiRefresh``. Lists are
bare JSON arrays paged by ``Page`` (from 1) and ``Size`` (at most 1000); an empty page ends them.
``PUT`` replaces the whole record, so updates read the record first and send it back merged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from ..base import ApiClient, Record, normalise_match_value
from ..catalog import Entity
from ..errors import AuthError, VendorValidationError
from .catalog import webcrm_catalog

MAX_PAGE_SIZE = 1000
LINES = "lines"
#: webCRM writes timestamps without an offset; they are read and written as UTC.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True)
class Resource:
    """One webCRM resource: its path, id field, table name in ``/Queries`` and change stamp."""

    path: str
    id_field: str
    table: str
    updated_field: str
    deletable: bool = False


RESOURCES: dict[Entity, Resource] = {
    Entity.ORGANISATION: Resource("Organisations", "OrganisationId", "Organisation", "OrganisationUpdatedAt"),
    Entity.PERSON: Resource("Persons", "PersonId", "Person", "PersonUpdatedAt"),
    Entity.ITEM: Resource("Products", "ProductId", "Product", "ProductUpdatedAt", deletable=True),
    Entity.DELIVERY: Resource("Deliveries", "DeliveryId", "Delivery", "DeliveryUpdatedAt"),
    Entity.DELIVERY_LINE: Resource("QuotationLines", "QuotationLineId", "QuotationLine",
                                   "QuotationLineUpdatedAt", deletable=True),
    Entity.USER: Resource("Users", "UserId", "User", "UserUpdatedAt"),
}


def webcrm_timestamp(value: Any) -> str:
    """A ``modified_since`` (datetime or ISO text) in webCRM's own offset-free UTC form."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        raise TypeError(f"modified_since must be a datetime or ISO text, not {type(value).__name__}")
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime(TIMESTAMP_FORMAT)


class WebcrmClient(ApiClient):
    """Organisations, persons, products, deliveries (with quotation lines) and users of one webCRM."""

    system = "webcrm"

    # -- auth ------------------------------------------------------------------------------
    def authenticate(self, headers: dict[str, str]) -> None:
        headers["Authorization"] = f"Bearer {self._tokens()['AccessToken']}"

    def refresh_auth(self) -> bool:
        """After a 401: renew with the refresh token, or log in again when that is refused too."""
        tokens = self.token_store.get(self.token_key()) or {}
        if tokens.get("RefreshToken"):
            try:
                self._store(self.request("POST", "/Auth/ApiRefresh", auth=False,
                                         headers={"refreshToken": tokens["RefreshToken"]}))
                return True
            except AuthError:
                pass
        self._store(self._login())
        return True

    def _tokens(self) -> dict[str, Any]:
        tokens = self.token_store.get(self.token_key())
        if not tokens:
            tokens = self._store(self._login())
        return tokens

    def _login(self) -> requests.Response:
        api_key = self.credentials.get("api_key", "")
        if not api_key:
            raise AuthError("webCRM needs an API key (an application token)")
        # multipart/form-data, as the API description says for this operation
        return self.request("POST", "/Auth/ApiLogin", auth=False, files={"authCode": (None, api_key)})

    def _store(self, response: requests.Response) -> dict[str, Any]:
        """Keep the tokens a login or refresh returned, until shortly before they expire."""
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict) or body.get("IsError") or not body.get("AccessToken"):
            message = (body.get("ErrorDescription") or body.get("Error") if isinstance(body, dict) else None)
            raise AuthError(f"webCRM refused the credentials: {message or 'no access token'}",
                            status=response.status_code, vendor_message=message)
        tokens = {"AccessToken": body["AccessToken"], "RefreshToken": body.get("RefreshToken")}
        lifetime = float(body.get("ExpiresIn") or 3600)
        self.token_store.set(self.token_key(), tokens, timeout=max(30.0, lifetime - 60))
        return tokens

    # -- errors ------------------------------------------------------------------------------
    def vendor_message(self, response: requests.Response) -> str:
        """webCRM answers ``{"Message", "Type"}``, a token error or ASP.NET's per-field lists."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            for key in ("Message", "ErrorDescription", "Error", "message", "title"):
                if body.get(key):
                    return str(body[key])
            errors = body.get("errors", body)
            if isinstance(errors, dict) and errors:
                return "; ".join(f"{field}: {' '.join(map(str, problems)) if isinstance(problems, list) else problems}"
                                 for field, problems in errors.items())
        if isinstance(body, list) and body:
            return "; ".join(map(str, body))[:500]
        challenge = response.headers.get("WWW-Authenticate", "")
        match = re.search(r'error_description="([^"]*)"', challenge)
        if match:
            return match.group(1)
        return (response.text or response.reason or "").strip()[:500]

    # -- the record interface ----------------------------------------------------------------
    def check_connection(self) -> str:
        users = self.json("GET", "/Users", params={"Page": 1, "Size": 1}) or []
        who = users[0].get("UserName") if users else None
        return f"Connected to webCRM{f' (first user: {who})' if who else ''}"

    def list_records(self, entity: Entity, *, modified_since: Any = None, page_size: int | None = None
                     ) -> Iterator[Record]:
        """Every record, or those changed since ``modified_since``, one page in memory at a time."""
        resource = self._resource(entity)
        size = max(1, min(page_size or MAX_PAGE_SIZE, MAX_PAGE_SIZE))
        if modified_since is None:
            pages = self._pages(f"/{resource.path}", size)
        elif entity == Entity.ORGANISATION:
            start = webcrm_timestamp(modified_since)
            end = webcrm_timestamp(datetime.now(UTC) + timedelta(days=1))
            pages = self._pages(f"/Organisations/FindByUpdateDates/{start}/{end}", size)
        else:
            pages = self._pages("/Queries", size, script=self.changes_script(resource, modified_since))
        for record in pages:
            if entity == Entity.DELIVERY:
                record[LINES] = list(self._delivery_lines(record["DeliveryId"]))
            yield record

    @staticmethod
    def changes_script(resource: Resource, modified_since: Any) -> str:
        """webCRM's SQL-like query for records changed since a moment, oldest change first."""
        since = webcrm_timestamp(modified_since)  # a formatted datetime: nothing of a caller's text
        field = resource.updated_field
        return f"SELECT * FROM {resource.table} WHERE {field} >= '{since}' ORDER BY {field} ASC"  # noqa: S608

    def find_records(self, entity: Entity, field_name: str, value: Any) -> list[Record]:
        """Match on the server with a ``/Queries`` filter, as webCRM's own ERP sync looks records up."""
        wanted = normalise_match_value(value)
        resource = self._resource(entity)
        spec = webcrm_catalog().entity(entity)
        if wanted == "" or spec is None or spec.field(field_name) is None:
            return []
        literal = str(value).strip().replace("'", "''")
        script = f"SELECT * FROM {resource.table} WHERE {field_name} = '{literal}'"  # noqa: S608 - name checked
        found = [record for record in self._pages("/Queries", MAX_PAGE_SIZE, script=script)
                 if normalise_match_value(record.get(field_name)) == wanted]
        if entity == Entity.DELIVERY:
            for record in found:
                record[LINES] = list(self._delivery_lines(record["DeliveryId"]))
        return found

    def get_record(self, entity: Entity, record_id: str) -> Record:
        resource = self._resource(entity)
        record = self.json("GET", f"/{resource.path}/{int(record_id)}")
        if entity == Entity.DELIVERY:
            record[LINES] = list(self._delivery_lines(record["DeliveryId"]))
        return record

    def create_record(self, entity: Entity, data: Record) -> Record:
        """Create, then read back what webCRM stored (it fills defaults and stamps)."""
        resource = self._resource(entity)
        body = self._writable(entity, data)
        body[resource.id_field] = 0  # the DTO requires the id; 0 asks webCRM to assign one
        new_id = self._created_id(self.request("POST", f"/{resource.path}", json=body))
        if entity == Entity.DELIVERY:
            self._write_lines(new_id, body.get("DeliveryOrganisationId"), [], data.get(LINES) or [])
        return self.get_record(entity, str(new_id))

    def update_record(self, entity: Entity, record_id: str, data: Record) -> Record:
        """Merge into the current record and PUT it whole; a delivery's lines are replaced when given."""
        resource = self._resource(entity)
        current = self.get_record(entity, record_id)
        old_lines = current.pop(LINES, [])
        body = {**self._writable(entity, current), **self._writable(entity, data)}
        body[resource.id_field] = int(record_id)
        self.request("PUT", f"/{resource.path}/{int(record_id)}", json=body)
        if entity == Entity.DELIVERY and LINES in data:
            self._write_lines(int(record_id), body.get("DeliveryOrganisationId"), old_lines, data[LINES] or [])
        return self.get_record(entity, record_id)

    def delete_record(self, entity: Entity, record_id: str) -> None:
        resource = self._resource(entity)
        if not resource.deletable:
            raise VendorValidationError(f"webCRM's API cannot delete {resource.path.lower()}; "
                                        "delete it in webCRM itself")
        self.request("DELETE", f"/{resource.path}/{int(record_id)}")

    def can_delete(self, entity: Entity) -> bool:
        """Only products and quotation lines have a ``DELETE`` in webCRM's API."""
        resource = RESOURCES.get(entity)
        return resource is not None and resource.deletable

    def record_id(self, entity: Entity, record: Record) -> str:
        return str(record[self._resource(entity).id_field])

    # -- webCRM specifics ------------------------------------------------------------------------
    def _resource(self, entity: Entity) -> Resource:
        try:
            return RESOURCES[Entity(entity)]
        except (KeyError, ValueError):
            raise NotImplementedError(f"webCRM has no {entity}") from None

    def _pages(self, path: str, size: int, **params: Any) -> Iterator[Record]:
        page = 1
        while True:
            rows = self.json("GET", path, params={**params, "Page": page, "Size": size}) or []
            if not rows:  # webCRM's only end-of-list signal; a short page may not be the last
                return
            yield from rows
            page += 1

    def _delivery_lines(self, delivery_id: int) -> Iterator[Record]:
        yield from self._pages(f"/Deliveries/{int(delivery_id)}/QuotationLines", MAX_PAGE_SIZE)

    def _write_lines(self, delivery_id: int, organisation_id: Any, old: list[Record], new: list[Record]) -> None:
        """Make the delivery's quotation lines equal ``new``: update by id, add the rest, delete leftovers."""
        kept: set[int] = set()
        existing = {int(line["QuotationLineId"]): line for line in old}
        for position, line in enumerate(new, start=1):
            line_id = int(line.get("QuotationLineId") or 0)
            body = {**(existing.get(line_id) or {}), **self._writable(Entity.DELIVERY_LINE, line)}
            body.setdefault("QuotationLineSortOrder", position)
            body.update(QuotationLineOpportunityId=int(delivery_id), QuotationLineId=line_id)
            if organisation_id:
                body["QuotationLineOrganisationId"] = int(organisation_id)
            body = self._writable(Entity.DELIVERY_LINE, body, keep=("QuotationLineId",
                                  "QuotationLineOpportunityId", "QuotationLineOrganisationId"))
            if line_id in existing:
                kept.add(line_id)
                self.request("PUT", f"/QuotationLines/{line_id}", json=body)
            else:
                body["QuotationLineId"] = 0
                self.request("POST", "/QuotationLines", json=body)
        for line_id in existing.keys() - kept:
            self.request("DELETE", f"/QuotationLines/{line_id}")

    @staticmethod
    def _writable(entity: Entity, data: Record, keep: tuple[str, ...] = ()) -> Record:
        """Only the fields webCRM lets a client write (read-only stamps and ids are its own)."""
        spec = webcrm_catalog().entity(entity)
        assert spec is not None
        result: Record = {}
        for name, value in data.items():
            field = spec.field(name)
            if name in keep or (field is not None and not field.read_only):
                result[name] = value
        return result

    @staticmethod
    def _created_id(response: requests.Response) -> int:
        """webCRM answers a create with the new id as a bare JSON number."""
        try:
            return int(response.json())
        except (ValueError, TypeError):
            raise VendorValidationError("webCRM did not say which id it gave the new record",
                                        status=response.status_code) from None
