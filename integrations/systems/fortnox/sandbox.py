"""A faithful stand-in for Fortnox API v3, for tests, the demo and fault drills.

It serves the OAuth2 token endpoint at ``/oauth-v1/token`` and the API under ``/3/`` of wherever
it is mounted, so a connection's base URL is ``<mount>/3`` (or just ``<mount>``: the client appends
``/3``). Access tokens live an hour and refresh tokens rotate on every use, as at Fortnox; the
demo app's refresh token is the exception and never expires, so the demo survives restarts.

Fortnox has no REST webhooks. Changes are announced on its WebSocket topics instead, so the
sandbox keeps one offset-ordered feed per topic (:meth:`FortnoxSandbox.events`) and serves it as
Fortnox's WebSocket API (:meth:`FortnoxSandbox.serve_stream`, :mod:`.sandbox_ws`); the drop knob
``webhook_drop_rate`` silently loses a share of those events, as a listener that was down would.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import math
import os
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from ..catalog import Entity
from ..sandbox import SandboxApp, SandboxError, json_response
from .catalog import entity_spec
from .client import RESOURCES
from .records import FORTNOX_TIMEZONE, parse_lastmodified
from .sandbox_store import (
    INVALID_LOGIN,
    INVALID_PARAMETER,
    JSON_SYNTAX,
    NO_DATA,
    SYSTEM_EXCEPTION,
    UNKNOWN_CODE,
    FortnoxCompany,
    error_body,
    feed_after,
    refuse,
)

DEMO_CLIENT_ID = "synkro-demo"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 - the public demo app, not a secret
DEMO_REFRESH_TOKEN = "demo-refresh"  # noqa: S105
#: The scopes a token carries (space separated, as in Fortnox's token answers).
SCOPES = "companyinformation customer article order invoice salary"
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 500

ENTITY_BY_PATH = {resource.path: entity for entity, resource in RESOURCES.items()}
logger = logging.getLogger(__name__)


@dataclass
class RefreshGrant:
    client_id: str
    #: A seeded grant that survives use (the demo's); issued grants are single-use.
    permanent: bool = False


class FortnoxSandbox(SandboxApp):
    """Fortnox's token endpoint and the customers, articles, orders, invoices and employees resources."""

    system = "fortnox"
    #: 25 requests per 5 seconds, sliding window (Fortnox's published limit per access token).
    default_rate_limit = (25, 5.0)
    access_token_lifetime = 3600
    rules = [
        Rule("/oauth-v1/token", methods=["POST"], endpoint="token"),
        Rule("/3/<resource>", methods=["GET"], endpoint="list_resource"),
        Rule("/3/<resource>", methods=["POST"], endpoint="create_resource"),
        Rule("/3/<resource>/<record_id>", methods=["GET"], endpoint="get_resource"),
        Rule("/3/<resource>/<record_id>", methods=["PUT"], endpoint="update_resource"),
        Rule("/3/<resource>/<record_id>", methods=["DELETE"], endpoint="delete_resource"),
        Rule("/3/<resource>/<record_id>/<action>", methods=["PUT"], endpoint="document_action"),
    ]

    def __init__(self, **knobs: Any):
        super().__init__(**knobs)
        self.apps: dict[str, str] = {DEMO_CLIENT_ID: DEMO_CLIENT_SECRET}
        self.refresh_grants: dict[str, RefreshGrant] = {DEMO_REFRESH_TOKEN: RefreshGrant(DEMO_CLIENT_ID, True)}
        #: access token -> sandbox-clock second at which it expires
        self.access_tokens: dict[str, float] = {}
        self.company = FortnoxCompany(now=lambda: self.now(), keep_event=self._keep_event)

    # -- Fortnox's answers to trouble ------------------------------------------------------
    def rate_limited_response(self, retry_after: float) -> Response:
        """Fortnox's 429 names no wait: its rate-limit guide documents the status and the 5-second sliding
        window, and neither it nor the OpenAPI file mentions a ``Retry-After`` (docs/vendors/fortnox.md)."""
        return json_response(error_body("Too Many Requests", UNKNOWN_CODE), status=429)

    def server_error_response(self, status: int = 500) -> Response:
        return json_response(error_body("System exception", SYSTEM_EXCEPTION), status=status)

    def not_found_response(self) -> Response:
        return json_response(error_body("Resursen finns inte.", UNKNOWN_CODE), status=404)

    # -- clock, credentials and events for tests and the demo ------------------------------
    def now(self) -> dt.datetime:
        """Swedish wall-clock time, naive, as ``lastmodified`` compares it. Tests may replace it."""
        return dt.datetime.now(FORTNOX_TIMEZONE).replace(tzinfo=None, microsecond=0)

    def register_app(self, client_id: str, client_secret: str) -> None:
        with self.lock:
            self.apps[client_id] = client_secret

    def issue_refresh_token(self, client_id: str = DEMO_CLIENT_ID) -> str:
        """A single-use refresh token, as an activation of the app by a customer would give."""
        token = str(uuid.uuid4())
        with self.lock:
            self.refresh_grants[token] = RefreshGrant(client_id)
        return token

    def expire_access_tokens(self) -> None:
        """Let every access token run out, as an hour passing would."""
        with self.lock:
            self.access_tokens = dict.fromkeys(self.access_tokens, self.clock() - 1)

    def revoke_access_token(self, token: str) -> None:
        with self.lock:
            self.access_tokens.pop(token, None)

    def events(self, topic: str, *, after: str | None = None) -> list[dict[str, Any]]:
        """The WebSocket feed of ``topic`` (customers, articles, orders, invoices) after an offset."""
        with self.lock:
            return feed_after(self.company.topics[topic], after)

    def serve_stream(self, *, host: str = "127.0.0.1", port: int = 0):
        """Serve this sandbox's change stream as Fortnox's WebSocket API does (:mod:`.sandbox_ws`).

        Returns the running :class:`~.sandbox_ws.FortnoxStreamServer` (its ``url`` names the port taken).
        """
        from .sandbox_ws import FortnoxStreamServer

        self.stream_server = FortnoxStreamServer(self, host=host, port=port).start()
        return self.stream_server

    def serve_demo_stream(self) -> None:
        """For ``make run``: the stream on 127.0.0.1:``FORTNOX_SANDBOX_STREAM_PORT``; nothing when that is unset."""
        port = os.environ.get("FORTNOX_SANDBOX_STREAM_PORT", "")
        if not port.isdigit():
            return
        try:
            self.serve_stream(port=int(port))
        except OSError as error:
            logger.warning("The Fortnox sandbox's change stream could not open port %s: %s", port, error)

    def seed_demo(self) -> None:
        """A few hundred Swedish customers, articles, orders, invoices in mixed states and employees."""
        from .demo import seed_company

        with self.lock:
            self.company.emit_events = False
            try:
                seed_company(self.company)
            finally:
                self.company.emit_events = True

    def _keep_event(self) -> bool:
        return self.random.random() >= self.knobs.webhook_drop_rate

    # -- OAuth2 ----------------------------------------------------------------------------
    def token(self, request: Request) -> Response:
        client_id = self._client_from_basic(request.headers.get("Authorization", ""))
        if request.form.get("grant_type") != "refresh_token":
            return json_response({"error": "unsupported_grant_type",
                                  "error_description": "Only grant_type=refresh_token is simulated"}, status=400)
        presented = request.form.get("refresh_token", "")
        with self.lock:
            grant = self.refresh_grants.get(presented)
            if grant is None or grant.client_id != client_id:
                return json_response({"error": "invalid_grant", "error_description": "Invalid refresh token"},
                                     status=400)
            if not grant.permanent:
                del self.refresh_grants[presented]
            rotated = str(uuid.uuid4())
            self.refresh_grants[rotated] = RefreshGrant(client_id)
            access_token = secrets.token_urlsafe(32)
            self.access_tokens[access_token] = self.clock() + self.access_token_lifetime
        return json_response({"access_token": access_token, "refresh_token": rotated, "scope": SCOPES,
                              "expires_in": self.access_token_lifetime, "token_type": "bearer"})

    def _client_from_basic(self, header: str) -> str:
        scheme, _, encoded = header.partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id, secret = "", ""
        with self.lock:
            known = self.apps.get(client_id)
        if scheme.lower() != "basic" or known is None or not secrets.compare_digest(known, secret):
            raise SandboxError(401, {"error": "invalid_client", "error_description": "Invalid client credentials"})
        return client_id

    def _require_access_token(self, request: Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        with self.lock:
            expires = self.access_tokens.get(token) if scheme.lower() == "bearer" else None
        if expires is None or expires <= self.clock():
            raise SandboxError(401, error_body("Ogiltig inloggning", INVALID_LOGIN))

    # -- resources -------------------------------------------------------------------------
    def list_resource(self, request: Request, resource: str) -> Response:
        entity = self._entity(request, resource)
        limit = min(self._int_param(request, "limit", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
        page = self._int_param(request, "page", 1)
        since = None
        if request.args.get("lastmodified") and RESOURCES[entity].lastmodified:
            try:
                since = parse_lastmodified(request.args["lastmodified"])
            except ValueError:
                raise refuse("Ogiltig parameter i anropet.", INVALID_PARAMETER) from None
        with self.lock:
            items = self.company.listing(entity, since)
        customer = request.args.get("customernumber")
        if customer and entity in (Entity.DELIVERY, Entity.INVOICE):  # the spec's filter on /orders and /invoices
            items = [item for item in items if str(item.get("CustomerNumber")) == customer]
        total_pages = math.ceil(len(items) / limit)
        page_items = items[(page - 1) * limit: page * limit]
        for item in page_items:
            item["@url"] = self._url(request, resource, item[self._id_field(entity)])
        return json_response({
            "MetaInformation": {"@TotalResources": len(items), "@TotalPages": total_pages, "@CurrentPage": page},
            RESOURCES[entity].plural: page_items,
        })

    def get_resource(self, request: Request, resource: str, record_id: str) -> Response:
        entity = self._entity(request, resource)
        with self.lock:
            record = dict(self.company.get(entity, record_id))
        return self._one(request, entity, record)

    def create_resource(self, request: Request, resource: str) -> Response:
        entity = self._entity(request, resource)
        body = self._body(request, entity)
        with self.lock:
            record = dict(self.company.create(entity, body))
        return self._one(request, entity, record, status=201)

    def update_resource(self, request: Request, resource: str, record_id: str) -> Response:
        entity = self._entity(request, resource)
        body = self._body(request, entity)
        with self.lock:
            record = dict(self.company.update(entity, record_id, body))
        return self._one(request, entity, record)

    def delete_resource(self, request: Request, resource: str, record_id: str) -> Response:
        entity = self._entity(request, resource)
        if RESOURCES[entity].removal != "delete":
            return self.not_found_response()
        with self.lock:
            self.company.delete(entity, record_id)
        return Response(status=204)

    def document_action(self, request: Request, resource: str, record_id: str, action: str) -> Response:
        """``PUT /3/orders/{n}/cancel``, ``…/createinvoice`` (answers the new invoice), ``/3/invoices/{n}/cancel``
        and ``/3/invoices/{n}/bookkeep``."""
        entity = self._entity(request, resource)
        with self.lock:
            if action == "cancel" and entity in (Entity.DELIVERY, Entity.INVOICE):
                record = dict(self.company.cancel(entity, record_id))
            elif action == "bookkeep" and entity == Entity.INVOICE:
                record = dict(self.company.bookkeep(record_id))
            elif action == "createinvoice" and entity == Entity.DELIVERY:
                record, entity = dict(self.company.create_invoice_from_order(record_id)), Entity.INVOICE
            else:
                return self.not_found_response()
        return self._one(request, entity, record)

    # -- helpers ---------------------------------------------------------------------------
    def _entity(self, request: Request, resource: str) -> Entity:
        entity = ENTITY_BY_PATH.get(resource)
        if entity is None:
            raise SandboxError(404, error_body("Resursen finns inte.", UNKNOWN_CODE))
        self._require_access_token(request)
        return entity

    def _body(self, request: Request, entity: Entity) -> dict[str, Any]:
        if request.mimetype != "application/json":
            raise refuse("Invalid content type", 1000031)
        try:
            payload = request.get_json(force=True, silent=False)
        except Exception:  # werkzeug raises BadRequest subclasses for broken JSON
            raise refuse("Error deserializing JSON: JSON_ERROR_SYNTAX", JSON_SYNTAX) from None
        singular = RESOURCES[entity].singular
        if not isinstance(payload, dict) or not isinstance(payload.get(singular), dict):
            raise refuse("Ingen eller felaktig typ av data.", NO_DATA)
        return payload[singular]

    def _one(self, request: Request, entity: Entity, record: dict[str, Any], status: int = 200) -> Response:
        resource = RESOURCES[entity]
        record["@url"] = self._url(request, resource.path, record[self._id_field(entity)])
        return json_response({resource.singular: record}, status=status)

    @staticmethod
    def _id_field(entity: Entity) -> str:
        return entity_spec(entity).id_field

    @staticmethod
    def _url(request: Request, resource: str, record_id: str) -> str:
        return f"{request.url_root}3/{resource}/{record_id}"

    @staticmethod
    def _int_param(request: Request, name: str, default: int) -> int:
        raw = request.args.get(name)
        if raw is None:
            return default
        if not raw.isdigit() or int(raw) < 1:
            raise refuse("Ogiltig parameter i anropet.", INVALID_PARAMETER)
        return int(raw)

