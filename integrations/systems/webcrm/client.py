"""webCRM's REST API v1: application-token login, paging, change queries, deliveries with their lines.

webCRM trades an application token (``authCode``) for an hour-long access token at
``POST /Auth/ApiLogin`` and renews it with the refresh token at ``POST /Auth/ApiRefresh``. Lists are
bare JSON arrays paged by ``Page`` (from 1) and ``Size`` (at most 1000); an empty page ends them.
``PUT`` replaces the whole record, so updates read the record first and send it back merged. Items are the
quotation-line register (``/QuotationLines/LinkedData``: one unpaged list, no change stamp). A create's answer
may hold no id (``POST /Organisations`` and ``/Users`` document none): see ``create_record``. Sources:
docs/vendors/webcrm.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests

from ..base import ApiClient, Record, normalise_match_value
from ..catalog import Entity
from ..errors import AuthError, ExternalSystemError, Refusal, VendorValidationError
from .catalog import LINKED, LINKED_DATA_ENTITY_TYPES, webcrm_catalog
from .messages import webcrm_refusal

MAX_PAGE_SIZE = 1000
LINES = "lines"
#: webCRM writes timestamps without an offset; they are read and written as UTC.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True)
class Resource:
    """One webCRM resource: its path, id field, table name in ``/Queries`` and change stamp.

    ``updated_field`` is empty where webCRM keeps no change stamp; ``paged`` says whether its list takes
    ``Page``/``Size`` (spec); ``answer_documented`` whether the spec documents the new id in a create's answer;
    ``anchors`` are the fields a lookup after an id-less create answer filters on, first non-empty one wins.
    """

    path: str
    id_field: str
    table: str
    updated_field: str
    deletable: bool = False
    paged: bool = True
    answer_documented: bool = True
    anchors: tuple[str, ...] = ()
    #: Column prefix of the resource's rows in ``/Queries`` where it differs from the DTO's.
    query_prefix: str = ""


RESOURCES: dict[Entity, Resource] = {
    # spec: POST /Organisations and POST /Users document "Success" without a body; the others answer the id.
    Entity.ORGANISATION: Resource("Organisations", "OrganisationId", "Organisation", "OrganisationUpdatedAt",
                                  answer_documented=False, anchors=("OrganisationName",)),
    Entity.PERSON: Resource("Persons", "PersonId", "Person", "PersonUpdatedAt",
                            anchors=("PersonEmail", "PersonOrganisationId")),
    Entity.ITEM: Resource("QuotationLines/LinkedData", f"{LINKED}Id", "LinkedData", "", deletable=True,
                          paged=False, query_prefix="LinkedDataItem"),
    Entity.DELIVERY: Resource("Deliveries", "DeliveryId", "Delivery", "DeliveryUpdatedAt",
                              anchors=("DeliveryNumber", "DeliveryOrganisationId")),
    Entity.DELIVERY_LINE: Resource("QuotationLines", "QuotationLineId", "QuotationLine",
                                   "QuotationLineUpdatedAt", deletable=True, anchors=("QuotationLineOpportunityId",)),
    Entity.USER: Resource("Users", "UserId", "User", "UserUpdatedAt", answer_documented=False,
                          anchors=("UserEmail", "UserName")),
}
#: ``entityTypes`` of ``GET /FieldsMetadata/{entityTypes}`` (spec enum: Activity, Delivery, Event, Opportunity,
#: Organisation, Person, Product, SupportCase, User, All) for the entities Synkro syncs.
METADATA_ENTITY_TYPES: dict[Entity, str] = {
    Entity.ORGANISATION: "Organisation", Entity.PERSON: "Person", Entity.DELIVERY: "Delivery", Entity.USER: "User",
}
#: webCRM refuses an empty data column in the item register; its own ERP sync writes a dash instead
#: (erp ``QuotationLineLinkedDataItemDto.DataItemDefault``). Written for empty, read back as empty.
EMPTY_DATA_COLUMN = "-"
DATA_COLUMNS = tuple(f"{LINKED}Data{n}" for n in range(1, 10))
#: How often, and after how many seconds, a lookup after an id-less create answer is repeated before a person
#: is asked (the record may not be visible to ``/Queries`` at once).
CREATE_LOOKUPS = (0.0, 1.0, 3.0)


class CreatedRecordUnknown(ExternalSystemError):
    """webCRM took a create but its answer named no id, and no single record proves to be the new one.

    Not transient: trying again could create the record twice. A person looks in webCRM first.
    """


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
    """Organisations, persons, the item register, deliveries (with quotation lines) and users of one webCRM."""

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
    def refusal_for(self, body: Any) -> Refusal | None:
        """webCRM's ``Type`` or ASP.NET field list explained (``messages.webcrm_refusal``); None for other bodies."""
        if isinstance(body, dict):
            fields = body.get("errors") if isinstance(body.get("errors"), dict) else None
            return webcrm_refusal(body.get("Type"), body.get("Message"), fields)
        return None

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

    def retry_after_in_body(self, response: requests.Response) -> float | None:
        """webCRM's 429 body says how long to wait: ``{"RetryAfterSeconds": 14, "Message", "Type":
        "TooManyRequestsException"}`` (portal); a proxy in between may drop the ``Retry-After`` header."""
        try:
            body = response.json()
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        value = body.get("RetryAfterSeconds")
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return None
        try:
            seconds = float(value)
        except ValueError:
            return None
        return max(0.0, seconds) if 0 <= seconds < 86400 else None

    # -- the record interface ----------------------------------------------------------------
    def check_connection(self) -> str:
        users = self.json("GET", "/Users", params={"Page": 1, "Size": 1}) or []
        who = users[0].get("UserName") if users else None
        return f"Connected to webCRM{f' (first user: {who})' if who else ''}"

    def list_records(self, entity: Entity, *, modified_since: Any = None, page_size: int | None = None
                     ) -> Iterator[Record]:
        """Every record, or those changed since ``modified_since``, one page in memory at a time.

        The item register has neither paging nor a change stamp (spec ``GET /QuotationLines/LinkedData``): it
        comes whole, whatever ``modified_since`` says (``filters_by_change`` tells the engine so).
        """
        resource = self._resource(entity)
        size = max(1, min(page_size or MAX_PAGE_SIZE, MAX_PAGE_SIZE))
        if not resource.paged:
            pages: Iterator[Record] = iter(self.json("GET", f"/{resource.path}") or [])
        elif modified_since is None:
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
            yield self._read(entity, record)

    def filters_by_change(self, entity: Entity) -> bool:
        """False for the item register, which keeps no change stamp."""
        resource = RESOURCES.get(Entity(entity))
        return resource is None or bool(resource.updated_field)

    @staticmethod
    def changes_script(resource: Resource, modified_since: Any) -> str:
        """webCRM's SQL-like query for records changed since a moment, oldest change first."""
        since = webcrm_timestamp(modified_since)  # a formatted datetime: nothing of a caller's text
        field = resource.updated_field
        return f"SELECT * FROM {resource.table} WHERE {field} >= '{since}' ORDER BY {field} ASC"  # noqa: S608

    def find_records(self, entity: Entity, field_name: str, value: Any) -> list[Record]:
        """Match on the server with a ``/Queries`` filter, as webCRM's own ERP sync looks records up.

        Items are rows of the ``LinkedData`` table (columns ``LinkedDataItem…``, kind ``Product`` by the enum's
        number), each read again by id — erp ``GetProductByField``.
        """
        wanted = normalise_match_value(value)
        resource = self._resource(entity)
        spec = webcrm_catalog().entity(entity)
        if wanted == "" or spec is None or spec.field(field_name) is None:
            return []
        literal = str(value).strip().replace("'", "''")
        if entity == Entity.ITEM:
            column = resource.query_prefix + field_name[len(LINKED):]
            kind = LINKED_DATA_ENTITY_TYPES.index("Product")
            script = (f"SELECT * FROM {resource.table} WHERE {resource.query_prefix}EntityType = {kind} "  # noqa: S608
                      f"AND {column} = '{literal}'")
            ids = {int(row[f"{resource.query_prefix}Id"]) for row in self._pages("/Queries", MAX_PAGE_SIZE,
                                                                                 script=script)}
            found = [self.get_record(entity, str(record_id)) for record_id in sorted(ids)]
            return [record for record in found if normalise_match_value(record.get(field_name)) == wanted]
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
        return self._read(entity, record)

    def create_record(self, entity: Entity, data: Record) -> Record:
        """Create once, learn the new id, then read back what webCRM stored (it fills defaults and stamps).

        The id comes from the answer (a bare number, an object naming it, or a ``Location`` header). Where
        the spec documents no answer body (organisations, users) and none came, the one record holding the
        values just written that was not there before the create is the new one; otherwise
        :class:`CreatedRecordUnknown` — the create is never sent a second time.
        """
        resource = self._resource(entity)
        body = self._outgoing(entity, self._writable(entity, data))
        body[resource.id_field] = 0  # the DTO requires the id; 0 asks webCRM to assign one
        before = None if resource.answer_documented else self._anchor_ids(resource, body)
        response = self.request("POST", f"/{resource.path}", json=body)
        new_id = self._id_from_answer(resource, response)
        if new_id is None:
            new_id = self._find_created(entity, resource, body, before)
        if entity == Entity.DELIVERY:
            self._write_lines(new_id, body.get("DeliveryOrganisationId"), [], data.get(LINES) or [])
        return self.get_record(entity, str(new_id))

    def update_record(self, entity: Entity, record_id: str, data: Record, *,
                      check: Callable[[Record], None] | None = None, read: Record | None = None) -> Record:
        """Merge into the current record and PUT it whole; a delivery's lines are replaced when given.

        webCRM's ``PUT`` takes the whole DTO and has no version or ``If-Match`` (spec), so the record is read
        just before and ``check`` sees that read: a field changed since the engine read it stops the write.
        ``read`` (the caller's own read, ``ApiClient.update_record``) is not used: that read is what protects a
        person's edit saved after the caller read the record (webCRM would take the stale whole record without a
        word), so it is always made here, just before the ``PUT``.

        Requests: the read, the ``PUT``, and for a delivery whose lines are written the line calls
        and one read of the delivery (webCRM gives the lines their ids). Otherwise nothing is read back: the
        ``PUT`` answers 200 without a body (spec ``PUT /Organisations/{id}``, ``/Persons/{id}`` …) and webCRM's own
        ERP sync reads nothing back after one either (erp ``WebcrmClient.UpdateOrganisation``/``UpdatePerson``).
        The answer is the record as read with the values put in place: the engine fits what it writes to the
        spec's limits first, and webCRM refuses a value it would not keep rather than cutting it (guess 4); its
        stamps (``…UpdatedAt``) are left as read.
        """
        resource = self._resource(entity)
        current = self.get_record(entity, record_id)
        if check is not None:
            check(current)
        old_lines = current.pop(LINES, [])
        body = self._outgoing(entity, {**self._writable(entity, current), **self._writable(entity, data)})
        body[resource.id_field] = int(record_id)
        self.request("PUT", f"/{resource.path}/{int(record_id)}", json=body)
        if entity == Entity.DELIVERY:
            if LINES in data:
                self._write_lines(int(record_id), body.get("DeliveryOrganisationId"), old_lines, data[LINES] or [])
            return self.get_record(entity, record_id)
        return {**current, **self._read(entity, dict(body))}

    def delete_record(self, entity: Entity, record_id: str) -> None:
        resource = self._resource(entity)
        if not resource.deletable:
            raise VendorValidationError(f"webCRM's API cannot delete {resource.path.lower()}; "
                                        "delete it in webCRM itself")
        self.request("DELETE", f"/{resource.path}/{int(record_id)}")

    def can_delete(self, entity: Entity) -> bool:
        """Only the item register and quotation lines have a ``DELETE`` in webCRM's API (of what Synkro syncs)."""
        resource = RESOURCES.get(entity)
        return resource is not None and resource.deletable

    def record_id(self, entity: Entity, record: Record) -> str:
        return str(record[self._resource(entity).id_field])

    def field_values(self, entity: Entity, field_name: str) -> list[str]:
        """The values this webCRM offers for one of its drop-down fields (``OrganisationType``, ``OrganisationStatus``).

        In: an entity with field metadata (organisations, persons, deliveries, users) and a field name as the API
        spells it. Reads ``GET /FieldsMetadata/{entityType}`` (spec: an array of ``FieldMetadataDto``; no paging)
        and returns the ``Value`` of each option in the field's ``FieldMetadataDropdownListData`` (its ``Text`` when
        the value is empty), in webCRM's order, without blanks or repeats; ``[]`` when the field has no options or
        is not listed. Raises the client's typed errors (``AuthError``, ``ExternalSystemError``, ...) when webCRM
        refuses or cannot be reached. Sources: docs/vendors/webcrm.md "Drop-down values".
        """
        entity_type = METADATA_ENTITY_TYPES.get(Entity(entity))
        if entity_type is None:
            raise NotImplementedError(f"webCRM keeps no field metadata for {entity}")
        fields = self.json("GET", f"/FieldsMetadata/{entity_type}") or []
        values: list[str] = []
        for field in fields if isinstance(fields, list) else []:
            if not isinstance(field, dict) or field.get("FieldMetadataFriendlyFieldName") != field_name:
                continue
            for option in field.get("FieldMetadataDropdownListData") or []:
                if not isinstance(option, dict):
                    continue
                value = str(option.get("Value") or option.get("Text") or "").strip()
                if value and value not in values:
                    values.append(value)
        return values

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
        register: dict[str, int] = {}
        for position, line in enumerate(new, start=1):
            line_id = int(line.get("QuotationLineId") or 0)
            body = {**(existing.get(line_id) or {}), **self._writable(Entity.DELIVERY_LINE, line)}
            self._link_register_item(body, register)
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

    def _link_register_item(self, line: Record, register: dict[str, int]) -> None:
        """Point a line at its item in the register (``QuotationLineLinkedDataId``, spec ``QuotationLineUpdateDto``).

        The line's item number (its "item" role, data column 1) is looked up in the register's number column;
        only exactly one match links, else the line keeps just the number. ``register`` caches per write.
        """
        line_spec = webcrm_catalog().entity(Entity.DELIVERY_LINE)
        item_spec = webcrm_catalog().entity(Entity.ITEM)
        number_field = line_spec.role("item") if line_spec else None
        register_field = item_spec.role("number") if item_spec else None
        if not number_field or not register_field or line.get("QuotationLineLinkedDataId"):
            return
        number = str(line.get(number_field) or "").strip()
        if not number:
            return
        if number not in register:
            found = self.find_records(Entity.ITEM, register_field, number)
            register[number] = int(found[0][f"{LINKED}Id"]) if len(found) == 1 else 0
        if register[number]:
            line["QuotationLineLinkedDataId"] = register[number]

    @staticmethod
    def _read(entity: Entity, record: Record) -> Record:
        """A record as Synkro sees it: the register's placeholder for an empty data column reads as empty."""
        if entity == Entity.ITEM and isinstance(record, dict):
            for column in DATA_COLUMNS:
                if record.get(column) == EMPTY_DATA_COLUMN:
                    record[column] = ""
        return record

    @staticmethod
    def _outgoing(entity: Entity, body: Record) -> Record:
        """What webCRM accepts: the register's data columns never empty, its rows of the kind ``Product``."""
        if entity == Entity.ITEM:
            for column in DATA_COLUMNS:
                if body.get(column) is None or not str(body[column]).strip():
                    body[column] = EMPTY_DATA_COLUMN
            if not body.get(f"{LINKED}EntityType"):
                body[f"{LINKED}EntityType"] = "Product"
        return body

    # -- the id of a new record ---------------------------------------------------------------------
    @staticmethod
    def _id_from_answer(resource: Resource, response: requests.Response) -> int | None:
        """The new id from a create's answer: a bare number, an object naming it, or a ``Location`` header."""
        try:
            body = response.json() if response.content and response.content.strip() else None
        except ValueError:
            body = None
        if isinstance(body, dict):
            body = next((body[key] for key in (resource.id_field, "Id", "id") if key in body), None)
        if isinstance(body, str) and body.strip().isdigit():
            body = int(body)
        if isinstance(body, int) and not isinstance(body, bool) and body > 0:
            return body
        match = re.search(r"/(\d+)/?$", response.headers.get("Location", ""))
        return int(match.group(1)) if match else None

    def _anchor_rows(self, resource: Resource, body: Record) -> list[Record] | None:
        """Records sharing the body's first non-empty anchor value; None when it has none to look by."""
        for anchor in resource.anchors:
            value = body.get(anchor)
            if value is None or not str(value).strip() or value == 0:
                continue
            literal = str(value).strip().replace("'", "''")
            script = (f"SELECT * FROM {resource.table} WHERE {anchor} = '{literal}' "  # noqa: S608 - names are ours
                      f"ORDER BY {resource.id_field} DESC")
            return list(self._pages("/Queries", MAX_PAGE_SIZE, script=script))
        return None

    def _anchor_ids(self, resource: Resource, body: Record) -> set[int] | None:
        rows = self._anchor_rows(resource, body)
        return None if rows is None else {int(row[resource.id_field]) for row in rows}

    def _find_created(self, entity: Entity, resource: Resource, body: Record, before: set[int] | None) -> int:
        """The one record holding ``body``'s values that was not there before; newest first, looked for a few times.

        Raises :class:`CreatedRecordUnknown` when the answer should have named the id (the spec says so), when
        there is nothing to look by, or when no single record proves to be the new one.
        """
        what = str(Entity(entity).value)
        name = next((str(body[a]) for a in resource.anchors if body.get(a) not in (None, "", 0)), "")
        shown = f" “{name}”" if name and not name.isdigit() else ""
        ask = ("Please check webCRM for it before replaying this change; a replay looks for the record again "
               "before anything is created.")
        if resource.answer_documented or before is None:
            raise CreatedRecordUnknown(f"webCRM created the {what}{shown} but its answer did not say which id it "
                                       f"got. {ask}", system=self.system)
        matches: list[int] = []
        for delay in CREATE_LOOKUPS:
            if delay:
                self.sleep(delay)
            rows = self._anchor_rows(resource, body) or []
            matches = sorted({int(row[resource.id_field]) for row in rows
                              if int(row[resource.id_field]) not in before and _holds(row, body, resource)},
                             reverse=True)
            if matches:
                break
        if len(matches) == 1:
            return matches[0]
        found = "no record" if not matches else f"{len(matches)} records"
        raise CreatedRecordUnknown(f"webCRM took the new {what}{shown} without saying which id it got, and {found} "
                                   f"with the values Synkro wrote appeared. {ask}", system=self.system)


#: A date or an offset-free moment, as webCRM writes them and Synkro may send them.
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?")


def _holds(row: Record, body: Record, resource: Resource) -> bool:
    """Whether a record holds every value of ``body`` it shows (at least one), as webCRM stores them."""
    compared = 0
    for name, written in body.items():
        if name == resource.id_field or name not in row:
            continue
        if not _same_value(written, row[name]):
            return False
        compared += 1
    return compared > 0


def _same_value(written: Any, stored: Any) -> bool:
    """A written value and webCRM's stored one are the same: numbers by value, dates by moment, text by its words."""
    if isinstance(written, bool) or isinstance(stored, bool):
        return bool(written) == bool(stored)
    if written is None or written == "":
        return stored in (None, "")
    if isinstance(written, int | float | Decimal):
        try:
            return Decimal(str(stored if stored not in (None, "") else 0)) == Decimal(str(written))
        except ArithmeticError:
            return False
    text, kept = str(written).strip(), str(stored if stored is not None else "").strip()
    if _MOMENT.fullmatch(text) and _MOMENT.fullmatch(kept):
        return datetime.fromisoformat(text) == datetime.fromisoformat(kept)
    return " ".join(text.split()) == " ".join(kept.split())
