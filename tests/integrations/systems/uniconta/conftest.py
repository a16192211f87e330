"""A fresh Uniconta sandbox per test, mounted in-process, a client logged in to it, and a hook receiver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from integrations.systems import transport
from integrations.systems.uniconta import provider
from integrations.systems.uniconta.client import UnicontaClient
from integrations.systems.uniconta.sandbox import UnicontaSandbox

from ..recording import HookReceiver, Recorder

BASE_URL = "https://uniconta.test"
HOOKS_URL = "https://hooks.test"
CREDENTIALS = {"company_id": "1234", "username": "synkro", "password": "demo-password"}


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
