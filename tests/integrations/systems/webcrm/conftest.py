"""A webCRM sandbox mounted in-process, a client on it, and a hook receiver to catch its calls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from integrations.systems import transport
from integrations.systems.webcrm import provider
from integrations.systems.webcrm.client import WebcrmClient
from integrations.systems.webcrm.sandbox import DEMO_API_KEY, WebcrmSandbox
from tests.clocks import FakeClock

from ..recording import HookReceiver, Recorder

BASE_URL = "https://webcrm.test"
HOOKS_URL = "https://hooks.test"
CREDENTIALS = {"api_key": DEMO_API_KEY}


class WallClock:
    """The sandbox's record stamps, one minute further on each time the test says so."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 3, 1, 8, 0, 0)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment


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
