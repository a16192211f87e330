"""A fresh Uniconta sandbox per test, mounted in-process, a client logged in to it, and a hook receiver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any
from urllib.parse import parse_qsl

import pytest
from werkzeug.wrappers import Request, Response

from integrations.systems import transport
from integrations.systems.uniconta import provider
from integrations.systems.uniconta.client import UnicontaClient
from integrations.systems.uniconta.sandbox import UnicontaSandbox

BASE_URL = "https://uniconta.test"
HOOKS_URL = "https://hooks.test"
CREDENTIALS = {"company_id": "1234", "username": "synkro", "password": "demo-password"}


@dataclass
class Exchange:
    """One request the client sent and the sandbox's answer, both parsed."""

    method: str
    path: str
    query: dict[str, str]
    request_body: Any
    status: int
    response_body: Any


@dataclass
class Recorder:
    """A WSGI middleware that keeps every exchange with the sandbox, for contract checks."""

    app: UnicontaSandbox
    exchanges: list[Exchange] = field(default_factory=list)

    def __call__(self, environ, start_response):
        request = Request(environ)
        raw = request.get_data()
        environ["wsgi.input"] = BytesIO(raw)  # the sandbox reads the body again
        environ["CONTENT_LENGTH"] = str(len(raw))
        response = Response.from_app(self.app, environ)
        answer = response.get_data()
        self.exchanges.append(Exchange(
            request.method, request.path, dict(request.args), json.loads(raw) if raw else None,
            response.status_code, json.loads(answer) if answer and response.is_json else answer))
        return response(environ, start_response)


@dataclass
class HookReceiver:
    """Stands in for Synkro's webhook endpoint: keeps each call, answers with ``status``."""

    status: int = 200
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.calls.append({"method": request.method, "path": request.path,
                           "query": dict(parse_qsl(request.query_string.decode(), keep_blank_values=True)),
                           "headers": dict(request.headers), "body": request.get_data()})
        return Response("ok", status=self.status)(environ, start_response)


@pytest.fixture
def sandbox() -> UnicontaSandbox:
    return provider.sandbox(rate_limit=(0, 0))


@pytest.fixture
def recorder(sandbox: UnicontaSandbox) -> Iterator[Recorder]:
    recording = Recorder(sandbox)
    with transport.mounted(BASE_URL, recording):
        yield recording


@pytest.fixture
def waits() -> list[float]:
    """Every pause the client asked for; nothing really sleeps."""
    return []


@pytest.fixture
def client(recorder: Recorder, waits: list[float]) -> Iterator[UnicontaClient]:
    uniconta = provider.client(base_url=BASE_URL, credentials=CREDENTIALS, sleep=waits.append)
    yield uniconta  # type: ignore[misc]
    uniconta.close()


@pytest.fixture
def receiver() -> Iterator[HookReceiver]:
    hooks = HookReceiver()
    with transport.mounted(HOOKS_URL, hooks):
        yield hooks


@pytest.fixture
def fixture_payload():
    """A saved Uniconta change notification from ``fixtures/``."""
    from pathlib import Path

    def load(name: str) -> dict[str, Any]:
        return json.loads((Path(__file__).parent / "fixtures" / name).read_text())

    return load
