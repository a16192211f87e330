"""Fortnox API v3 client: OAuth2 refresh-token login, page/limit paging, ``lastmodified`` polling.

Only Fortnox's endpoints and shapes live here; retries, timeouts and error classes come from
:class:`~integrations.systems.base.ApiClient`.

Base URL rule: the API lives under ``.../3``; a base URL without that suffix gets it appended
(the demo connection points at ``<site>/sandbox/fortnox``). The token endpoint is
``https://apps.fortnox.se/oauth-v1/token`` when the API host is Fortnox's own
(``api.fortnox.se``); for any other host (a sandbox) it is ``oauth-v1/token`` beside ``/3``; the consent
page (``oauth-v1/auth``) follows the same rule.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from authlib.oauth2.rfc6749.parameters import prepare_token_request

from ..base import ApiClient, Record, normalise_match_value
from ..catalog import Entity
from ..errors import AuthError, Refusal, VendorValidationError
from ..words import with_article
from .catalog import entity_spec
from .messages import fortnox_refusal
from .records import FORTNOX_TIMEZONE, LIST_ITEM_FIELDS, flatten, format_lastmodified, list_item, to_wire

logger = logging.getLogger(__name__)

FORTNOX_API_HOST = "api.fortnox.se"
FORTNOX_TOKEN_URL = "https://apps.fortnox.se/oauth-v1/token"  # noqa: S105 - an address
#: Where a Fortnox user allows an app access (docs/vendors/fortnox.md "Connecting").
FORTNOX_AUTHORIZE_URL = "https://apps.fortnox.se/oauth-v1/auth"


@dataclass(frozen=True)
class Resource:
    """One Fortnox resource: its path under /3, its wrapper names and what its list endpoint can filter."""

    path: str
    singular: str
    plural: str
    lastmodified: bool = True
    #: How a record is removed: DELETE, a PUT to ``<id>/cancel``, or not at all.
    removal: str = "delete"


RESOURCES: dict[Entity, Resource] = {
    Entity.ORGANISATION: Resource("customers", "Customer", "Customers"),
    Entity.ITEM: Resource("articles", "Article", "Articles"),
    Entity.DELIVERY: Resource("orders", "Order", "Orders", removal="cancel"),
    Entity.INVOICE: Resource("invoices", "Invoice", "Invoices", removal="cancel"),
    Entity.USER: Resource("employees", "Employee", "Employees", lastmodified=False, removal="none"),
}


def api_base_url(base_url: str) -> str:
    """The API root, ending in ``/3`` (appended when the connection's base URL lacks it)."""
    base = base_url.rstrip("/")
    return base if base.endswith("/3") else f"{base}/3"


def token_url_for(api_base: str) -> str:
    """Fortnox's token endpoint for its own API host; ``oauth-v1/token`` beside ``/3`` elsewhere."""
    if urlsplit(api_base).hostname == FORTNOX_API_HOST:
        return FORTNOX_TOKEN_URL
    return f"{api_base.removesuffix('/3')}/oauth-v1/token"


def authorize_url_for(api_base: str) -> str:
    """Fortnox's consent page for its own API host; ``oauth-v1/auth`` beside ``/3`` elsewhere (a sandbox)."""
    if urlsplit(api_base).hostname == FORTNOX_API_HOST:
        return FORTNOX_AUTHORIZE_URL
    return f"{api_base.removesuffix('/3')}/oauth-v1/auth"


#: Fields of orders and invoices the list answers filter by on the server (spec parameters of ``/3/orders`` and
#: ``/3/invoices``): field → query parameter.
SERVER_FILTERS: dict[Entity, dict[str, str]] = {
    entity: {"CustomerNumber": "customernumber", "ExternalInvoiceReference1": "externalinvoicereference1"}
    for entity in (Entity.DELIVERY, Entity.INVOICE)}


class FortnoxClient(ApiClient):
    """Talks to one Fortnox tenant with the app's client id/secret and the tenant's refresh token."""

    system = "fortnox"
    #: Fortnox's page size ceiling (``limit``); the default page is 100.
    max_page_size = 500
    #: Seconds before the stated expiry at which a cached access token is no longer used.
    token_margin = 60.0
    #: Fortnox's 429 names no wait (no ``Retry-After``; docs/vendors/fortnox.md "Limits"): back off from 1 s,
    #: doubling with jitter (1, 2, 4, 8 s), so the attempts of one call span more than the 5-second window.
    backoff_initial = 1.0

    def __init__(self, *, base_url: str, credentials: Any, **kwargs: Any):
        super().__init__(base_url=api_base_url(base_url), credentials=credentials, **kwargs)
        self.token_url = token_url_for(self.base_url)

    # -- auth ----------------------------------------------------------------------------------
    def authenticate(self, headers: dict[str, str]) -> None:
        token = self.token_store.get(self.token_key()) or self._stored_access_token() or self._request_access_token()
        headers["Authorization"] = f"Bearer {token}"

    def _stored_access_token(self) -> str | None:
        """The access token kept with the credentials (from connecting), while it has more than a minute to live."""
        token = self.credentials.get("access_token")
        try:
            expires_at = float(self.credentials.get("access_token_expires_at") or 0)
        except ValueError:
            return None
        return token if token and expires_at - self.token_margin > time.time() else None

    def refresh_auth(self) -> bool:
        """A 401 means the access token expired or was revoked: trade the refresh token for a new one."""
        self.token_store.set(self.token_key(), None, timeout=1)
        self._request_access_token()
        return True

    def _request_access_token(self) -> str:
        """A new access token; keeps the rotated refresh token. One worker of a connection at a time.

        Fortnox's refresh token is single-use (docs/vendors/fortnox.md, "Auth"), so workers sharing a connection
        take its lock first and read the stored credentials under it: when another worker rotated the token a
        moment ago, its access token (or, when that is no longer cached, the newer refresh token) is used instead
        of the stale one, which Fortnox would refuse. Should Fortnox refuse anyway, the stored credentials are
        read once more, and only when nobody rotated them is the refusal an ``AuthError`` for a person.
        """
        with self.stored_credentials_held() as stored:
            if stored is not None and stored.get("refresh_token") and self.credentials_adopt(stored):
                token = self.token_store.get(self.token_key())
                if token:
                    return token
            try:
                return self._trade_refresh_token()
            except AuthError:
                with self.stored_credentials_held() as again:
                    if again is None or not again.get("refresh_token") or not self.credentials_adopt(again):
                        raise
                return self.token_store.get(self.token_key()) or self._trade_refresh_token()

    def _basic_client_credentials(self) -> str:
        """``Basic base64(ClientId:ClientSecret)`` for the token endpoint (docs/vendors/fortnox.md "Auth")."""
        client = f"{self.credentials.get('client_id', '')}:{self.credentials.get('client_secret', '')}"
        return f"Basic {base64.b64encode(client.encode()).decode()}"

    def tokens_from_code(self, *, code: str, redirect_uri: str) -> dict[str, Any]:
        """Trade an authorisation code for the connection's tokens (``grant_type=authorization_code``).

        In: the ``code`` Fortnox handed to ``redirect_uri`` (the same URI the consent page was opened with: Fortnox
        compares them). The client's credentials must hold the app's ``client_id`` and ``client_secret``. Out: the
        credentials to store — ``client_id``, ``client_secret``, ``refresh_token``, ``access_token`` and
        ``access_token_expires_at`` (Unix seconds) — which the client also adopts, its access token cached.
        ``AuthError`` with Fortnox's words when the code or the app's credentials are refused (a code is
        single-use and lives 10 minutes: docs/vendors/fortnox.md "Connecting").
        """
        body = prepare_token_request("authorization_code", code=code, redirect_uri=redirect_uri)
        try:
            response = self.request("POST", self.token_url, auth=False, data=body, headers={
                "Authorization": self._basic_client_credentials(),
                "Content-Type": "application/x-www-form-urlencoded"})
        except (AuthError, VendorValidationError) as exc:
            raise AuthError(f"Fortnox refused the authorisation: {exc.vendor_message}", status=exc.status,
                            vendor_message=exc.vendor_message) from exc
        answer = response.json()
        if not answer.get("access_token") or not answer.get("refresh_token"):
            raise AuthError("Fortnox answered without the tokens", status=response.status_code)
        lifetime = float(answer.get("expires_in") or 3600)
        self.credentials = {
            "client_id": self.credentials.get("client_id", ""),
            "client_secret": self.credentials.get("client_secret", ""),
            "refresh_token": str(answer["refresh_token"]),
            "access_token": str(answer["access_token"]),
            "access_token_expires_at": str(int(time.time() + lifetime)),
        }
        self.token_store.set(self.token_key(), self.credentials["access_token"],
                             timeout=max(1.0, lifetime - self.token_margin))
        return dict(self.credentials)

    def _trade_refresh_token(self) -> str:
        """``grant_type=refresh_token`` with Basic client credentials; stores the rotated refresh token."""
        old_key = self.token_key()
        try:
            response = self.request(
                "POST", self.token_url, auth=False,
                data={"grant_type": "refresh_token", "refresh_token": self.credentials.get("refresh_token", "")},
                headers={"Authorization": self._basic_client_credentials()},
            )
        except (AuthError, VendorValidationError) as exc:
            raise AuthError(f"Fortnox refused the refresh token: {exc.vendor_message}", status=exc.status,
                            vendor_message=exc.vendor_message) from exc
        body = response.json()
        token = body["access_token"]
        rotated = body.get("refresh_token")
        if rotated and rotated != self.credentials.get("refresh_token"):
            # Fortnox invalidates the old refresh token at once: losing the new one means re-activation. An access
            # token kept from connecting belongs to the old grant and goes with it; the new one lives in the cache.
            self.credentials.pop("access_token", None)
            self.credentials.pop("access_token_expires_at", None)
            self.update_credentials(refresh_token=rotated)
        lifetime = max(1.0, float(body.get("expires_in") or 3600) - self.token_margin)
        self.token_store.set(self.token_key(), token, timeout=lifetime)
        if old_key != self.token_key():
            # Clients still holding the previous refresh token find the new access token too.
            self.token_store.set(old_key, token, timeout=lifetime)
        return token

    def refusal_for(self, body: Any) -> Refusal | None:
        """Fortnox's ``ErrorInformation`` code (either casing) explained in plain words (``messages.fortnox_refusal``);
        None when it is not known."""
        info = body.get("ErrorInformation") if isinstance(body, dict) else None
        info = info if isinstance(info, dict) else {}
        return fortnox_refusal(info.get("code") or info.get("Code"), info.get("message") or info.get("Message"))

    def vendor_message(self, response: requests.Response) -> str:
        """``ErrorInformation.message`` with its code (either casing), or the OAuth ``error_description``."""
        try:
            body = response.json()
        except ValueError:
            return super().vendor_message(response)
        if isinstance(body, dict):
            info = body.get("ErrorInformation")
            if isinstance(info, dict):
                message = info.get("message") or info.get("Message") or ""
                code = info.get("code") or info.get("Code")
                return f"{message} (code {code})" if code else str(message)
            if body.get("error_description") or body.get("error"):
                return str(body.get("error_description") or body.get("error"))
        return super().vendor_message(response)

    # -- endpoints -----------------------------------------------------------------------------
    def check_connection(self) -> str:
        body = self.json("GET", "customers", params={"limit": 1})
        total = (body.get("MetaInformation") or {}).get("@TotalResources", len(body.get("Customers") or []))
        return f"Connected to Fortnox: {total} customers"

    def list_records(self, entity: Entity, *, modified_since: dt.datetime | dt.date | str | None = None,
                     page_size: int | None = None) -> Iterator[Record]:
        """Every record's list item, page by page; ``modified_since`` becomes ``lastmodified``.

        Employees cannot be filtered by change, so for them ``modified_since`` is ignored and every
        employee is listed (the engine's hash check drops the unchanged ones).
        """
        resource = self._resource(entity)
        params: dict[str, Any] = {"limit": min(page_size or self.max_page_size, self.max_page_size)}
        if modified_since is not None and resource.lastmodified:
            params["lastmodified"] = format_lastmodified(modified_since)
        page = 1
        while True:
            body = self.json("GET", resource.path, params={**params, "page": page}) or {}
            for item in body.get(resource.plural) or []:
                yield list_item(entity, item)
            total_pages = int((body.get("MetaInformation") or {}).get("@TotalPages") or 1)
            if page >= total_pages:
                return
            page += 1

    def find_records(self, entity: Entity, field_name: str, value: Any) -> list[Record]:
        """Orders and invoices by customer number or ``ExternalInvoiceReference1`` with the list filter the spec
        gives ``/3/orders`` and ``/3/invoices`` (``customernumber``, ``externalinvoicereference1``); answers compared
        again exactly. Other fields: the default (every record listed)."""
        param = SERVER_FILTERS.get(entity, {}).get(field_name)
        wanted = normalise_match_value(value)
        if param is None or wanted == "":
            return super().find_records(entity, field_name, value)
        resource = self._resource(entity)
        found, page = [], 1
        while True:
            body = self.json("GET", resource.path, params={param: str(value).strip(), "page": page,
                                                           "limit": self.max_page_size}) or {}
            found += [list_item(entity, item) for item in body.get(resource.plural) or []]
            if page >= int((body.get("MetaInformation") or {}).get("@TotalPages") or 1):
                break
            page += 1
        return [record for record in found if normalise_match_value(record.get(field_name)) == wanted]

    def find_records_each(self, entity: Entity, terms: list[tuple[str, Any]]) -> list[list[Record]]:
        """:meth:`find_records` per term; the terms without a list filter (the spec's filters on
        ``/3/customers`` — ``name``, ``organisationnumber`` … — do not say how they compare, so Synkro does not rely
        on them) share one reading of the whole list instead of one each."""
        answers: list[list[Record] | None] = [None] * len(terms)
        scanned: list[tuple[int, str, str]] = []
        for index, (field_name, value) in enumerate(terms):
            wanted = normalise_match_value(value)
            if wanted == "":
                answers[index] = []
            elif field_name in SERVER_FILTERS.get(entity, {}):
                answers[index] = self.find_records(entity, field_name, value)
            else:
                scanned.append((index, field_name, wanted))
        if scanned:
            listed = list(self.list_records(entity))
            for index, field_name, wanted in scanned:
                answers[index] = [r for r in listed if normalise_match_value(r.get(field_name)) == wanted]
        return [answer or [] for answer in answers]

    def filters_by_change(self, entity: Entity) -> bool:
        """Employees have no ``lastmodified`` filter (the spec's ``/3/employees`` takes none)."""
        return bool(self._resource(entity).lastmodified)

    #: ``lastmodified`` is Swedish wall-clock time in whole minutes (``format_lastmodified``).
    change_filter_zone = FORTNOX_TIMEZONE
    change_filter_step = dt.timedelta(minutes=1)

    def list_fields(self, entity: Entity) -> frozenset[str] | None:
        """The fields of the list item (``LIST_ITEM_FIELDS``): a list answer lacks most of a record."""
        return LIST_ITEM_FIELDS.get(Entity(entity))

    def get_record(self, entity: Entity, record_id: str) -> Record:
        resource = self._resource(entity)
        body = self.json("GET", self._path(resource, record_id))
        return self.read_noted(entity, record_id, flatten(entity, body[resource.singular]))

    def create_record(self, entity: Entity, data: Record) -> Record:
        resource = self._resource(entity)
        body = self.json("POST", resource.path, json={resource.singular: to_wire(entity, data)})
        return flatten(entity, body[resource.singular])

    def update_record(self, entity: Entity, record_id: str, data: Record, *,
                      check: Callable[[Record], None] | None = None, read: Record | None = None) -> Record:
        """Fortnox updates only the fields sent; rows sent replace the document's rows.

        The description requires ``Name`` / ``CustomerNumber`` ... in every body, updates included, so a
        change without them is completed from the current record (one extra read, or ``read``: the record the
        caller has just read through this client, while nothing was sent since — ``ApiClient.read_is_latest``).
        Only the fields sent change, so a person's edit of another field is kept and ``check`` is not needed
        (ignored).
        """
        resource = self._resource(entity)
        missing = [f.name for f in entity_spec(entity).fields if f.required and f.name not in data]
        if missing:
            current = read if self.read_is_latest(entity, record_id, read) else self.get_record(entity, record_id)
            data = {**{name: current.get(name) for name in missing}, **data}
        body = self.json("PUT", self._path(resource, record_id), json={resource.singular: to_wire(entity, data)})
        return flatten(entity, body[resource.singular])

    def delete_record(self, entity: Entity, record_id: str) -> None:
        """Customers and articles are deleted; orders and invoices can only be cancelled; employees stay."""
        resource = self._resource(entity)
        if resource.removal == "delete":
            self.request("DELETE", self._path(resource, record_id))
        elif resource.removal == "cancel":
            self.request("PUT", f"{self._path(resource, record_id)}/cancel")
        else:
            raise VendorValidationError(f"Fortnox cannot delete {with_article(resource.singular.lower())}",
                                        vendor_message="Not supported by the Fortnox API")

    def can_delete(self, entity: Entity) -> bool:
        """Customers and articles have a ``DELETE``, orders and invoices a ``cancel``; employees neither."""
        resource = RESOURCES.get(entity)
        return resource is not None and resource.removal != "none"

    def has_activity(self, entity: Entity, record_id: str) -> bool | None:
        """Whether customer ``record_id`` has an invoice or an order (``?customernumber=`` on both lists)."""
        if entity != Entity.ORGANISATION:
            return None
        for document in (Entity.INVOICE, Entity.DELIVERY):
            resource = RESOURCES[document]
            body = self.json("GET", resource.path, params={"customernumber": str(record_id), "limit": 1}) or {}
            if body.get(resource.plural):
                return True
        return False

    def invoice_bookkeep(self, document_number: str) -> Record:
        """Book an invoice (``PUT /invoices/{n}/bookkeep``); afterwards Fortnox refuses changes to it."""
        body = self.json("PUT", f"{self._path(RESOURCES[Entity.INVOICE], document_number)}/bookkeep")
        return flatten(Entity.INVOICE, body["Invoice"])

    def invoice_from_order(self, order_number: str) -> Record:
        """Turn order ``order_number`` into its invoice, as Fortnox does it: ``PUT /orders/{n}/createinvoice``.

        Fortnox copies the order's customer and rows onto a new invoice, answers that invoice (``{"Invoice":
        {...}}``, spec operation ``createinvoice_3``) and keeps its number in the order's ``InvoiceReference``.
        Returns the invoice as :meth:`get_record` does. Fortnox refuses a second ``createinvoice`` of one order,
        so a repeat after a lost answer makes no second invoice; the engine's next attempt finds the invoice
        through the order's ``InvoiceReference`` and links it.
        """
        body = self.json("PUT", f"{self._path(RESOURCES[Entity.DELIVERY], order_number)}/createinvoice")
        return flatten(Entity.INVOICE, body["Invoice"])

    def record_id(self, entity: Entity, record: Record) -> str:
        return str(record[entity_spec(entity).id_field])

    # -- helpers -------------------------------------------------------------------------------
    @staticmethod
    def _resource(entity: Entity) -> Resource:
        try:
            return RESOURCES[Entity(entity)]
        except KeyError:
            raise NotImplementedError(f"Fortnox has no resource for {entity}; rows travel with their document") \
                from None

    @staticmethod
    def _path(resource: Resource, record_id: str) -> str:
        return f"{resource.path}/{quote(str(record_id), safe='')}"
