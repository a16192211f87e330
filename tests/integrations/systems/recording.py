"""WSGI stand-ins the vendor tests share: a recorder around a sandbox and a subscriber's webhook endpoint."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response


def json_or_none(raw: bytes) -> Any:
    """The parsed body, or None when it is empty or not JSON."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


@dataclass
class Exchange:
    """One request a client sent and the sandbox's answer, bodies parsed where they are JSON."""

    method: str
    path: str
    query: dict[str, str]
    query_string: str
    request_body: Any
    status: int
    response_body: Any


@dataclass
class Recorder:
    """WSGI middleware keeping every exchange with the app it wraps, for the contract tests."""

    app: Callable[..., Any]
    exchanges: list[Exchange] = field(default_factory=list)

    def __call__(self, environ, start_response):
        request = Request(environ)
        raw = request.get_data()
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = BytesIO(raw), str(len(raw))  # the app reads it again
        response = Response.from_app(self.app, environ)
        query_string = request.query_string.decode()
        self.exchanges.append(Exchange(
            request.method, request.path, dict(parse_qsl(query_string, keep_blank_values=True)), query_string,
            json_or_none(raw), response.status_code, json_or_none(response.get_data())))
        return response(environ, start_response)


@dataclass
class HookReceiver:
    """A subscriber's webhook endpoint: keeps each call and answers ``status``."""

    status: int = 200
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        self.calls.append({
            "method": request.method, "path": request.path,
            "query": dict(parse_qsl(request.query_string.decode(), keep_blank_values=True)),
            "headers": dict(request.headers), "body": body, "json": json_or_none(body)})
        return Response("ok", status=self.status)(environ, start_response)

    def bodies(self) -> list[Any]:
        """The JSON of every call, in order."""
        return [call["json"] for call in self.calls]
