"""A simulator of webCRM's REST API v1 for tests, the demo and fault drills.

Same paths, field names and handshake as api.webcrm.com: ``POST /Auth/ApiLogin`` with the
application token as form field ``authCode``, hour-long bearer tokens renewed at
``/Auth/ApiRefresh``, ``Page``/``Size`` paging over bare arrays, ``/Organisations/FindByUpdateDates``
and ``/Queries`` for changes, the quotation-line item register ``/QuotationLines/LinkedData`` (one unpaged
list), creates answered as the API description says (the new id, or nothing for organisations and users),
the ``/{Entity}/Hooks`` subscriptions it calls on every change, and 250 requests per sliding minute answered
with webCRM's own 429 body and ``Retry-After`` header.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from ..catalog import FieldType
from ..sandbox import (
    SandboxApp,
    SandboxError,
    json_response,
    read_json,
    restore_tables_meta,
    tables_collections,
    tables_meta,
)
from .sandbox_store import HOOK_FILTERS, REGISTER, WebcrmStore, bad_request, coerce_value

#: The application token the demo tenant's connection uses.
DEMO_API_KEY = "6f1c2d3e-4b5a-4c6d-8e7f-90a1b2c3d4e5"
TOKEN_LIFETIME = 3600

RESOURCE_PATHS = "Organisations,Persons,Deliveries,QuotationLines,Users"
HOOK_PATHS = ",".join(HOOK_FILTERS)
DELETABLE = "QuotationLines"
#: The singular webCRM uses in field names, for the hook notification.
SINGULAR = {"Organisations": "Organisation", "Persons": "Person", "Deliveries": "Delivery",
            "QuotationLines": "QuotationLine", "Users": "User"}
#: Creates the API description documents without an answer body ("Success" only): spec ``POST /Organisations``,
#: ``POST /Users``. The others answer the new id as a bare number.
EMPTY_CREATE_ANSWER = ("Organisations", "Users")
#: ``entityTypes`` the API description allows in ``/FieldsMetadata/{entityTypes}`` (an enum; anything else is a 400).
METADATA_ENTITY_TYPES = ("Activity", "Delivery", "Event", "Opportunity", "Organisation", "Person", "Product",
                         "SupportCase", "User", "All")
#: A new webCRM database's drop-down lists, until its administrator changes them (the demo sets its own).
DEFAULT_FIELD_OPTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "Organisation": {"OrganisationType": ("Kunde", "Prospekt", "Leverandør", "Partner"),
                     "OrganisationStatus": ("Aktiv", "Passiv")},
}
#: How each drop-down field is described in ``FieldMetadataDto``: (db field name, label, id); ``o_type`` and id 12
#: for OrganisationType as Zynk's webCRM field metadata example shows them, the rest alike.
FIELD_METADATA = {"OrganisationType": ("o_type", "Org_Type", 12), "OrganisationStatus": ("o_status", "Org_Status", 13)}
#: The shapes a hook call can take (``hook_body`` knob): the notice below, the bare record, or a list of either.
HOOK_BODIES = ("notice", "record", "notices", "records")


def _page(request: Request) -> tuple[int, int]:
    """``Page`` from 1 and ``Size`` up to 1000, as the API description bounds them."""
    try:
        page = int(request.args.get("Page", 1))
        size = int(request.args.get("Size", 50))
    except ValueError:
        raise bad_request("Page and Size must be whole numbers") from None
    if page < 1 or not 1 <= size <= 1000:
        raise bad_request("Page must be at least 1 and Size between 1 and 1000")
    return page, size


def _paged(request: Request, rows: list[dict[str, Any]]) -> Response:
    page, size = _page(request)
    return json_response(rows[(page - 1) * size: page * size])


class WebcrmSandbox(SandboxApp):
    """One simulated webCRM database with its API."""

    system = "webcrm"
    default_rate_limit = (250, 60.0)
    rules = [
        Rule("/Auth/ApiLogin", methods=["POST"], endpoint="api_login"),
        Rule("/Auth/ApiRefresh", methods=["POST"], endpoint="api_refresh"),
        Rule("/Auth", methods=["GET"], endpoint="auth_info"),
        Rule("/Queries", methods=["GET"], endpoint="queries"),
        Rule("/FieldsMetadata", methods=["GET"], endpoint="fields_metadata"),
        Rule("/FieldsMetadata/<entity_types>", methods=["GET"], endpoint="fields_metadata"),
        Rule("/Organisations/FindByUpdateDates/<start>/<end>", methods=["GET"], endpoint="organisations_by_update"),
        Rule("/Deliveries/<int:record_id>/QuotationLines", methods=["GET"], endpoint="delivery_lines"),
        Rule("/QuotationLines/LinkedData", methods=["GET", "POST"], endpoint="register"),
        Rule("/QuotationLines/LinkedData/<int:record_id>", methods=["GET", "PUT", "DELETE"],
             endpoint="register_item"),
        Rule(f"/<any({HOOK_PATHS}):path>/Hooks", methods=["GET", "POST"], endpoint="hooks"),
        Rule(f"/<any({HOOK_PATHS}):path>/Hooks/<int:hook_id>", methods=["GET", "PUT", "DELETE"],
             endpoint="hook"),
        Rule(f"/<any({RESOURCE_PATHS}):path>", methods=["GET", "POST"], endpoint="collection"),
        Rule(f"/<any({RESOURCE_PATHS}):path>/<int:record_id>", methods=["GET", "PUT"], endpoint="record"),
        Rule(f"/<any({DELETABLE}):path>/<int:record_id>", methods=["DELETE"], endpoint="record_delete"),
    ]

    def __init__(self, *, api_keys: Iterable[str] = (DEMO_API_KEY,), token_lifetime: float = TOKEN_LIFETIME,
                 **knobs: Any):
        super().__init__(**knobs)
        self.api_keys = set(api_keys)
        self.token_lifetime = token_lifetime
        self.store = WebcrmStore()
        #: access token → (api key, expiry on ``self.clock``); refresh token → api key.
        self.access_tokens: dict[str, tuple[str, float]] = {}
        self.refresh_tokens: dict[str, str] = {}
        #: Which shape hook calls take, one of ``HOOK_BODIES``; webCRM does not document it.
        self.hook_body = "notice"
        #: Fault drill: answer every create this way instead ("empty", "id", "object", "location"); None = as
        #: the API description says.
        self.create_answer: str | None = None
        #: The drop-down lists this database's administrator keeps (``/FieldsMetadata``): entity type → field →
        #: values, in the order webCRM shows them.
        self.field_options: dict[str, dict[str, list[str]]] = {
            entity_type: {name: list(values) for name, values in fields.items()}
            for entity_type, fields in DEFAULT_FIELD_OPTIONS.items()}

    # -- webCRM's error bodies ---------------------------------------------------------------
    def rate_limited_response(self, retry_after: float) -> Response:
        seconds = max(1, round(retry_after))
        return json_response({"RetryAfterSeconds": seconds,
                              "Message": "The request was throttled. The limit of 250 requests per minute "
                                         "is reached", "Type": "TooManyRequestsException"},
                             status=429, headers={"Retry-After": str(seconds)})

    def server_error_response(self, status: int = 503) -> Response:
        return json_response({"Message": "An error has occurred.", "Type": "InternalServerErrorException"},
                             status=status)

    def not_found_response(self) -> Response:
        return json_response({"Message": "The requested resource was not found", "Type": "NotFoundException"},
                             status=404)

    @staticmethod
    def unauthorized(description: str) -> SandboxError:
        """ASP.NET's bearer challenge: an empty 401 whose header says why."""
        return SandboxError(401, "", headers={
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'})

    # -- auth ----------------------------------------------------------------------------------
    def _issue(self, api_key: str) -> Response:
        access, refresh = secrets.token_hex(24), secrets.token_hex(24)
        with self.lock:
            self.access_tokens[access] = (api_key, self.clock() + self.token_lifetime)
            self.refresh_tokens[refresh] = api_key
        return json_response({"AccessToken": access, "RefreshToken": refresh, "ExpiresIn": int(self.token_lifetime),
                              "TokenType": "Bearer", "IsError": False})

    @staticmethod
    def _token_error(description: str) -> SandboxError:
        return SandboxError(401, {"Error": "invalid_grant", "ErrorDescription": description, "IsError": True})

    def api_login(self, request: Request) -> Response:
        api_key = request.form.get("authCode", "")
        if api_key not in self.api_keys:
            raise self._token_error("The authentication code is invalid")
        return self._issue(api_key)

    def api_refresh(self, request: Request) -> Response:
        refresh = request.headers.get("refreshToken") or request.form.get("refreshToken", "")
        with self.lock:
            api_key = self.refresh_tokens.pop(refresh, None)
        if api_key is None or api_key not in self.api_keys:
            raise self._token_error("The refresh token is invalid")
        return self._issue(api_key)

    def _authorise(self, request: Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        with self.lock:
            grant = self.access_tokens.get(token) if scheme.lower() == "bearer" else None
        if grant is None or grant[0] not in self.api_keys:
            raise self.unauthorized("The token is invalid")
        if grant[1] <= self.clock():
            raise self.unauthorized("The token is expired")

    def expire_tokens(self) -> None:
        """Age every access token past its hour (refresh tokens stay valid), as time would."""
        with self.lock:
            self.access_tokens = {token: (key, 0.0) for token, (key, _) in self.access_tokens.items()}

    def revoke(self, api_key: str) -> None:
        """The customer deletes the application token in webCRM: all its tokens stop working."""
        with self.lock:
            self.api_keys.discard(api_key)

    def auth_info(self, request: Request) -> Response:
        self._authorise(request)
        return json_response({"Message": "Authorized"})

    # -- records -------------------------------------------------------------------------------
    def collection(self, request: Request, path: str) -> Response:
        self._authorise(request)
        if request.method == "GET":
            page, size = _page(request)
            with self.lock:
                rows = [self.store.shown(path, row) for row in self.store.rows_page(path, page, size)]
            return json_response(rows)
        body = read_json(request)
        with self.lock:
            record = self.store.create(path, body)
        self.notify(path, "Create", record)
        return self._created(path, record[self.store.spec(path).id_field])

    def _created(self, path: str, new_id: int) -> Response:
        answer = self.create_answer or ("empty" if path in EMPTY_CREATE_ANSWER else "id")
        if answer == "empty":
            return Response(status=200)
        if answer == "object":
            return json_response({self.store.spec(path).id_field: new_id})
        if answer == "location":
            return Response(status=201, headers={"Location": f"/{path}/{new_id}"})
        return json_response(new_id)

    def record(self, request: Request, path: str, record_id: int) -> Response:
        self._authorise(request)
        if request.method == "GET":
            with self.lock:
                return json_response(self.store.shown(path, self.store.get(path, record_id)))
        body = read_json(request)
        with self.lock:
            record = self.store.replace(path, record_id, body)
        self.notify(path, "Update", record)
        return Response(status=200)

    def record_delete(self, request: Request, path: str, record_id: int) -> Response:
        self._authorise(request)
        with self.lock:
            record = self.store.delete(path, record_id)
        self.notify(path, "Delete", record)
        return Response(status=200)

    # -- the quotation-line item register --------------------------------------------------------
    def register(self, request: Request) -> Response:
        """``GET`` answers the whole register (the spec gives it no ``Page``/``Size``); ``POST`` the new id."""
        self._authorise(request)
        if request.method == "GET":
            with self.lock:
                return json_response(self.store.rows(REGISTER))
        body = read_json(request)
        with self.lock:
            record = self.store.create(REGISTER, body)
        return self._created(REGISTER, record[self.store.spec(REGISTER).id_field])

    def register_item(self, request: Request, record_id: int) -> Response:
        """No hooks: the API description has none for linked data."""
        self._authorise(request)
        with self.lock:
            if request.method == "GET":
                return json_response(self.store.get(REGISTER, record_id))
            if request.method == "DELETE":
                self.store.delete(REGISTER, record_id)
                return Response(status=200)
        body = read_json(request)
        with self.lock:
            self.store.replace(REGISTER, record_id, body)
        return Response(status=200)

    def delivery_lines(self, request: Request, record_id: int) -> Response:
        self._authorise(request)
        with self.lock:
            self.store.get("Deliveries", record_id)
            lines = [self.store.shown("QuotationLines", line) for line in self.store.lines_of(record_id)]
        lines.sort(key=lambda line: (line["QuotationLineSortOrder"], line["QuotationLineId"]))
        return _paged(request, lines)

    def organisations_by_update(self, request: Request, start: str, end: str) -> Response:
        """``startDate <= OrganisationUpdatedAt < endDate``, as the operation's summary says."""
        self._authorise(request)
        low = coerce_value("startDate", FieldType.DATETIME, start, None, ())
        high = coerce_value("endDate", FieldType.DATETIME, end, None, ())
        with self.lock:
            rows = [row for row in self.store.rows("Organisations")
                    if low <= row["OrganisationUpdatedAt"] < high]
        return _paged(request, rows)

    def fields_metadata(self, request: Request, entity_types: str = "All") -> Response:
        """``FieldMetadataDto`` of each drop-down field of ``entity_types`` (one of the spec's enum, or ``All``): a
        bare array, unpaged (the spec gives no ``Page``/``Size``), each option as ``{"Text", "Value"}``."""
        self._authorise(request)
        if entity_types not in METADATA_ENTITY_TYPES:
            raise bad_request(f"The value '{entity_types}' is not valid for entityTypes.")
        with self.lock:
            wanted = {entity_type: fields for entity_type, fields in self.field_options.items()
                      if entity_types in ("All", entity_type)}
            answer = []
            for fields in wanted.values():
                for name, values in fields.items():
                    db_name, label, field_id = FIELD_METADATA.get(name, (name.lower(), name, 0))
                    answer.append({
                        "FieldMetadataDbFieldName": db_name, "FieldMetadataFriendlyFieldName": name,
                        "FieldMetadataId": field_id, "FieldMetadataLabel": label,
                        "FieldMetadataSortOrder": 11000 + field_id * 10, "FieldMetadataDisplayType": "D",
                        "FieldMetadataTextFieldMaxLength": 50,
                        "FieldMetadataDropdownListData": [{"Text": value, "Value": value} for value in values]})
        return json_response(answer)

    def queries(self, request: Request) -> Response:
        self._authorise(request)
        with self.lock:
            rows = self.store.query(request.args.get("script", ""))
        return _paged(request, rows)

    # -- hooks ---------------------------------------------------------------------------------
    def hooks(self, request: Request, path: str) -> Response:
        self._authorise(request)
        if request.method == "GET":
            with self.lock:
                rows = sorted(self.store.hooks[path].rows.values(), key=lambda hook: hook["Id"])
            return _paged(request, rows)
        body = read_json(request)
        with self.lock:
            hook = self.store.hook_create(path, body)
        return json_response(hook["Id"])

    def hook(self, request: Request, path: str, hook_id: int) -> Response:
        self._authorise(request)
        with self.lock:
            if request.method == "GET":
                return json_response(self.store.hook_get(path, hook_id))
            if request.method == "DELETE":
                self.store.hook_get(path, hook_id)
                del self.store.hooks[path].rows[str(hook_id)]
                return Response(status=200)
        body = read_json(request)
        with self.lock:
            self.store.hook_replace(path, hook_id, body)
        return Response(status=200)

    def notify(self, path: str, event: str, record: dict[str, Any]) -> None:
        """Call every enabled hook of the resource and event; outside the lock, like a real queue.

        The body takes the shape ``hook_body`` says: ``notice`` ``{"HookId", "EventType", "EntityType",
        "EntityId", "Timestamp", "Data"}``, ``record`` (the bare record), or a list of one of either.
        """
        if path not in self.store.hooks:
            return
        with self.lock:
            hooks = [dict(hook) for hook in self.store.subscribers(path, event)]
        singular = SINGULAR[path]
        shown = self.store.shown(path, record)
        for hook in hooks:
            notice = {"HookId": hook["Id"], "EventType": event, "EntityType": singular,
                      "EntityId": record[f"{singular}Id"], "Timestamp": self.store.stamp(), "Data": shown}
            body: Any = {"notice": notice, "record": shown, "notices": [notice], "records": [shown]}[self.hook_body]
            self.deliver_webhook(hook["TargetUrl"], body)

    # -- what a person does in webCRM's own screens ------------------------------------------------
    def delete_in_webcrm(self, path: str, record_id: int) -> None:
        """Delete as a user would in webCRM (the API cannot delete organisations, persons, ...)."""
        with self.lock:
            record = self.store.delete(path, record_id)
        self.notify(path, "Delete", record)

    def change_in_webcrm(self, path: str, record_id: int, **changes: Any) -> dict[str, Any]:
        """Edit as a user would in webCRM's screens: the hooks fire as for an API change."""
        with self.lock:
            current = self.store.get(path, record_id)
            record = self.store.replace(path, record_id, {**current, **changes}, by="webCRM user")
        self.notify(path, "Update", record)
        return record

    def seed_demo(self) -> None:
        """A few hundred organisations with persons, products, users and deliveries with lines."""
        from .demo import DEMO_FIELD_OPTIONS, seed_demo_data

        with self.lock:
            seed_demo_data(self.store)
            self.field_options.clear()  # in place: the kept state (``persistent_collections``) holds this dict
            self.field_options.update({entity_type: {name: list(values) for name, values in fields.items()}
                                       for entity_type, fields in DEMO_FIELD_OPTIONS.items()})

    # -- what a restart keeps (the demo's data in var/; :mod:`..sandbox_state`) -------------------------
    def persistent_collections(self) -> dict[str, MutableMapping[Any, Any]]:
        return {**tables_collections("records", self.store.tables), **tables_collections("hooks", self.store.hooks),
                "refresh_tokens": self.refresh_tokens, "field_options": self.field_options}

    def persistent_meta(self) -> dict[str, Any]:
        return {**tables_meta("records", self.store.tables), **tables_meta("hooks", self.store.hooks)}

    def restore_state(self, collections: Mapping[str, Mapping[Any, Any]], meta: Mapping[str, Any]) -> None:
        super().restore_state(collections, meta)
        restore_tables_meta("records", self.store.tables, meta)
        restore_tables_meta("hooks", self.store.hooks, meta)
