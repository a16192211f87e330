"""How clients reach an external system: ``requests`` sessions, kept per connection and reused.

In production a session goes over the network. In tests a sandbox (a WSGI app) is *mounted* under
a base URL and every session built afterwards routes that prefix to the app in-process, through
:class:`WSGIAdapter` — real ``requests`` calls, real HTTP semantics, no open port.

A client takes its session from :data:`sessions` (a :class:`SessionPool`) and gives it back when it is closed, so
the next event of the same connection in this worker process reuses its open TCP/TLS connections. The pool is
keyed by connection, base URL and a digest of the credentials (:class:`SessionKey`): a session never serves another
connection, another address or other credentials, and comes back without cookies. The environment's proxy settings
(``HTTPS_PROXY``, ``NO_PROXY`` …) and CA bundle are read once per session (:class:`VendorSession`), not per request.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import default_headers, get_environ_proxies
from werkzeug.test import EnvironBuilder, run_wsgi_app

WSGIApp = Callable[..., Any]

_mounts: dict[str, WSGIApp] = {}
_mounts_lock = threading.Lock()
#: Changes with every mount and unmount: a pooled session built under other mounts is never handed out again.
_mounts_generation = 0


class WSGIAdapter(BaseAdapter):
    """A requests transport adapter that hands the request to a WSGI app in this process."""

    def __init__(self, app: WSGIApp):
        super().__init__()
        self.app = app

    def send(self, request: requests.PreparedRequest, stream=False, timeout=None, verify=True,
             cert=None, proxies=None) -> requests.Response:
        parts = urlsplit(request.url or "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("content-length",)}
        builder = EnvironBuilder(
            path=parts.path or "/",
            base_url=f"{parts.scheme}://{parts.netloc}",
            query_string=parts.query,
            method=request.method,
            headers=headers,
            data=body,
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        environ["REMOTE_ADDR"] = "127.0.0.1"
        app_iter, status, response_headers = run_wsgi_app(self.app, environ, buffered=True)
        try:
            content = b"".join(app_iter)
        finally:
            if hasattr(app_iter, "close"):
                app_iter.close()

        response = requests.Response()
        code, _, reason = status.partition(" ")
        response.status_code = int(code)
        response.reason = reason
        response.headers = CaseInsensitiveDict(response_headers.items())
        response._content = content
        response.raw = BytesIO(content)
        response.url = request.url or ""
        response.request = request
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.connection = self
        return response

    def close(self) -> None:  # nothing to release
        pass


def mount(prefix: str, app: WSGIApp) -> None:
    """Route every session built from now on for URLs under ``prefix`` to ``app``."""
    global _mounts_generation
    with _mounts_lock:
        _mounts[prefix.rstrip("/")] = app
        _mounts_generation += 1


def unmount(prefix: str) -> None:
    global _mounts_generation
    with _mounts_lock:
        _mounts.pop(prefix.rstrip("/"), None)
        _mounts_generation += 1


def in_process(url: str) -> bool:
    """Whether ``url`` is served by a sandbox mounted in this process (so a request to it never leaves it).

    Origins must be equal and the path must lie under the mount's path: a mount of ``https://uniconta.test``
    does not cover ``https://uniconta.test.example.com``.
    """
    parts = urlsplit(url)
    with _mounts_lock:
        prefixes = list(_mounts)
    for prefix in prefixes:
        mount_parts = urlsplit(prefix)
        if (parts.scheme.lower(), (parts.netloc or "").lower()) != (mount_parts.scheme.lower(),
                                                                      mount_parts.netloc.lower()):
            continue
        base = mount_parts.path.rstrip("/")
        if not base or parts.path == base or parts.path.startswith(base + "/"):
            return True
    return False


@contextmanager
def mounted(prefix: str, app: WSGIApp) -> Iterator[WSGIApp]:
    mount(prefix, app)
    try:
        yield app
    finally:
        unmount(prefix)


class VendorSession(requests.Session):
    """A session that reads the environment once instead of on every request.

    ``requests`` looks up the proxy settings (``get_environ_proxies``: ``HTTP(S)_PROXY``, ``ALL_PROXY``,
    ``NO_PROXY``, and the platform's bypass list) and ``~/.netrc`` on every request when ``trust_env`` is on. Here
    ``trust_env`` is off; the proxies for an origin are looked up on its first request and kept for the session's
    life, so ``HTTPS_PROXY``/``NO_PROXY`` are honoured as before. ``~/.netrc`` is never read: no credentials from
    a file on the worker's disk are added to a vendor request. The CA bundle (``REQUESTS_CA_BUNDLE`` or
    ``CURL_CA_BUNDLE``) is read once, when the session is built.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False
        self.ca_bundle: str | None = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None
        #: ``scheme://host:port`` → the proxies the environment gives that origin (empty when bypassed).
        self.environment_proxies: dict[str, dict[str, str]] = {}
        #: The mounts this session's adapters were built under (see :func:`mount`).
        self.mounts_generation = _mounts_generation

    def proxies_for(self, url: str) -> dict[str, str]:
        """The environment's proxies for ``url``'s origin, looked up once per origin and session."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        found = self.environment_proxies.get(origin)
        if found is None:
            found = self.environment_proxies[origin] = dict(get_environ_proxies(url))
        return found

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[override]
        proxies = dict(proxies or {})
        for scheme, proxy in self.proxies_for(url).items():
            proxies.setdefault(scheme, proxy)
        if verify is True or verify is None:
            verify = self.ca_bundle or verify
        return super().merge_environment_settings(url, proxies, stream, verify, cert)


def build_session(*, pool_size: int = 10) -> requests.Session:
    """A fresh session: pooled HTTP for the network, in-process adapters for mounted sandboxes.

    Retries are not done here but in the client (see ``base.ApiClient``) so that Retry-After and
    the vendor's own error bodies are honoured the same way for every system.
    """
    session = VendorSession()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    with _mounts_lock:
        session.mounts_generation = _mounts_generation
        for prefix, app in _mounts.items():
            session.mount(prefix, WSGIAdapter(app))
    return session


def credentials_digest(credentials: Mapping[str, Any]) -> str:
    """A digest of a connection's credentials (SHA-256 of their sorted JSON): tells them apart, reveals nothing."""
    return hashlib.sha256(json.dumps(dict(credentials), sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class SessionKey:
    """Whose a pooled session is: the connection (``owner``: system and connection id, the id None for a client made
    outside a connection), the base URL its credentials are for, and a digest of those credentials."""

    owner: tuple[str, int | None]
    base_url: str
    credentials: str


@dataclass
class _Idle:
    session: requests.Session
    since: float


class SessionPool:
    """Idle sessions of this process, by :class:`SessionKey`; thread-safe, forgotten in a forked child.

    :meth:`take` hands a session to one client at a time (a ``requests.Session`` is not shared between threads) and
    :meth:`give_back` takes it back. A session is handed out again only to the same key, only while it was built
    under the current sandbox mounts, and only when it was idle less than ``idle_seconds`` (a server closes idle
    keep-alive connections after a while; a fresh session then costs one new connection and nothing else). When a
    connection's base URL or credentials change, its sessions under the old key are closed the next time it takes
    or gives back one. At most ``per_key`` idle sessions per key and ``keys`` keys are kept (the oldest closed).
    """

    def __init__(self, *, idle_seconds: float = 55.0, per_key: int = 4, keys: int = 256,
                 clock: Callable[[], float] = time.monotonic, build: Callable[[], requests.Session] | None = None):
        self.idle_seconds = idle_seconds
        self.per_key = per_key
        self.keys = keys
        self.clock = clock
        self.build = build or build_session
        self._lock = threading.Lock()
        self._idle: OrderedDict[SessionKey, list[_Idle]] = OrderedDict()
        #: Each owner's newest key: an older one (changed credentials or address) is dropped.
        self._current: dict[tuple[str, int | None], SessionKey] = {}
        self._pid = os.getpid()
        #: Sessions built and sessions reused, for tests and benchmarks.
        self.built = 0
        self.reused = 0

    def _check_process(self) -> None:
        """In a forked child the parent's sockets are not ours: forget them (without closing the parent's)."""
        if self._pid != os.getpid():
            self._idle = OrderedDict()
            self._current = {}
            self._pid = os.getpid()

    def _claim(self, key: SessionKey) -> list[requests.Session]:
        """Make ``key`` its owner's current key; the sessions of the owner's former key, to be closed."""
        stale: list[requests.Session] = []
        former = self._current.get(key.owner)
        if former is not None and former != key:
            stale += [idle.session for idle in self._idle.pop(former, [])]
        self._current[key.owner] = key
        return stale

    def take(self, key: SessionKey) -> requests.Session:
        """A session for ``key``: an idle one of that key when there is one still fit to use, else a new one."""
        found: requests.Session | None = None
        with self._lock:
            self._check_process()
            stale = self._claim(key)
            idle = self._idle.get(key, [])
            now = self.clock()
            while idle and found is None:
                candidate = idle.pop()
                if now - candidate.since <= self.idle_seconds and \
                        getattr(candidate.session, "mounts_generation", None) == _mounts_generation:
                    found = candidate.session
                else:
                    stale.append(candidate.session)
            if not idle:
                self._idle.pop(key, None)
            if found is not None:
                self.reused += 1
            else:
                self.built += 1
        _close_all(stale)
        return found if found is not None else self.build()

    def give_back(self, key: SessionKey, session: requests.Session, *, credentials: str | None = None) -> None:
        """Keep ``session`` for the next :meth:`take` of ``key``, cookies and any session-wide auth removed.

        ``credentials``: a digest of the credentials the client holds now; when a rotation changed them since the
        session was taken, the session is closed instead (the next client of the connection takes a new one).
        """
        if credentials is not None and credentials != key.credentials:
            with self._lock:
                stale = [idle.session for idle in self._idle.pop(key, [])]
            _close_all([*stale, session])
            return
        session.cookies.clear()
        session.auth = None
        session.headers = default_headers()
        close: list[requests.Session] = []
        with self._lock:
            self._check_process()
            if self._current.get(key.owner, key) != key or \
                    getattr(session, "mounts_generation", None) != _mounts_generation:
                close.append(session)
            else:
                self._current[key.owner] = key
                idle = self._idle.setdefault(key, [])
                self._idle.move_to_end(key)
                idle.append(_Idle(session, self.clock()))
                while len(idle) > self.per_key:
                    close.append(idle.pop(0).session)
                while len(self._idle) > self.keys:
                    _oldest, dropped = self._idle.popitem(last=False)
                    close += [entry.session for entry in dropped]
        _close_all(close)

    def drop(self, owner: tuple[str, int | None]) -> None:
        """Close every idle session of one connection (``owner`` as in :class:`SessionKey`)."""
        with self._lock:
            keys = [key for key in self._idle if key.owner == owner]
            stale = [idle.session for key in keys for idle in self._idle.pop(key)]
            self._current.pop(owner, None)
        _close_all(stale)

    def clear(self) -> None:
        """Close every idle session."""
        with self._lock:
            stale = [idle.session for entries in self._idle.values() for idle in entries]
            self._idle.clear()
            self._current.clear()
        _close_all(stale)

    def idle_owners(self) -> set[tuple[str, int | None]]:
        """The connections (``SessionKey.owner``) that have idle sessions."""
        with self._lock:
            return {key.owner for key, entries in self._idle.items() if entries}

    def idle_count(self, key: SessionKey | None = None) -> int:
        """How many idle sessions are kept (for ``key`` only, when given)."""
        with self._lock:
            if key is not None:
                return len(self._idle.get(key, []))
            return sum(len(entries) for entries in self._idle.values())


def _close_all(sessions: list[requests.Session]) -> None:
    for session in sessions:
        session.close()


#: This process's pool, used by every client (``base.ApiClient``).
sessions = SessionPool()
