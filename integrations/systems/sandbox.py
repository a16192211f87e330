"""Shared machinery for the vendor sandboxes: WSGI dispatch, drill knobs, request log, webhooks.

A vendor's ``sandbox.py`` subclasses :class:`SandboxApp`, declares its routes with the vendor's
real paths and implements its auth handshake, store and error bodies. This base adds what every
sandbox needs the same way: added latency, a share of 5xx and 429 answers, a request-per-window
rate limit, webhook delivery with a share silently dropped, duplicated or delayed (late and out of order),
writes whose answer is lost or comes too late, and a log of what was asked.
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import transport
from .catalog import FieldSpec
from .sandbox_rows import KeyedRows
from .sandbox_state import SandboxState

logger = logging.getLogger(__name__)

#: The methods that change something at a vendor (Uniconta's OData also takes MERGE).
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "MERGE", "DELETE"})


@dataclass
class SandboxKnobs:
    """Drill settings. All default to a well-behaved vendor."""

    latency_ms: int = 0
    #: Share (0..1) of requests answered with a 5xx.
    error_rate: float = 0.0
    #: Share (0..1) of requests answered with a 429, on top of the rate limit.
    throttle_rate: float = 0.0
    #: Share (0..1) of webhook deliveries silently dropped.
    webhook_drop_rate: float = 0.0
    #: (requests, window seconds); ``None`` for the vendor's default, ``(0, 0)`` for no limit.
    rate_limit: tuple[int, float] | None = None
    #: Deliver webhooks in a background thread (like a real vendor) instead of inline.
    webhook_async: bool = False
    #: Share (0..1) of webhook deliveries sent twice (a call repeated, as after a timeout on the sender's side).
    webhook_duplicate_rate: float = 0.0
    #: Each webhook waits a random 0..``webhook_delay_ms`` before it is sent, from a background thread: notices
    #: come late and out of order. 0 sends at once.
    webhook_delay_ms: int = 0
    #: Share (0..1) of writes (POST, PUT, PATCH, MERGE, DELETE) that are applied, webhooks and all, and then
    #: answered with a 500: the change is made but the caller never hears so.
    lost_answer_rate: float = 0.0
    #: Share (0..1) of writes that are applied and answered only after ``late_answer_ms``.
    late_answer_rate: float = 0.0
    #: How late a late answer comes, in ms: longer than the client waits (its read timeout, 30 s) loses it.
    late_answer_ms: int = 35_000
    seed: int | None = None


@dataclass
class LoggedRequest:
    method: str
    path: str
    status: int
    query: str = ""


@dataclass
class WebhookDelivery:
    url: str
    body: bytes
    headers: dict[str, str]
    dropped: bool = False
    #: A second sending of a delivery already made (the duplicate knob).
    duplicate: bool = False
    status: int | None = None
    error: str = ""


class SandboxError(HTTPException):
    """Raise from a handler to answer with a vendor-shaped error body."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None):
        super().__init__()
        self.code = status
        self.body = body
        self.extra_headers = dict(headers or {})

    def get_response(self, environ=None, scope=None) -> Response:  # type: ignore[override]
        payload = self.body if isinstance(self.body, str | bytes) else json.dumps(self.body)
        mimetype = "application/json" if not isinstance(self.body, str | bytes) else "text/plain"
        return Response(payload, status=self.code, mimetype=mimetype, headers=self.extra_headers)


class SandboxApp:
    """Base WSGI app of a vendor simulator."""

    system: str = ""
    #: The vendor's default limit as (requests, window seconds); None for none.
    default_rate_limit: tuple[int, float] | None = None
    rules: list[Rule] = []
    #: Paths of the sign-in calls (webCRM's ``/Auth/ApiLogin``, Fortnox's and Visma.net's token endpoints): a POST
    #: there changes no record, so its answer is never lost on purpose.
    sign_in_paths: tuple[str, ...] = ("/Auth", "/oauth-v1/token", "/connect/token")

    def __init__(self, *, knobs: SandboxKnobs | None = None, **knob_values: Any):
        self.knobs = knobs or SandboxKnobs(**knob_values)
        self.random = random.Random(self.knobs.seed)
        self.lock = threading.RLock()
        self.url_map = Map([rule.empty() for rule in self.rules], strict_slashes=False)
        self.requests: list[LoggedRequest] = []
        self.webhooks: list[WebhookDelivery] = []
        self._window: deque[float] = deque()
        self._webhook_session = None
        self.clock: Callable[[], float] = time.monotonic
        self._forced: list[tuple[int, float | None]] = []
        #: Where the demo keeps this sandbox's data across restarts (:mod:`.sandbox_state`); None in memory only.
        self.state: SandboxState | None = None

    # -- what a restart keeps (the demo's sandboxes; see :mod:`.sandbox_state`) ----------------------
    def persistent_collections(self) -> dict[str, MutableMapping[Any, Any]]:
        """The live containers of this vendor's data, by a stable name. Override in each vendor's sandbox."""
        return {}

    def persistent_meta(self) -> dict[str, Any]:
        """The scalars beside the collections (id series, counters), by name."""
        return {}

    def restore_state(self, collections: Mapping[str, Mapping[Any, Any]], meta: Mapping[str, Any]) -> None:
        """Put a kept state back: each live container gets its kept entries; vendors restore ``meta`` on top."""
        for name, container in self.persistent_collections().items():
            container.clear()
            container.update(collections.get(name, {}))

    def keep_state(self, state: SandboxState, seed: Callable[[], None] | None = None) -> None:
        """Keep this sandbox's data in ``state``: load what it holds, or (for a new file) seed and write it."""
        if not state.load_into(self) and seed is not None:
            seed()
        self.state = state
        state.save(self)

    def save_state(self) -> None:
        """Write what changed to the state file, if the sandbox keeps one; a full disk is logged, not raised."""
        if self.state is None:
            return
        try:
            self.state.save(self)
        except Exception:
            logger.exception("sandbox %s: its data could not be written to %s", self.system, self.state.path)

    # -- vendor hooks ----------------------------------------------------------------------
    def rate_limited_response(self, retry_after: float) -> Response:
        """The vendor's 429. Override for the vendor's body."""
        return json_response({"message": "Too many requests"}, status=429,
                             headers={"Retry-After": str(max(1, round(retry_after)))})

    def server_error_response(self, status: int = 503) -> Response:
        """The vendor's 5xx. Override for the vendor's body."""
        return json_response({"message": "Internal server error"}, status=status)

    def not_found_response(self) -> Response:
        return json_response({"message": "Not found"}, status=404)

    # -- fault drills ----------------------------------------------------------------------
    def fail_next(self, count: int = 1, *, status: int = 503, retry_after: float | None = None) -> None:
        """Answer the next ``count`` API calls with ``status`` (429 or 5xx): a deterministic fault drill.

        A sandbox that offers it answers :meth:`forced_response` first in its ``dispatch``.
        """
        with self.lock:
            self._forced.extend([(status, retry_after)] * count)

    def forced_response(self) -> Response | None:
        """The next failure :meth:`fail_next` asked for, in the vendor's shape, or None."""
        with self.lock:
            forced = self._forced.pop(0) if self._forced else None
        if forced is None:
            return None
        status, retry_after = forced
        if status == 429:
            return self.rate_limited_response(retry_after or 1.0)
        response = self.server_error_response(status)
        if retry_after is not None:
            response.headers["Retry-After"] = str(math.ceil(retry_after))
        return response

    # -- WSGI ------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self.dispatch(request)
        with self.lock:
            self.requests.append(LoggedRequest(request.method, request.path, response.status_code,
                                               request.query_string.decode("latin-1")))
        if self.state is not None and request.method not in ("GET", "HEAD", "OPTIONS"):
            self.save_state()
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if self.knobs.latency_ms:
            time.sleep(self.knobs.latency_ms / 1000)
        limited = self._check_rate_limit()
        if limited is not None:
            return self.rate_limited_response(limited)
        with self.lock:
            roll = self.random.random()
        if roll < self.knobs.throttle_rate:
            return self.rate_limited_response(1.0)
        if roll < self.knobs.throttle_rate + self.knobs.error_rate:
            return self.server_error_response()
        response = self.route(request)
        if request.method in WRITE_METHODS and response.status_code < 400 \
                and not request.path.startswith(self.sign_in_paths):
            return self._answer_of_a_write(response)
        return response

    def _answer_of_a_write(self, response: Response) -> Response:
        """The answer to a write already applied: lost (a 500) or late, as the knobs ask; else ``response``.

        Draws from the sandbox's random series only while one of the two knobs is set, so seeded drills
        without them see the same series as before.
        """
        lost = late = False
        if self.knobs.lost_answer_rate or self.knobs.late_answer_rate:
            with self.lock:
                roll = self.random.random()
            lost = roll < self.knobs.lost_answer_rate
            late = not lost and roll < self.knobs.lost_answer_rate + self.knobs.late_answer_rate
        if lost:
            return self.server_error_response(500)
        if late:
            time.sleep(self.knobs.late_answer_ms / 1000)
        return response

    def route(self, request: Request) -> Response:
        """Call the endpoint the request's path names, past the knobs (latency, limits, drills)."""
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
            return getattr(self, endpoint)(request, **args)
        except SandboxError as error:
            return error.get_response()
        except HTTPException as error:
            if error.code == 404:
                return self.not_found_response()
            return error.get_response()

    def _check_rate_limit(self) -> float | None:
        """Sliding window; returns seconds to wait when over the limit."""
        limit = self.knobs.rate_limit if self.knobs.rate_limit is not None else self.default_rate_limit
        if not limit or not limit[0]:
            return None
        count, window = limit
        now = self.clock()
        with self.lock:
            while self._window and self._window[0] <= now - window:
                self._window.popleft()
            if len(self._window) >= count:
                return self._window[0] + window - now
            self._window.append(now)
        return None

    # -- webhooks ----------------------------------------------------------------------------
    def deliver_webhook(self, url: str, body: bytes | Mapping[str, Any] | list[Any],
                        headers: Mapping[str, str] | None = None, *, method: str = "POST") -> WebhookDelivery:
        """Call a subscriber like the vendor would. Returns the (first) delivery.

        The knobs may silently drop it, send it twice (``webhook_duplicate_rate``) or hold each sending back a
        random while (``webhook_delay_ms``, from a background thread, so later notices can overtake it).
        """
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        delivery = WebhookDelivery(url=url, body=raw, headers={"Content-Type": "application/json", **(headers or {})})
        deliveries = [delivery]
        with self.lock:
            dropped = self.random.random() < self.knobs.webhook_drop_rate
            if not dropped and self.knobs.webhook_duplicate_rate \
                    and self.random.random() < self.knobs.webhook_duplicate_rate:
                deliveries.append(WebhookDelivery(url=url, body=raw, headers=dict(delivery.headers), duplicate=True))
            delays = [self.random.uniform(0, self.knobs.webhook_delay_ms / 1000) if self.knobs.webhook_delay_ms
                      else 0.0 for _ in deliveries]
            self.webhooks.extend(deliveries)
        if dropped:
            delivery.dropped = True
            return delivery
        for sending, delay in zip(deliveries, delays, strict=True):
            if delay or self.knobs.webhook_async:
                threading.Thread(target=self._post, args=(sending, method, delay), daemon=True).start()
            else:
                self._post(sending, method)
        return delivery

    def _post(self, delivery: WebhookDelivery, method: str, delay: float = 0.0) -> None:
        if delay:
            time.sleep(delay)
        session = transport.build_session()
        try:
            response = session.request(method, delivery.url, data=delivery.body or None,
                                       headers=delivery.headers, timeout=(3, 10))
            delivery.status = response.status_code
        except Exception as exc:  # a subscriber that is down must not break the vendor
            delivery.error = f"{exc.__class__.__name__}: {exc}"
            logger.info("sandbox %s: webhook to %s failed: %s", self.system, delivery.url, delivery.error)
        finally:
            session.close()

    # -- helpers for tests and drills --------------------------------------------------------
    def count(self, method: str | None = None, path_contains: str = "") -> int:
        with self.lock:
            return sum(1 for r in self.requests
                       if (method is None or r.method == method) and path_contains in r.path)

    def clear_log(self) -> None:
        with self.lock:
            self.requests.clear()
            self.webhooks.clear()


def json_response(body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(body, default=str), status=status, mimetype="application/json",
                    headers=dict(headers or {}))


def read_json(request: Request) -> Any:
    """The request's JSON body, or a 400 in the generic shape when it is not JSON."""
    try:
        return json.loads(request.get_data() or b"null")
    except ValueError:
        raise SandboxError(400, {"message": "Body is not valid JSON"}) from None


@dataclass
class Table:
    """An in-memory table with an auto-increment id and per-row modification stamps; its rows are
    :class:`~.sandbox_rows.KeyedRows` (a dict with the indexes its filters need)."""

    rows: KeyedRows = field(default_factory=KeyedRows)
    next_id: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.rows, KeyedRows):
            self.rows = KeyedRows(self.rows)

    def new_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value


def tables_collections(prefix: str, tables: Mapping[str, Table]) -> dict[str, MutableMapping[Any, Any]]:
    """The rows of each :class:`Table` as persistent collections named ``<prefix>:<table>``."""
    return {f"{prefix}:{name}": table.rows for name, table in tables.items()}


def tables_meta(prefix: str, tables: Mapping[str, Table]) -> dict[str, int]:
    """Each table's next id, named as :func:`tables_collections` names its rows."""
    return {f"{prefix}:{name}": table.next_id for name, table in tables.items()}


def restore_tables_meta(prefix: str, tables: Mapping[str, Table], meta: Mapping[str, Any]) -> None:
    for name, table in tables.items():
        table.next_id = int(meta.get(f"{prefix}:{name}", table.next_id))


@dataclass(frozen=True)
class OverLong:
    """A text value longer than its field holds: the field's name, the value's length and the field's limit."""

    name: str
    length: int
    limit: int


def over_long_values(values: Mapping[str, Any], fields: Iterable[FieldSpec] | None) -> list[OverLong]:
    """The text values of a record body longer than the vendor's catalog says their fields hold.

    In: a body as written (field name → value) and the fields of the vendor's entity (its catalog, whose
    ``max_length`` comes from the vendor's own description). Out: one :class:`OverLong` per over-long text,
    in the body's order; names the catalog does not know, and fields without a limit, are not measured.
    Each sandbox turns the first one into its vendor's refusal.
    """
    limits = {spec.name: spec.max_length for spec in (fields or ()) if spec.max_length}
    return [OverLong(name, len(value), limits[name]) for name, value in values.items()
            if name in limits and isinstance(value, str) and len(value) > limits[name]]

