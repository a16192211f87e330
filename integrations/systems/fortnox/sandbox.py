"""A faithful stand-in for Fortnox API v3, for tests, the demo and fault drills.

It serves the OAuth2 consent page at ``/oauth-v1/auth`` (Allow / Deny, then back to the app's
``redirect_uri`` with a single-use code that lives 10 minutes), the token endpoint at ``/oauth-v1/token``
(``authorization_code`` and ``refresh_token`` grants) and the API under ``/3/`` of wherever
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
import html
import logging
import math
import os
import secrets
import time
import uuid
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from authlib.common.urls import add_params_to_uri
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
DEMO_APP_NAME = "Synkro (demo)"
#: The scopes a token carries (space separated, as in Fortnox's token answers).
SCOPES = "companyinformation customer article order invoice salary"
#: What the consent page says each scope lets the app do.
SCOPE_NAMES = {"companyinformation": "Company information", "customer": "Customers", "article": "Articles",
               "order": "Orders", "invoice": "Invoices", "salary": "Salary (employees)"}
#: An authorisation code is single-use and lives 10 minutes; a refresh token 45 days (docs/vendors/fortnox.md).
CODE_LIFETIME = 600
REFRESH_TOKEN_LIFETIME = 45 * 24 * 3600
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 500

ENTITY_BY_PATH = {resource.path: entity for entity, resource in RESOURCES.items()}
logger = logging.getLogger(__name__)


@dataclass
class RefreshGrant:
    client_id: str
    #: A seeded grant that survives use (the demo's); issued grants are single-use.
    permanent: bool = False
    #: Wall-clock second (``FortnoxSandbox.wall_clock``) after which the grant is refused; None never.
    expires_at: float | None = None


@dataclass
class Consent:
    """A consent page shown and not yet answered: what the app asked for."""

    client_id: str
    redirect_uri: str
    scope: str
    state: str


@dataclass
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    scope: str
    #: Sandbox-clock second at which the code stops being accepted.
    expires: float
    #: The refresh token the code was traded for; a second use revokes it (RFC 6749 section 4.1.2).
    traded_for: str = ""


#: List filters of ``/3/orders`` and ``/3/invoices`` (spec parameters) → the field each compares, as an equal value
#: (whether Fortnox compares text whole or in part is not documented; the client compares the answers again).
DOCUMENT_FILTERS = {"customernumber": "CustomerNumber", "externalinvoicereference1": "ExternalInvoiceReference1"}


class FortnoxSandbox(SandboxApp):
    """Fortnox's token endpoint and the customers, articles, orders, invoices and employees resources."""

    system = "fortnox"
    #: 25 requests per 5 seconds, sliding window (Fortnox's published limit per access token).
    default_rate_limit = (25, 5.0)
    access_token_lifetime = 3600
    rules = [
        Rule("/oauth-v1/auth", methods=["GET"], endpoint="consent_page"),
        Rule("/oauth-v1/auth", methods=["POST"], endpoint="consent_answer"),
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
        #: Each app's name on the consent page and its registered redirect URIs (empty: any http(s) URI, the demo's).
        self.app_names: dict[str, str] = {DEMO_CLIENT_ID: DEMO_APP_NAME}
        self.app_redirect_uris: dict[str, tuple[str, ...]] = {DEMO_CLIENT_ID: ()}
        self.consents: dict[str, Consent] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        #: Seconds since the epoch, for refresh tokens that outlive a restart. Tests may replace it.
        self.wall_clock = time.time
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

    def register_app(self, client_id: str, client_secret: str, *, name: str = "",
                     redirect_uris: tuple[str, ...] = ()) -> None:
        """An app as the Developer Portal registers it; ``redirect_uris`` empty accepts any http(s) URI."""
        with self.lock:
            self.apps[client_id] = client_secret
            self.app_names[client_id] = name or client_id
            self.app_redirect_uris[client_id] = tuple(redirect_uris)

    def expire_codes(self) -> None:
        """Let every authorisation code run out, as ten minutes passing would."""
        with self.lock:
            for code in self.codes.values():
                code.expires = self.clock() - 1

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

    # -- what a restart keeps (the demo's data in var/; :mod:`..sandbox_state`) -------------------------
    def persistent_collections(self) -> dict[str, MutableMapping[Any, Any]]:
        company = self.company
        return {**{f"records:{entity.value}": rows for entity, rows in company.records.items()},
                **{f"modified:{entity.value}": stamps for entity, stamps in company.modified.items()},
                # The change feed is a list whose offsets count from 1; kept by offset so old events stay put.
                **{f"topic:{topic}": {int(event.offset): event for event in feed}
                   for topic, feed in company.topics.items()},
                "apps": self.apps, "refresh_grants": self.refresh_grants}

    def restore_state(self, collections: Mapping[str, Mapping[Any, Any]], meta: Mapping[str, Any]) -> None:
        super().restore_state(collections, meta)
        for topic in self.company.topics:
            kept = collections.get(f"topic:{topic}", {})
            self.company.topics[topic] = [kept[offset] for offset in sorted(kept)]

    def _keep_event(self) -> bool:
        return self.random.random() >= self.knobs.webhook_drop_rate

    # -- OAuth2 ----------------------------------------------------------------------------
    def consent_page(self, request: Request) -> Response:
        """``GET /oauth-v1/auth``: the app's name and scopes with Allow / Deny (Fortnox's "Get Authorization-Code").

        An unknown ``client_id`` or a ``redirect_uri`` the app has not registered is told on the page and never
        redirected to; a wrong ``response_type`` or an unknown scope goes back to the app as an OAuth error.
        """
        args = request.args
        client_id, redirect_uri, state = args.get("client_id", ""), args.get("redirect_uri", ""), args.get("state", "")
        with self.lock:
            known = client_id in self.apps
            registered = self.app_redirect_uris.get(client_id, ())
            name = self.app_names.get(client_id, client_id)
        if not known:
            return self._page("Auth code or ClientID supplied is invalid", "", status=400)
        if not redirect_uri.startswith(("https://", "http://")) or (registered and redirect_uri not in registered):
            return self._page("The redirect URI does not match the app's", "", status=400)
        scopes = args.get("scope", "").split()
        if args.get("response_type") != "code":
            return self._back(redirect_uri, state, error="unsupported_response_type")
        if not scopes or any(scope not in SCOPE_NAMES for scope in scopes):
            return self._back(redirect_uri, state, error="invalid_scope")
        consent = secrets.token_urlsafe(24)
        with self.lock:
            self.consents[consent] = Consent(client_id, redirect_uri, " ".join(scopes), state)
        items = "".join(f"<li>{html.escape(SCOPE_NAMES[scope])}</li>" for scope in scopes)
        body = (f"<p><strong>{html.escape(name)}</strong> asks for access to your Fortnox company:</p><ul>{items}</ul>"
                f'<form method="post"><input type="hidden" name="consent" value="{consent}">'
                '<button type="submit" name="decision" value="allow">Allow</button> '
                '<button type="submit" name="decision" value="deny">Deny</button></form>')
        return self._page("Connect an app to Fortnox", body)

    def consent_answer(self, request: Request) -> Response:
        """``POST /oauth-v1/auth``: Allow sends a code, Deny ``error=access_denied``, to the app's redirect URI."""
        with self.lock:
            consent = self.consents.pop(request.form.get("consent", ""), None)
        if consent is None:
            return self._page("This request has already been answered or has expired", "", status=400)
        if request.form.get("decision") != "allow":
            return self._back(consent.redirect_uri, consent.state, error="access_denied",
                              error_description="The user denied the request")
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = AuthorizationCode(consent.client_id, consent.redirect_uri, consent.scope,
                                                 expires=self.clock() + CODE_LIFETIME)
        return self._back(consent.redirect_uri, consent.state, code=code)

    def token(self, request: Request) -> Response:
        client_id = self._client_from_basic(request.headers.get("Authorization", ""))
        grant_type = request.form.get("grant_type")
        if grant_type == "authorization_code":
            return self._code_grant(request, client_id)
        if grant_type != "refresh_token":
            return json_response({"error": "unsupported_grant_type",
                                  "error_description": "grant_type must be authorization_code or refresh_token"},
                                 status=400)
        presented = request.form.get("refresh_token", "")
        with self.lock:
            grant = self.refresh_grants.get(presented)
            expired = grant is not None and (getattr(grant, "expires_at", None) or math.inf) <= self.wall_clock()
            if grant is None or grant.client_id != client_id or expired:
                return json_response({"error": "invalid_grant", "error_description": "Invalid refresh token"},
                                     status=400)
            if not grant.permanent:
                del self.refresh_grants[presented]
            rotated, access_token = self._issue_tokens(client_id)
        return json_response({"access_token": access_token, "refresh_token": rotated, "scope": SCOPES,
                              "expires_in": self.access_token_lifetime, "token_type": "bearer"})

    def _code_grant(self, request: Request, client_id: str) -> Response:
        """``grant_type=authorization_code``: the code must be this app's, unused, not expired, and come with the
        ``redirect_uri`` it was issued to. A code presented twice also revokes what it was traded for."""
        presented, redirect_uri = request.form.get("code", ""), request.form.get("redirect_uri", "")
        with self.lock:
            code = self.codes.get(presented)
            if code is not None and code.traded_for:
                self.refresh_grants.pop(code.traded_for, None)
                code.traded_for = ""
                code.expires = -math.inf
            if (code is None or code.client_id != client_id or code.expires <= self.clock()
                    or code.redirect_uri != redirect_uri):
                return json_response({"error": "invalid_grant", "error_description": "Invalid authorization code"},
                                     status=400)
            refresh_token, access_token = self._issue_tokens(client_id)
            code.traded_for = refresh_token
        return json_response({"access_token": access_token, "refresh_token": refresh_token, "scope": code.scope,
                              "expires_in": self.access_token_lifetime, "token_type": "bearer"})

    def _issue_tokens(self, client_id: str) -> tuple[str, str]:
        """A new single-use refresh token (45 days) and access token (an hour); call with the lock held."""
        refresh_token = str(uuid.uuid4())
        self.refresh_grants[refresh_token] = RefreshGrant(client_id,
                                                          expires_at=self.wall_clock() + REFRESH_TOKEN_LIFETIME)
        access_token = secrets.token_urlsafe(32)
        self.access_tokens[access_token] = self.clock() + self.access_token_lifetime
        return refresh_token, access_token

    @staticmethod
    def _back(redirect_uri: str, state: str, **params: str) -> Response:
        query = [*params.items(), *([("state", state)] if state else [])]
        return Response(status=302, headers={"Location": add_params_to_uri(redirect_uri, query)})

    @staticmethod
    def _page(title: str, body: str, *, status: int = 200) -> Response:
        page = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)} – Fortnox"
                f"</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>")
        return Response(page, status=status, mimetype="text/html")

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
        equal = {}
        if entity in (Entity.DELIVERY, Entity.INVOICE):  # the spec's filters on /orders and /invoices
            equal = {name: request.args[param] for param, name in DOCUMENT_FILTERS.items() if request.args.get(param)}
        with self.lock:
            ids = self.company.listed_ids(entity, since, equal)
            page_items = [self.company.list_item(entity, self.company.records[entity][i])
                          for i in ids[(page - 1) * limit: page * limit]]  # only the page's items are made
        total_pages = math.ceil(len(ids) / limit)
        for item in page_items:
            item["@url"] = self._url(request, resource, item[self._id_field(entity)])
        return json_response({
            "MetaInformation": {"@TotalResources": len(ids), "@TotalPages": total_pages, "@CurrentPage": page},
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

