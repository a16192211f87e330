"""The interface every external system implements, and the client machinery they share.

Modelled on Sentry's integrations: a provider class per vendor (key, name, capabilities) and a base
API client owning base URL, timeouts, the auth hook, verbs, retries and the mapping of failures to
the typed errors of :mod:`integrations.systems.errors` — so a vendor's client holds only its own
endpoints and its own error shape.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Protocol

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from . import hosts, transport
from .catalog import Catalog, Entity
from .errors import (
    AuthError,
    ExternalSystemError,
    NotFoundError,
    RateLimitedError,
    Refusal,
    TransientError,
    VendorValidationError,
)

logger = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
Record = dict[str, Any]
#: The most of a vendor's own error text that goes into a message shown to people.
VENDOR_MESSAGE_LIMIT = 300
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]+")


class ForeignAnswerError(ExternalSystemError):
    """The server answered, but not like the vendor's API does (a web page, another server, a redirect)."""


def plain_vendor_text(text: str | None) -> str:
    """A vendor's error text fit for a message: control characters folded to spaces, at most 300 characters."""
    cleaned = " ".join(_CONTROL_CHARACTERS.sub(" ", str(text or "")).split())
    return cleaned if len(cleaned) <= VENDOR_MESSAGE_LIMIT else cleaned[:VENDOR_MESSAGE_LIMIT - 1] + "…"


class SystemKind(StrEnum):
    CRM = "crm"
    ERP = "erp"
    POS = "pos"


class WebhookAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


@dataclass(frozen=True)
class WebhookEvent:
    """What one inbound notification says changed. The engine re-reads the record itself."""

    entity: Entity
    action: WebhookAction
    external_id: str
    #: The vendor's body, kept for support staff; never trusted as data.
    payload: Mapping[str, Any] | None = None


#: The longest credential value accepted (characters): keys, passwords and tokens (a Fortnox refresh
#: token, a JWT) are far shorter; anything longer is refused, never stored.
CREDENTIAL_MAX_LENGTH = 4096


@dataclass(frozen=True)
class CredentialField:
    """One credential a connection needs. Secret ones are write-only everywhere."""

    name: str
    label: str
    secret: bool = True
    required: bool = True
    help: str = ""


class RateLimiter(Protocol):
    def acquire(self, cost: int = 1) -> None: ...


class TokenStore(Protocol):
    """Where access tokens are kept between clients (Django's cache in the app), so that each
    task does not log in again."""

    def get(self, key: str) -> Any: ...

    def set(self, key: str, value: Any, timeout: float | None = None) -> None: ...


class MemoryTokenStore:
    """A process-local token store with expiry; the default outside Django."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[Any, float | None]] = {}

    def get(self, key: str) -> Any:
        value, expires = self._values.get(key, (None, None))
        if expires is not None and expires <= time.monotonic():
            self._values.pop(key, None)
            return None
        return value

    def set(self, key: str, value: Any, timeout: float | None = None) -> None:
        self._values[key] = (value, time.monotonic() + timeout if timeout else None)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{value.__class__.__name__} cannot be sent as JSON")


def normalise_match_value(value: Any) -> str:
    """How two systems' spellings of a key are compared: case, padding and inner spaces ignored."""
    if value is None:
        return ""
    return " ".join(str(value).split()).casefold()


def _seconds(value: Any) -> float | None:
    """A wait in seconds from a header or body value (a number or digits), never negative; None otherwise."""
    if value is None or isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, seconds) if seconds == seconds and seconds != float("inf") else None


def _json_body(response: requests.Response) -> Any:
    """A response's JSON body, None when it has none or it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def _wait_with_retry_after(base: Callable[[RetryCallState], float], ceiling: float):
    """Exponential backoff with jitter, but never shorter than the vendor's Retry-After."""

    def wait(state: RetryCallState) -> float:
        computed = base(state)
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after:
            return min(max(computed, float(retry_after)), max(ceiling, float(retry_after)))
        return computed

    return wait


class ApiClient:
    """Base client: one HTTP session, timeouts, auth hook, retries and typed errors.

    Subclasses set ``system`` and implement the record interface below in the vendor's terms.
    Records are flat dicts keyed by the catalog's field names (dotted for nested vendor fields,
    e.g. ``mainAddress.addressLine1``); documents (deliveries, orders, invoices, POS sales) carry
    their lines as a list of dicts under ``"lines"``.
    """

    #: The system's key in the registry (``"uniconta"``); errors carry it, messages use :attr:`system_name`.
    system: ClassVar[str] = ""
    #: (connect, read) seconds, on every call.
    timeout: tuple[float, float] = (5.0, 30.0)
    max_attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    #: The longest wait a vendor may ask for (Retry-After, Visma.net's ``X-RateLimit-Reset``, …) that is slept out
    #: inside the call, in seconds. A longer one is not slept in the worker: the error is raised at once, its
    #: ``retry_after`` intact, and whoever runs the job schedules it again for later (``engine.process``).
    longest_wait: float = 60.0

    def __init__(
        self,
        *,
        base_url: str,
        credentials: Mapping[str, str],
        session: requests.Session | None = None,
        max_attempts: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rate_limiter: RateLimiter | None = None,
        extra_headers: Mapping[str, str] | None = None,
        token_store: TokenStore | None = None,
        credentials_changed: Callable[[dict[str, str]], None] | None = None,
        credentials_held: Callable[[], AbstractContextManager[Mapping[str, str] | None]] | None = None,
        call_observer: Callable[[ExternalSystemError | None], None] | None = None,
        connection_id: int | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        #: The only origins this client sends anything to (see ``_transmit``).
        self.allowed_origins = hosts.client_origins(self.base_url, self._auth_urls())
        self.credentials = dict(credentials)
        #: The connection this client speaks for (None outside one): with the base URL and the credentials it keys
        #: the pooled HTTP session (``transport.sessions``), which is never handed to another connection.
        self.connection_id = connection_id
        self._session: requests.Session | None = session
        #: The pool key of the session taken from ``transport.sessions``; None for a session given by the caller.
        self._session_key: transport.SessionKey | None = None
        if max_attempts is not None:
            self.max_attempts = max_attempts
        self.sleep = sleep
        self.rate_limiter = rate_limiter
        self.extra_headers = dict(extra_headers or {})
        self.token_store: TokenStore = token_store or MemoryTokenStore()
        #: Called with the new credentials when the vendor rotates one (Fortnox refresh tokens).
        self.credentials_changed = credentials_changed
        #: Holds the owner's lock on the stored credentials for a block and gives them as stored now (None when
        #: there is no owner): workers sharing one connection rotate a single-use token one at a time.
        self.credentials_held = credentials_held
        #: HTTP calls made, attempts included; read by benchmarks and tests.
        self.calls = 0
        #: Told of each logical request's outcome: None when the vendor answered with success, the ``AuthError``
        #: when it refused the credentials (other failures say nothing about them). The owner records when the
        #: connection last worked; a failing observer never fails the call.
        self.call_observer = call_observer

    @property
    def session(self) -> requests.Session:
        """This client's HTTP session: the caller's, or one of the connection's taken from the process's pool (again
        after :meth:`close`, should the client be used once more)."""
        if self._session is None:
            self._session_key = transport.SessionKey(owner=(self.system, self.connection_id), base_url=self.base_url,
                                                     credentials=transport.credentials_digest(self.credentials))
            self._session = transport.sessions.take(self._session_key)
        return self._session

    @session.setter
    def session(self, value: requests.Session) -> None:
        self.close()
        self._session = value

    @property
    def provider(self) -> SystemProvider | None:
        """This client's provider from the registry, None for a client of no registered system."""
        from .registry import get_system

        try:
            return get_system(self.system)
        except LookupError:
            return None

    @property
    def system_name(self) -> str:
        """The system's name as people know it ("Uniconta"), for messages."""
        provider = self.provider
        return provider.name if provider is not None else (self.system or "The system")

    def _auth_urls(self) -> tuple[str, ...]:
        """The vendor's fixed sign-in addresses on another host (``extras["token_url"]``), which may be called too."""
        provider = self.provider
        token_url = provider.extras.get("token_url") if provider is not None else None
        return (token_url,) if token_url else ()

    # -- hooks for subclasses ---------------------------------------------------------------
    def token_key(self) -> str:
        """Cache key for this client's access token: system, base URL and a digest of the credentials."""
        digest = hashlib.sha256(json.dumps(self.credentials, sort_keys=True).encode()).hexdigest()[:24]
        return f"synkro-token:{self.system}:{self.base_url}:{digest}"

    def update_credentials(self, **changes: str) -> None:
        """Keep a rotated credential (e.g. a new refresh token) and tell the owner to store it."""
        self.credentials.update(changes)
        if self.credentials_changed is not None:
            self.credentials_changed(dict(self.credentials))

    @contextmanager
    def stored_credentials_held(self) -> Iterator[dict[str, str] | None]:
        """Hold the lock on the stored credentials (one holder per connection, across processes) for the block.

        Yields the credentials as stored at that moment, or None when the client has no owner that stores them
        (a client made outside a connection): then nothing is locked.
        """
        held = self.credentials_held() if self.credentials_held is not None else nullcontext(None)
        with held as stored:
            yield dict(stored) if stored is not None else None

    def credentials_adopt(self, stored: Mapping[str, str]) -> bool:
        """Take over credentials another worker stored meanwhile (a rotated token); True when they differ."""
        if dict(stored) == self.credentials:
            return False
        self.credentials = dict(stored)
        return True

    def authenticate(self, headers: dict[str, str]) -> None:
        """Add auth to an outgoing request's headers (log in first if needed)."""

    def refresh_auth(self) -> bool:
        """Called once after a 401; return True when new credentials are worth a second try."""
        return False

    def vendor_message(self, response: requests.Response) -> str:
        """The vendor's own error text from an error response. Only asked of answers shaped like the vendor's
        (``answer_is_vendors``); ``error_for`` caps what it returns."""
        try:
            body = response.json()
        except ValueError:
            return (response.text or response.reason or "").strip()[:500]
        if isinstance(body, dict):
            for key in ("message", "Message", "error", "error_description", "detail", "title"):
                if body.get(key):
                    return str(body[key])
        return str(body)[:500]

    def answer_is_vendors(self, response: requests.Response) -> bool:
        """Whether an error answer has the shape of the vendor's own error bodies (``SystemProvider.error_keys``).

        An empty body counts as the vendor's (there is nothing foreign to show); a web page, or JSON
        without any of the vendor's error keys, does not.
        """
        if not response.content or not response.content.strip():
            return True
        try:
            body = response.json()
        except ValueError:
            return False
        provider = self.provider
        keys = provider.error_keys if provider is not None else ()
        bare = provider.bare_error_text if provider is not None else False
        if isinstance(body, dict):
            return any(key in body for key in keys)
        if isinstance(body, str | int) or (isinstance(body, list) and all(isinstance(i, str) for i in body)):
            return bare
        return False

    def retry_after(self, response: requests.Response) -> float | None:
        """Seconds the vendor asked us to wait: the longer of the ``Retry-After`` header and what its body says
        (``retry_after_in_body``); None when neither says."""
        waits = [wait for wait in (_seconds(response.headers.get("Retry-After")), self.retry_after_in_body(response))
                 if wait is not None]
        return max(waits) if waits else None

    def retry_after_in_body(self, response: requests.Response) -> float | None:
        """A vendor's own wait in its error body, in seconds (e.g. webCRM's ``RetryAfterSeconds``); None here."""
        return None

    # -- HTTP --------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def outbound_url(self, method: str, path: str, params: Any = None) -> str:
        """The URL a request will really go to (as ``requests`` prepares it); ``BaseUrlRefused`` when its origin
        is not this client's, so that no crafted path, absolute URL or parameter carries credentials elsewhere."""
        prepared = requests.PreparedRequest()
        try:
            prepared.prepare_url(self.url(path), params)
        except (requests.exceptions.RequestException, ValueError) as exc:
            raise hosts.BaseUrlRefused(f"{self.system_name}: not a valid address", system=self.system) from exc
        url = prepared.url or ""
        if hosts.origin_of(url) not in self.allowed_origins:
            raise hosts.BaseUrlRefused(
                f"A request to {hosts.host_of(url)} was stopped: {self.system_name}'s credentials go only to "
                f"{hosts.host_of(self.base_url)}.", system=self.system)
        return url

    def request(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> requests.Response:
        """Send one logical request, retrying transient failures with backoff and jitter.

        A wait the vendor asks for is honoured up to :attr:`longest_wait` seconds; a longer one (a Visma.net window
        resetting in half an hour) raises the ``RateLimitedError``/``TransientError`` at once with its ``retry_after``.
        """
        method = method.upper()

        def retryable(error: BaseException) -> bool:
            if (getattr(error, "retry_after", None) or 0) > self.longest_wait:
                return False  # too long to hold a worker: raised with its retry_after, re-queued by the caller
            if isinstance(error, RateLimitedError):
                return True  # a 429 was not processed: safe for every method
            if isinstance(error, TransientError):
                return method in IDEMPOTENT_METHODS or getattr(error, "not_sent", False)
            return False

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=_wait_with_retry_after(
                wait_exponential_jitter(initial=self.backoff_initial, max=self.backoff_max),
                self.backoff_max,
            ),
            retry=retry_if_exception(retryable),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            response = retrying(self._send_once, method, path, auth=auth, **kwargs)
        except AuthError as error:
            self._observe(error)
            raise
        self._observe(None)
        return response

    def _observe(self, error: ExternalSystemError | None) -> None:
        if self.call_observer is None:
            return
        try:
            self.call_observer(error)
        except Exception:  # the record of how the connection fares must never break the call itself
            logger.exception("recording the outcome of a %s call failed", self.system)

    def _send_once(self, method: str, path: str, *, auth: bool, **kwargs: Any) -> requests.Response:
        response = self._transmit(method, path, auth=auth, **kwargs)
        if response.status_code == 401 and auth and self.refresh_auth():
            response = self._transmit(method, path, auth=auth, **kwargs)
        if response.status_code >= 300:
            # Redirects are not followed: a Location could carry the credentials to another host.
            raise self.error_for(response)
        return response

    def _transmit(self, method: str, path: str, *, auth: bool, **kwargs: Any) -> requests.Response:
        url = self.outbound_url(method, path, kwargs.get("params"))
        headers = {"Accept": "application/json", **self.extra_headers, **kwargs.pop("headers", {})}
        if "json" in kwargs:
            # Money travels as Decimal inside Synkro; vendors take JSON numbers.
            kwargs["data"] = json.dumps(kwargs.pop("json"), default=_json_default).encode()
            headers.setdefault("Content-Type", "application/json")
        if auth:
            self.authenticate(headers)
        if self.rate_limiter is not None:
            self.rate_limiter.acquire()
        self.calls += 1
        try:
            return self.session.request(method, url, headers=headers, timeout=self.timeout, allow_redirects=False,
                                        **{k: v for k, v in kwargs.items() if k != "params"})
        except requests.ConnectionError as exc:
            error = TransientError(f"Could not reach {self.system_name}: {exc.__class__.__name__}", system=self.system)
            error.not_sent = isinstance(exc, requests.ConnectTimeout)  # type: ignore[attr-defined]
            raise error from exc
        except requests.Timeout as exc:
            raise TransientError(f"{self.system_name} did not answer in time", system=self.system) from exc

    def refusal_for(self, body: Any) -> Refusal | None:
        """The vendor's refusal in plain words for an error answer's parsed JSON ``body`` (None when the body is not
        JSON); None when the vendor's code or words are not known. Each vendor's client reads its own error shape
        here against its table in ``<vendor>/messages.py``; this default explains nothing."""
        return None

    def error_for(self, response: requests.Response) -> ExternalSystemError:
        """Map an error response to one of the shared exceptions; an answer shaped like the vendor's also gets its
        refusal explained (``refusal_for``, given the body parsed once)."""
        error = self._status_error(response)
        if error.vendor_message is not None:
            error.refusal = self.refusal_for(_json_body(response))
        return error

    def _status_error(self, response: requests.Response) -> ExternalSystemError:
        """The shared exception for an error response's status, with the vendor's words (none for a foreign answer)."""
        status = response.status_code
        name = self.system_name
        if not self.answer_is_vendors(response) or status < 400:
            return self._foreign_error(response)
        message = plain_vendor_text(self.vendor_message(response))
        common = {"status": status, "vendor_message": message, "system": self.system}
        if status == 429:
            return RateLimitedError(f"{name} asked us to slow down", retry_after=self.retry_after(response), **common)
        if status in (401, 403):
            return AuthError(f"{name} refused the credentials: {message}", **common)
        if status == 404:
            return NotFoundError(f"{name} has no such record: {message}", **common)
        if status >= 500 or status == 408:
            return TransientError(f"{name} had a temporary problem ({status})", retry_after=self.retry_after(response),
                                  **common)
        return VendorValidationError(f"{name} refused the data: {message}", **common)

    def _foreign_error(self, response: requests.Response) -> ExternalSystemError:
        """An answer not shaped like the vendor's: its body is never shown, only who answered and the status.

        Rate limits and server errors stay retryable (a proxy's error page is usually passing); anything else
        fails at once and never counts as "not found" (a foreign 404 proves nothing about a record).
        """
        status = response.status_code
        message = (f"The server at {hosts.host_of(response.url or self.base_url)} did not answer like "
                   f"{self.system_name}'s API (HTTP {status}).")
        common = {"status": status, "vendor_message": None, "system": self.system}
        if status == 429:
            return RateLimitedError(message, retry_after=self.retry_after(response), **common)
        if status >= 500 or status == 408:
            return TransientError(message, retry_after=self.retry_after(response), **common)
        return ForeignAnswerError(message, **common)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if not response.content:
            return None
        return response.json()

    # -- the record interface the sync engine uses --------------------------------------------
    def check_connection(self) -> str:
        """Make one real authenticated call; return a short description of what was seen."""
        raise NotImplementedError

    def list_records(self, entity: Entity, *, modified_since: Any = None, page_size: int | None = None
                     ) -> Iterator[Record]:
        """Every record of an entity, page by page, in constant memory."""
        raise NotImplementedError

    def get_record(self, entity: Entity, record_id: str) -> Record:
        raise NotImplementedError

    def filters_by_change(self, entity: Entity) -> bool:
        """Whether ``list_records(entity, modified_since=…)`` lists only what changed (else it lists everything)."""
        return True

    #: The clock of the "changed since" filter: the zone the vendor reads it in (UTC unless the vendor compares
    #: local wall-clock time) and the step it is compared at (a filter in whole minutes rounds down to one).
    change_filter_zone: ClassVar[tzinfo] = UTC
    change_filter_step: ClassVar[timedelta] = timedelta(seconds=1)

    def list_fields(self, entity: Entity) -> frozenset[str] | None:
        """The fields a list answer of ``entity`` carries (catalog names), where it carries fewer than a read of one
        record; None when a listed record is the whole record (the default)."""
        return None

    def find_records(self, entity: Entity, field_name: str, value: Any) -> list[Record]:
        """Records whose ``field_name`` equals ``value`` (text compared without case or padding).

        Used to match a record before creating it. This default pages through everything; a vendor
        with a server-side filter overrides it.
        """
        wanted = normalise_match_value(value)
        if wanted == "":
            return []
        return [r for r in self.list_records(entity) if normalise_match_value(r.get(field_name)) == wanted]

    def create_record(self, entity: Entity, data: Record) -> Record:
        raise NotImplementedError

    def create_records(self, entity: Entity, rows: list[Record]) -> list[Record]:
        """Create several records of ``entity``, in as few calls as the vendor allows; returns them as stored.

        One :meth:`create_record` per row unless a vendor has a documented list insert (Uniconta ``InsertList``).
        """
        return [self.create_record(entity, row) for row in rows]

    def list_insert_size(self, entity: Entity) -> int:
        """How many rows of ``entity`` one :meth:`create_records` call sends in one request: 1 (one request per
        row) unless the vendor has a documented list insert whose answer names each row's new key."""
        return 1

    def find_records_each(self, entity: Entity, terms: list[tuple[str, Any]]) -> list[list[Record]]:
        """For each ``(field_name, value)`` of ``terms``, what :meth:`find_records` answers for it (same order).

        The match search of one record asks several fields at once (org. number, customer number, name ...). This
        default asks :meth:`find_records` per term; a vendor with an ``or`` filter, or one whose search reads the
        whole list anyway, overrides it to ask once."""
        return [self.find_records(entity, field_name, value) for field_name, value in terms]

    def update_record(self, entity: Entity, record_id: str, data: Record, *,
                      check: Callable[[Record], None] | None = None, read: Record | None = None) -> Record:
        """Write ``data`` (fields by the vendor's names) onto the record; returns the record as the vendor keeps it.

        ``check`` is for vendors that take only whole records (read, merge, put back): it is called with the
        record as the vendor holds it just before the write and may raise (:class:`.errors.ChangedSinceRead`)
        to stop the write. Clients whose vendor updates only the fields sent never read first and ignore it.
        ``read`` is the record as the caller has just read it through this client (``get_record``): a client that
        would read it again first uses it instead (``check`` then sees it) when :meth:`read_is_latest` says this
        client has sent nothing since that read; otherwise it reads again as before.
        """
        raise NotImplementedError

    def read_noted(self, entity: Entity, record_id: Any, record: Record) -> Record:
        """Note ``record`` as the answer of this client's latest call (for :meth:`read_is_latest`); returns it."""
        self._latest_read = (str(entity), str(record_id), self.calls, record)
        return record

    def read_is_latest(self, entity: Entity, record_id: Any, read: Record | None) -> bool:
        """Whether ``read`` is the very record :meth:`read_noted` kept for ``entity``/``record_id`` and no HTTP call
        went out through this client since (a person's save through it, a search, a retry): then reading the record
        again would only repeat that read."""
        latest = getattr(self, "_latest_read", None)
        return (read is not None and latest is not None and latest[3] is read
                and latest[:3] == (str(entity), str(record_id), self.calls))

    def delete_record(self, entity: Entity, record_id: str) -> None:
        raise NotImplementedError

    def can_create(self, entity: Entity) -> bool:
        """Whether :meth:`create_record` can make a record of ``entity`` through the vendor's API. True unless the
        vendor's API has no way to (Uniconta's REST face cannot post an invoice); asked before choosing what to
        create, so that a setting the vendor cannot honour becomes the nearest thing it can do."""
        return True

    def can_delete(self, entity: Entity) -> bool:
        """Whether :meth:`delete_record` can remove a record of ``entity`` through the vendor's API (or deactivate
        it, where that is the vendor's own way of deleting). True unless a vendor's API has no way to; asked
        before deleting, so that "cannot" is a plain answer instead of an error."""
        return True

    def has_activity(self, entity: Entity, record_id: str) -> bool | None:
        """Whether the customer ``record_id`` has sales orders or invoices, which forbid deleting it.

        True or False when the vendor answered; None (the default) when this system cannot tell.
        """
        return None

    def is_deleted(self, entity: Entity, record: Record) -> bool:
        """Whether a record read back is marked deleted by the vendor (a flag) instead of being gone."""
        return False

    def record_id(self, entity: Entity, record: Record) -> str:
        raise NotImplementedError

    def close(self) -> None:
        """Give a pooled session back for the connection's next client (closed instead when the credentials were
        rotated meanwhile); close a session the caller gave. Closing twice does nothing more."""
        session, key = self._session, self._session_key
        self._session = self._session_key = None
        if session is None:
            return
        if key is None:
            session.close()
        else:
            transport.sessions.give_back(key, session, credentials=transport.credentials_digest(self.credentials))


@dataclass
class SystemProvider:
    """What Synkro knows of one external system. One instance per system, found by its key."""

    key: str
    name: str
    kind: SystemKind
    default_base_url: str
    credential_fields: tuple[CredentialField, ...]
    #: Whether the vendor pushes change notifications we can receive over HTTP.
    has_webhooks: bool = True
    #: Whether those notifications are signed with a shared secret.
    signs_webhooks: bool = False
    #: The vendor's published limit as (requests, window in seconds), when it has one.
    rate_limit: tuple[int, float] | None = None
    #: The vendor's own API hosts: in production a base URL must be on one of them (see ``hosts``).
    allowed_hosts: tuple[str, ...] = ()
    #: Top-level keys of the vendor's JSON error bodies; an error body with none of them is not the vendor's.
    error_keys: tuple[str, ...] = ()
    #: Whether the vendor may answer an error with a bare JSON string (or a list of strings).
    bare_error_text: bool = False
    docs: str = ""
    client_class: type[ApiClient] | None = None
    catalog_factory: Callable[[], Catalog] | None = None
    webhook_parser: Callable[..., list[WebhookEvent]] | None = None
    sandbox_factory: Callable[..., Any] | None = None
    #: Registers Synkro's inbound URL in the vendor for some entities: ``(client, url, entities) -> what was done``.
    webhook_registrar: Callable[..., str] | None = None
    #: How a person registers the URL where the vendor offers no API for it (shown on the webhooks page).
    webhook_instructions: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def demo_credentials(self) -> dict[str, str]:
        """What the system's sandbox accepts: its package's demo credentials, else a placeholder per field."""
        return dict(self.extras.get("demo_credentials")
                    or {f.name: f"demo-{f.name}" for f in self.credential_fields})

    def catalog(self) -> Catalog:
        if self.catalog_factory is None:
            return Catalog(system=self.key)
        return self.catalog_factory()

    def client(self, *, base_url: str | None = None, credentials: Mapping[str, str], **kwargs: Any) -> ApiClient:
        """A client for ``base_url`` (the default when empty). ``hosts.BaseUrlRefused`` before any request when the
        credentials may not be sent there."""
        if self.client_class is None:
            raise NotImplementedError(f"{self.name} has no client yet")
        base_url = base_url or self.default_base_url
        hosts.base_url_check(base_url, provider=self)
        return self.client_class(base_url=base_url, credentials=credentials, **kwargs)

    def parse_webhook(
        self, *, body: bytes, headers: Mapping[str, str], query: Mapping[str, str], secret: str | None = None
    ) -> list[WebhookEvent]:
        if self.webhook_parser is None:
            raise NotImplementedError(f"{self.name} sends no webhooks")
        return self.webhook_parser(body=body, headers=headers, query=query, secret=secret)

    def register_webhooks(self, *, client: ApiClient, url: str, entities: list[Entity]) -> str:
        """Make the vendor call ``url`` on changes of ``entities``; idempotent. Says what it did."""
        if self.webhook_registrar is None:
            raise NotImplementedError(self.webhook_instructions or f"{self.name} cannot be told about webhooks "
                                                                  "through its API.")
        return self.webhook_registrar(client, url, entities)

    def sandbox(self, **knobs: Any) -> Any:
        if self.sandbox_factory is None:
            raise NotImplementedError(f"{self.name} has no sandbox yet")
        return self.sandbox_factory(**knobs)

    @property
    def secret_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.credential_fields if f.secret)
