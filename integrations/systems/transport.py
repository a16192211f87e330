"""How clients reach an external system: one ``requests`` session per client.

In production a session goes over the network. In tests a sandbox (a WSGI app) is *mounted* under
a base URL and every session built afterwards routes that prefix to the app in-process, through
:class:`WSGIAdapter` — real ``requests`` calls, real HTTP semantics, no open port.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict
from werkzeug.test import EnvironBuilder, run_wsgi_app

WSGIApp = Callable[..., Any]

_mounts: dict[str, WSGIApp] = {}
_mounts_lock = threading.Lock()


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
    with _mounts_lock:
        _mounts[prefix.rstrip("/")] = app


def unmount(prefix: str) -> None:
    with _mounts_lock:
        _mounts.pop(prefix.rstrip("/"), None)


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


def build_session(*, pool_size: int = 10) -> requests.Session:
    """A fresh session: pooled HTTP for the network, in-process adapters for mounted sandboxes.

    Retries are not done here but in the client (see ``base.ApiClient``) so that Retry-After and
    the vendor's own error bodies are honoured the same way for every system.
    """
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    with _mounts_lock:
        for prefix, app in _mounts.items():
            session.mount(prefix, WSGIAdapter(app))
    return session
