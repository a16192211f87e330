"""Fortnox sandbox, client and recording helpers shared by the Fortnox tests."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug.wrappers import Response

from integrations.systems import transport
from integrations.systems.base import MemoryTokenStore
from integrations.systems.catalog import Entity
from integrations.systems.fortnox import provider
from integrations.systems.fortnox.client import FortnoxClient
from integrations.systems.fortnox.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, FortnoxSandbox
from tests.clocks import FakeClock

BASE = "https://fortnox.test"


class Flaky:
    """Answers the first ``times`` API calls (under /3/) with ``status`` before passing them on."""

    def __init__(self, app: Callable[..., Any], *, times: int, status: int, headers: dict[str, str] | None = None,
                 body: Any = None):
        self.app, self.times, self.status = app, times, status
        self.headers = headers or {}
        self.body = body if body is not None else {"ErrorInformation": {"error": 1, "message": "System exception",
                                                                         "code": 1000003}}
        self.failed = 0

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"].startswith("/3/") and self.failed < self.times:
            self.failed += 1
            return Response(json.dumps(self.body), status=self.status, mimetype="application/json",
                            headers=self.headers)(environ, start_response)
        return self.app(environ, start_response)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> FortnoxSandbox:
    app = FortnoxSandbox(rate_limit=(0, 0), seed=7)
    app.clock = clock
    return app


@pytest.fixture
def credentials(sandbox: FortnoxSandbox) -> dict[str, str]:
    return {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET,
            "refresh_token": sandbox.issue_refresh_token()}


@pytest.fixture
def mounted(sandbox: FortnoxSandbox) -> Iterator[FortnoxSandbox]:
    with transport.mounted(BASE, sandbox):
        yield sandbox


@pytest.fixture
def client(mounted: FortnoxSandbox, credentials: dict[str, str], clock: FakeClock) -> FortnoxClient:
    return make_client(credentials, clock)


def make_client(credentials: dict[str, str], clock: FakeClock, **kwargs: Any) -> FortnoxClient:
    kwargs.setdefault("token_store", MemoryTokenStore())
    built = provider.client(base_url=f"{BASE}/3", credentials=credentials, sleep=clock.sleep, **kwargs)
    assert isinstance(built, FortnoxClient)
    return built


def put_customers(sandbox: FortnoxSandbox, count: int, *, modified: dt.datetime | None = None,
                  start: int = 1) -> list[str]:
    """Customers placed straight in the sandbox's register (no events), numbered from ``start``."""
    numbers = []
    with sandbox.lock:
        for number in range(start, start + count):
            sandbox.company.put(Entity.ORGANISATION, {
                "CustomerNumber": str(number), "Name": f"Kund {number} AB", "Phone1": f"08-{number:06d}",
                "City": "Stockholm", "ZipCode": "111 20", "VATNumber": f"SE55{number:08d}01", "Type": "COMPANY",
                "Active": True}, modified=modified)
            numbers.append(str(number))
    return numbers
