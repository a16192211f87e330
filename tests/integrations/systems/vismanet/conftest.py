"""A Visma.net sandbox mounted in-process, a client logged in to it, and a webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from integrations.systems import transport
from integrations.systems.vismanet import provider
from integrations.systems.vismanet.client import VismaNetClient
from integrations.systems.vismanet.sandbox import VismaNetSandbox

from ..recording import HookReceiver

BASE_URL = "https://vismanet.test"
HOOKS_URL = "https://hooks.test/visma"
CREDENTIALS = dict(provider.extras["demo_credentials"])


class FakeClock:
    """Stands in for both the sandbox's wall clock and its rate-limit clock; sleeping advances it."""

    def __init__(self) -> None:
        self.wall = datetime(2025, 5, 25, 8, 0, 0)
        self.mono = 1000.0
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)


class Receiver(HookReceiver):
    """A subscriber's endpoint for Visma.net's notifications."""

    def events(self) -> list[str]:
        return [body["event"] for body in self.bodies()]


def make_client(**kwargs: Any) -> VismaNetClient:
    options = {"base_url": BASE_URL, "credentials": CREDENTIALS, "sleep": lambda s: None, **kwargs}
    return provider.client(**options)  # type: ignore[return-value]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> Iterator[VismaNetSandbox]:
    app: VismaNetSandbox = provider.sandbox(rate_limit=(0, 0), seed=7)
    app.now = clock.now  # type: ignore[method-assign]
    with transport.mounted(BASE_URL, app):
        yield app


@pytest.fixture
def client(sandbox: VismaNetSandbox) -> VismaNetClient:
    return make_client(max_attempts=3)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = Receiver()
    with transport.mounted("https://hooks.test", app):
        yield app
