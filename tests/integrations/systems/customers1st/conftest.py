"""A Customers 1st sandbox mounted in-process, a client on it, and a receiver for its REST hooks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from integrations.systems import transport
from integrations.systems.customers1st import provider
from integrations.systems.customers1st.client import Customers1stClient
from integrations.systems.customers1st.sandbox import DEMO_SIGNING_SECRET, DEMO_TOKEN, Customers1stSandbox

from ..recording import HookReceiver

BASE = "https://customers1st.test"
API = f"{BASE}/api"
HOOKS = "https://receiver.test"
CREDENTIALS = {"api_token": DEMO_TOKEN, "signing_secret": DEMO_SIGNING_SECRET}


class Receiver(HookReceiver):
    """Stands in for Synkro's webhook URL; ``events()`` are the parsed REST hook bodies."""

    def events(self) -> list[dict[str, Any]]:
        return self.bodies()


class Flaky:
    """Answers the given statuses first (vendor-shaped), then hands over to the sandbox."""

    def __init__(self, app: Customers1stSandbox, statuses: list[int]):
        self.app = app
        self.statuses = list(statuses)
        self.seen = 0

    def __call__(self, environ, start_response):
        self.seen += 1
        if self.statuses:
            status = self.statuses.pop(0)
            response = self.app.server_error_response() if status >= 500 else self.app.rate_limited_response(0)
            response.status_code = status
            return response(environ, start_response)
        return self.app(environ, start_response)


@pytest.fixture
def sandbox() -> Customers1stSandbox:
    return provider.sandbox(rate_limit=(0, 0), seed=7)


@pytest.fixture
def receiver(sandbox: Customers1stSandbox) -> Iterator[Receiver]:
    app = Receiver()
    with transport.mounted(HOOKS, app):
        yield app


@pytest.fixture
def client(sandbox: Customers1stSandbox) -> Iterator[Customers1stClient]:
    with transport.mounted(BASE, sandbox):
        client = provider.client(base_url=API, credentials=CREDENTIALS, sleep=lambda s: None)
        yield client  # type: ignore[misc]
        client.close()


def make_client(app: Any, *, credentials: dict[str, str] | None = None, **kwargs: Any) -> Customers1stClient:
    """A client whose session reaches ``app``; call inside ``transport.mounted(BASE, app)``."""
    kwargs.setdefault("sleep", lambda s: None)
    return provider.client(base_url=API, credentials=credentials or CREDENTIALS, **kwargs)  # type: ignore[return-value]
