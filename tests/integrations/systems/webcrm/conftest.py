"""A webCRM sandbox mounted in-process, a client on it, and a hook receiver to catch its calls."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from io import BytesIO
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from integrations.systems import transport
from integrations.systems.webcrm import provider
from integrations.systems.webcrm.client import WebcrmClient
from integrations.systems.webcrm.sandbox import DEMO_API_KEY, WebcrmSandbox

BASE_URL = "https://webcrm.test"
HOOKS_URL = "https://hooks.test"
CREDENTIALS = {"api_key": DEMO_API_KEY}


class FakeClock:
    """Monotonic seconds the test moves by hand; the client's sleeps move it too."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class WallClock:
    """The sandbox's record stamps, one minute further on each time the test says so."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 3, 1, 8, 0, 0)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment


@dataclass
class Exchange:
    method: str
    path: str
    query: dict[str, str]
    request_body: Any
    status: int
    response_body: Any


@dataclass
class Recorder:
    """WSGI middleware keeping every request and answer, for the contract tests."""

    app: Any
    exchanges: list[Exchange] = field(default_factory=list)

    def __call__(self, environ, start_response):
        raw = environ["wsgi.input"].read()
        environ["wsgi.input"] = BytesIO(raw)
        request = Request(dict(environ))
        seen: dict[str, Any] = {}

        def remember(status, headers, exc_info=None):
            seen["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info)

        chunks = b"".join(self.app(environ, remember))
        self.exchanges.append(Exchange(
            request.method, request.path, dict(request.args), _json(raw) if raw and raw[:1] in b"[{" else None,
            seen["status"], _json(chunks)))
        return [chunks]


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


@dataclass
class HookReceiver:
    """A subscriber's endpoint: answers 200 and keeps what webCRM posted."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.calls.append({"path": request.path, "query": dict(request.args), "body": request.get_data(),
                           "json": json.loads(request.get_data() or b"null")})
        return Response("ok")(environ, start_response)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def wall() -> WallClock:
    return WallClock()


@pytest.fixture
def sandbox(clock: FakeClock, wall: WallClock) -> WebcrmSandbox:
    app = provider.sandbox(rate_limit=(0, 0), seed=3)
    app.clock = clock
    app.store.now = wall
    return app


@pytest.fixture
def recorder(sandbox: WebcrmSandbox) -> Recorder:
    return Recorder(sandbox)


@pytest.fixture
def mounted(recorder: Recorder) -> Iterator[Recorder]:
    with transport.mounted(BASE_URL, recorder):
        yield recorder


@pytest.fixture
def client(mounted: Recorder, clock: FakeClock) -> Iterator[WebcrmClient]:
    webcrm = provider.client(base_url=BASE_URL, credentials=CREDENTIALS, sleep=clock.sleep)
    assert isinstance(webcrm, WebcrmClient)
    yield webcrm
    webcrm.close()


@pytest.fixture
def receiver() -> Iterator[HookReceiver]:
    app = HookReceiver()
    with transport.mounted(HOOKS_URL, app):
        yield app


def add_organisation(sandbox: WebcrmSandbox, name: str, **values: Any) -> dict[str, Any]:
    """An organisation put straight into the sandbox's store, as if typed in webCRM."""
    with sandbox.lock:
        return sandbox.store.create("Organisations", {"OrganisationName": name, **values})
