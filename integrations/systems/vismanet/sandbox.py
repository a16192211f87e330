"""A simulator of Visma.net ERP's API: Visma Connect tokens, the ``/v1`` resources, limits and webhooks.

Paths are the current API's (``/v1/customer`` ... mounted wherever the base URL points); the token
endpoint is served beside them at ``/connect/token`` (see :mod:`.client` for the URL rule). Bodies are
the read DTOs of the vendor's Swagger file; writes take its value-wrapped update DTOs. Errors use
Visma.net's ``IPPException`` body. Webhooks are posted the way the Visma Webhook Dispatcher does,
signed in ``x-vwd-signature-v1``; subscriptions, made in Visma's Developer Portal in real life, are made
here with :meth:`VismaNetSandbox.subscribe` or ``POST /sandbox-admin/subscriptions``.
"""

from __future__ import annotations

import hmac
import json
import math
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from ..catalog import Entity
from ..sandbox import SandboxApp, SandboxError, json_response, read_json
from . import dto
from .client import SCOPES
from .sandbox_salesorders import SalesOrderService
from .sandbox_store import StoreError, VismaNetStore, parse_stamp, to_json
from .webhooks import SIGNATURE_HEADER, signature

DEMO_CLIENT_ID = "synkro-demo"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 - the demo tenant's published credential
DEMO_TENANT_ID = "demo-tenant"
#: Visma publishes no number; Visma's 2021 throttling table gave live clients 15 000 calls per hour per company.
RATE_LIMIT = (15000, 3600.0)
MAX_PAGE_SIZE = 1000
TOKEN_LIFETIME = 3600

#: Resources of the finance API. Sales orders are the Sales Order service's (``/salesorder/api/v3/…``, see
#: :mod:`.sandbox_salesorders`): the finance API's ``/v1/salesorder`` reached end of life on 2026-03-31.
WRITABLE = ("customer", "contact", "inventory", "customerinvoice")
BY_RESOURCE = {resource: entity for entity, resource in dto.RESOURCES.items()}
#: Events the Visma Net Financial publisher sends, by resource: (on create, on update).
EVENTS = {
    "customer": ("CustomerCreated", "CustomerUpdated"),
    "inventory": ("InventoryItemCreated", "InventoryItemUpdated"),
    "customerinvoice": ("ArInvoiceChanged", "ArInvoiceChanged"),
    "employee": ("EmployeeChanged", "EmployeeChanged"),
}
#: ``/customer/{number}/<documents>`` → the documents listed there.
CUSTOMER_DOCUMENTS = {"invoice": Entity.INVOICE}
STATUS_EVENTS = {"customerinvoice": "ArInvoiceStatusChanged"}


def ipp_exception(message: str, fault_code: str) -> dict[str, str]:
    """Visma.net ERP's error body."""
    return {"ExceptionType": "IPPException", "ExceptionMessage": message, "ExceptionFaultCode": fault_code,
            "ExceptionMessageID": f"{fault_code}_{uuid.uuid4()}", "ExceptionDetails": ""}


@dataclass
class AccessToken:
    client_id: str
    tenant_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class Subscription:
    id: str
    url: str
    secret: str | None = None
    events: frozenset[str] = field(default_factory=frozenset)

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events


def _rules() -> list[Rule]:
    rules = [
        Rule("/connect/token", methods=["POST"], endpoint="issue_token"),
        Rule("/sandbox-admin/subscriptions", methods=["GET", "POST"], endpoint="admin_subscriptions"),
        Rule("/sandbox-admin/subscriptions/<subscription_id>", methods=["DELETE"], endpoint="admin_unsubscribe"),
        Rule("/v1/employee", methods=["GET"], endpoint="list_records", defaults={"resource": "employee"}),
        Rule("/v1/employee/<record_id>", methods=["GET"], endpoint="get_record", defaults={"resource": "employee"}),
    ]
    for documents in CUSTOMER_DOCUMENTS:  # a customer's own invoices and sales orders, spec Customer_GetAll…
        rules.append(Rule(f"/v1/customer/<customer_number>/{documents}", methods=["GET"],
                          endpoint="list_customer_documents", defaults={"documents": documents}))
    for resource in WRITABLE:
        rules += [
            Rule(f"/v1/{resource}", methods=["GET"], endpoint="list_records", defaults={"resource": resource}),
            Rule(f"/v1/{resource}", methods=["POST"], endpoint="create_record", defaults={"resource": resource}),
            Rule(f"/v1/{resource}/<record_id>", methods=["GET"], endpoint="get_record",
                 defaults={"resource": resource}),
            Rule(f"/v1/{resource}/<record_id>", methods=["PUT"], endpoint="update_record",
                 defaults={"resource": resource}),
        ]
    return rules


class VismaNetSandbox(SalesOrderService, SandboxApp):
    """One Visma.net company (tenant) with its Visma Connect clients, its finance API and its Sales Order service."""

    system = "vismanet"
    default_rate_limit = RATE_LIMIT
    rules = [*_rules(), *SalesOrderService.sales_order_rules]

    def __init__(self, *, clients: Mapping[str, str] | None = None, tenant_id: str = DEMO_TENANT_ID,
                 max_page_size: int = MAX_PAGE_SIZE, **knobs: Any):
        super().__init__(**knobs)
        #: The most records a page holds whatever ``pageSize`` asks (Visma reports it as ``metadata.maxPageSize``).
        self.max_page_size = max_page_size
        #: client_id -> client_secret, as registered in Visma's Developer Portal.
        self.clients = dict(clients or {DEMO_CLIENT_ID: DEMO_CLIENT_SECRET})
        self.tenant_id = tenant_id
        self.tokens: dict[str, AccessToken] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.store = VismaNetStore(now=lambda: self.now())

    def now(self) -> datetime:
        """The company's clock (naive UTC); tests replace it to make modification times predictable."""
        return datetime.now(UTC).replace(tzinfo=None)

    # -- drills and test helpers ------------------------------------------------------------------
    def expire_tokens(self) -> None:
        with self.lock:
            for token in self.tokens.values():
                token.expires_at = 0.0

    def revoke_token(self, access_token: str) -> None:
        with self.lock:
            self.tokens.pop(access_token, None)

    def subscribe(self, url: str, *, secret: str | None = None, events: Iterable[str] = ()) -> Subscription:
        """What a subscription in Visma's Developer Portal does: post these events to ``url``."""
        subscription = Subscription(id=str(uuid.uuid4()), url=url, secret=secret, events=frozenset(events))
        with self.lock:
            self.subscriptions[subscription.id] = subscription
        return subscription

    def release_invoice(self, reference: str, *, paid: bool = False) -> dict[str, Any]:
        """Book an invoice as the ERP's Release action does; it then refuses changes."""
        with self.lock:
            row = to_json(self.store.release_invoice(reference, paid=paid))
        self._notify("customerinvoice", reference, STATUS_EVENTS["customerinvoice"])
        return row

    def seed_demo(self) -> None:
        from .demo import seed_demo

        seed_demo(self)

    # -- what a restart keeps (the demo's data in var/; :mod:`..sandbox_state`) -------------------------
    def persistent_collections(self) -> dict[str, MutableMapping[Any, Any]]:
        return {**{f"ledger:{entity.value}": ledger.rows for entity, ledger in self.store.ledgers.items()},
                "subscriptions": self.subscriptions, "clients": self.clients}

    def persistent_meta(self) -> dict[str, Any]:
        return {**{f"next:{entity.value}": ledger.next_number for entity, ledger in self.store.ledgers.items()},
                "internal_ids": dict(self.store._internal_ids)}

    def restore_state(self, collections: Mapping[str, Mapping[Any, Any]], meta: Mapping[str, Any]) -> None:
        super().restore_state(collections, meta)
        for entity, ledger in self.store.ledgers.items():
            ledger.next_number = int(meta.get(f"next:{entity.value}", ledger.next_number))
        self.store._internal_ids = dict(meta.get("internal_ids", self.store._internal_ids))

    # -- vendor bodies ---------------------------------------------------------------------------
    def _limit_headers(self) -> dict[str, str]:
        limit = self.knobs.rate_limit if self.knobs.rate_limit is not None else self.default_rate_limit
        if not limit or not limit[0]:
            return {}
        count, window = limit
        with self.lock:
            used = len(self._window)
            reset = (self._window[0] + window - self.clock()) if self._window else window
        return {"X-RateLimit-Limit": str(count), "X-RateLimit-Remaining": str(max(0, count - used)),
                "X-RateLimit-Reset": str(max(0, math.ceil(reset))), "X-RateLimit-Policy": "4-fixed-window"}

    def rate_limited_response(self, retry_after: float) -> Response:
        """A spent window: the four X-RateLimit-* headers, the reset ``retry_after`` seconds away, and no Retry-After
        (docs.vismasoftware.no/vismanetapi/ratelimits names only the four)."""
        headers = {**self._limit_headers(), "X-RateLimit-Remaining": "0",
                   "X-RateLimit-Reset": str(max(1, math.ceil(retry_after))), "X-RateLimit-Policy": "4-fixed-window"}
        return json_response(ipp_exception("Hourly number of requests per company reached.", "429"), status=429,
                             headers=headers)

    def server_error_response(self, status: int = 500) -> Response:
        return json_response(ipp_exception("An error has occurred.", "10000"), status=status)

    def not_found_response(self) -> Response:
        return json_response({"Message": "No HTTP resource was found that matches the request URI."}, status=404)

    # -- dispatch ----------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        """Visma Connect and the sandbox's admin face are not the ERP API: no ERP limits or drills there."""
        if request.path.startswith(("/connect/", "/sandbox-admin/")):
            return self.route(request)
        forced = self.forced_response()
        if forced is not None:
            return forced
        response = super().dispatch(request)
        for name, value in self._limit_headers().items():
            response.headers.setdefault(name, value)
        return response

    # -- Visma Connect ----------------------------------------------------------------------------
    def issue_token(self, request: Request) -> Response:
        form = request.form
        if form.get("grant_type") != "client_credentials":
            raise SandboxError(400, {"error": "unsupported_grant_type"})
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        known = self.clients.get(client_id)
        if known is None or not hmac.compare_digest(known, client_secret):
            raise SandboxError(400, {"error": "invalid_client"})
        if form.get("tenant_id") != self.tenant_id:
            raise SandboxError(400, {"error": "invalid_grant",
                                     "error_description": f"Client has no access to tenant '{form.get('tenant_id')}'"})
        requested = set((form.get("scope") or "").split())
        unknown = requested - set(SCOPES)
        if unknown:
            raise SandboxError(400, {"error": "invalid_scope"})
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = AccessToken(client_id, self.tenant_id, frozenset(requested or {SCOPES[0]}),
                                             time.monotonic() + TOKEN_LIFETIME)
        return json_response({"access_token": token, "expires_in": TOKEN_LIFETIME, "token_type": "Bearer",
                              "scope": " ".join(sorted(requested or {SCOPES[0]}))})

    def _authorize(self, request: Request, action: str, *, scope: str = "vismanet_erp_service_api") -> AccessToken:
        """The request's live token, which must hold ``<scope>:<action>``; 401 / 403 otherwise."""
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        with self.lock:
            token = self.tokens.get(value) if scheme.lower() == "bearer" else None
        if token is None or token.expires_at <= time.monotonic():
            raise SandboxError(401, {"Message": "Authorization has been denied for this request."},
                               headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if f"{scope}:{action}" not in token.scopes:
            raise SandboxError(403, ipp_exception(f"The token lacks the scope {scope}:{action}.", "12003"))
        return token

    # -- ERP resources ----------------------------------------------------------------------------
    def list_records(self, request: Request, resource: str) -> Response:
        self._authorize(request, "read")
        args = request.args
        try:
            number = int(args.get("pageNumber", 1))
            size = int(args.get("pageSize", MAX_PAGE_SIZE))
        except ValueError:
            raise SandboxError(400, ipp_exception("pageNumber and pageSize must be whole numbers.", "12000")) from None
        if number < 1 or size < 1:
            raise SandboxError(400, ipp_exception("pageNumber and pageSize must be positive.", "12000"))
        size = min(size, self.max_page_size)
        modified = None
        if args.get("lastModifiedDateTime"):
            try:
                moment = parse_stamp(args["lastModifiedDateTime"])
            except ValueError:
                raise SandboxError(400, ipp_exception("lastModifiedDateTime is not a valid date.", "12000")) from None
            condition = args.get("lastModifiedDateTimeCondition", ">")
            if condition not in (">", ">=", "<", "<="):
                raise SandboxError(400, ipp_exception(f"Unknown condition '{condition}'.", "12000"))
            modified = (condition, moment)
        filters = {k: args[k] for k in ("orderType", "status", "name", "corporateId", "vatRegistrationId",
                                         "businessAccount") if args.get(k)}
        entity = BY_RESOURCE[resource]
        with self.lock:
            matching = list(self.store.select(entity, modified=modified, filters=filters))
            page = [to_json(row) for row in matching[(number - 1) * size: number * size]]
        total = len(matching)
        for row in page:
            row["metadata"] = {"totalCount": total, "maxPageSize": self.max_page_size}
        return json_response(page)

    def list_customer_documents(self, request: Request, customer_number: str, documents: str) -> Response:
        """One customer's invoices or sales orders, paged like every list; an unknown customer is a 404."""
        self._authorize(request, "read")
        try:
            number = int(request.args.get("pageNumber", 1))
            size = min(int(request.args.get("pageSize", MAX_PAGE_SIZE)), self.max_page_size)
        except ValueError:
            raise SandboxError(400, ipp_exception("pageNumber and pageSize must be whole numbers.", "12000")) from None
        if number < 1 or size < 1:
            raise SandboxError(400, ipp_exception("pageNumber and pageSize must be positive.", "12000"))
        with self.lock:
            self._stored("customer", customer_number)
            matching = list(self.store.select(CUSTOMER_DOCUMENTS[documents],
                                              filters={"customer.number": customer_number}))
            page = [to_json(row) for row in matching[(number - 1) * size: number * size]]
        for row in page:
            row["metadata"] = {"totalCount": len(matching), "maxPageSize": self.max_page_size}
        return json_response(page)

    def get_record(self, request: Request, resource: str, record_id: str) -> Response:
        self._authorize(request, "read")
        with self.lock:
            row = self._stored(resource, record_id)
        return json_response(row)

    def create_record(self, request: Request, resource: str) -> Response:
        self._authorize(request, "create")
        body = self._body(request)
        entity = BY_RESOURCE[resource]
        with self.lock:
            try:
                row = self.store.create(entity, body)
            except StoreError as error:
                raise SandboxError(error.status, ipp_exception(error.message, error.fault_code)) from None
            record_id = str(row[self._id_field(entity)])
        if resource in EVENTS:
            self._notify(resource, record_id, EVENTS[resource][0])
        location = f"{request.root_url.rstrip('/')}/v1/{resource}/{quote(record_id, safe='')}"
        return Response(status=201, headers={"Location": location})

    def update_record(self, request: Request, resource: str, record_id: str) -> Response:
        self._authorize(request, "update")
        body = self._body(request)
        entity = BY_RESOURCE[resource]
        with self.lock:
            try:
                before = self.store.get(entity, record_id).get("status")
                row = self.store.update(entity, record_id, body)
            except StoreError as error:
                raise SandboxError(error.status, ipp_exception(error.message, error.fault_code)) from None
            status_changed = row.get("status") != before
        if resource in EVENTS:
            self._notify(resource, record_id, EVENTS[resource][1])
        if status_changed and resource in STATUS_EVENTS:
            self._notify(resource, record_id, STATUS_EVENTS[resource])
        return Response(status=204)

    def _stored(self, resource: str, record_id: str) -> dict[str, Any]:
        try:
            return to_json(self.store.get(BY_RESOURCE[resource], record_id))
        except StoreError as error:
            raise SandboxError(error.status, ipp_exception(error.message, error.fault_code)) from None

    @staticmethod
    def _id_field(entity: Entity) -> str:
        return {Entity.ORGANISATION: "number", Entity.PERSON: "contactId", Entity.ITEM: "inventoryNumber",
                Entity.DELIVERY: "orderNo", Entity.INVOICE: "referenceNumber",
                Entity.USER: "employeeNumber"}[entity]

    @staticmethod
    def _body(request: Request) -> Any:
        try:
            return read_json(request)
        except SandboxError:
            raise SandboxError(400, ipp_exception("The request body is not valid JSON.", "12000")) from None

    # -- webhooks ----------------------------------------------------------------------------------
    def _notify(self, resource: str, record_id: str, event: str, *, extra: Mapping[str, Any] | None = None) -> None:
        """Post the event to every subscription that wants it, signed like the Visma Webhook Dispatcher."""
        with self.lock:
            targets = [s for s in self.subscriptions.values() if s.wants(event)]
        if not targets:
            return
        moment = self.now()
        body = {"tenantId": self.tenant_id, "event": event, "entityId": record_id,
                "timestamp": moment.isoformat(timespec="milliseconds") + "Z", **(extra or {})}
        raw = json_bytes(body)
        millis = str(int(time.time() * 1000))
        for subscription in targets:
            headers = {
                "x-vwd-event-id": str(uuid.uuid4()),
                "x-vwd-notification-id": str(uuid.uuid4()),
                "x-vwd-subscription-id": subscription.id,
                "x-vwd-tenant-id": self.tenant_id,
                "x-vwd-notification-timestamp": millis,
                "x-vwd-webhook-timestamp": millis,
            }
            if subscription.secret:
                headers[SIGNATURE_HEADER] = signature(raw, subscription.secret)
            self.deliver_webhook(subscription.url, raw, headers)

    def admin_subscriptions(self, request: Request) -> Response:
        if request.method == "GET":
            with self.lock:
                listed = [{"id": s.id, "url": s.url, "events": sorted(s.events)} for s in self.subscriptions.values()]
            return json_response(listed)
        body = read_json(request)
        if not isinstance(body, dict) or not body.get("url"):
            raise SandboxError(400, {"message": "url is required"})
        subscription = self.subscribe(body["url"], secret=body.get("secret"), events=body.get("events") or ())
        return json_response({"id": subscription.id, "url": subscription.url, "events": sorted(subscription.events)},
                             status=201)

    def admin_unsubscribe(self, request: Request, subscription_id: str) -> Response:
        with self.lock:
            if self.subscriptions.pop(subscription_id, None) is None:
                raise SandboxError(404, {"message": "No such subscription"})
        return Response(status=204)


def json_bytes(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()
