"""Fortnox's WebSocket change stream, the listening side: handshake, subscription, resuming, reconnecting.

Fortnox sends no HTTP webhooks; it streams small change events over ``wss://ws.fortnox.se/topics-v1``
(docs/vendors/fortnox.md "Change events"). One session, in Fortnox's words:

1. ``{"command": "add-tenants-v1", "clientSecret": "…", "accessTokens": ["Bearer …"]}`` →
   ``{"response": "add-tenants-v1", "result": "ok", "tenantIds": {"Bearer …": 29302}, "invalidTokens": []}``
2. ``{"command": "add-topics-v1", "topics": [{"topic": "customers", "offset": "xDy7J"}, …]}`` →
   ``{"response": "add-topics-v1", "result": "ok", "invalidTopics": []}`` (an offset replays what came after it)
3. ``{"command": "subscribe-v1"}`` → ``{"response": "subscribe-v1", "result": "ok"}``, then events
   ``{"topic", "offset", "type", "tenantId", "entityId", "timestamp"}``, ordered per topic, at least once.

This module knows the protocol and nothing of Django: :class:`StreamListener` is handed async callables
that say which subscriptions should be open, give an access token and the stored offsets of one, and store
one event. An event is passed on only after the previous one was stored, and the offsets a session starts
from are read from storage at every (re)connect: what was not stored is replayed, what was is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

logger = logging.getLogger(__name__)

FORTNOX_STREAM_URL = "wss://ws.fortnox.se/topics-v1"
#: Seconds to wait for Fortnox's answer to a command.
COMMAND_TIMEOUT = 15.0
#: Largest message accepted (events are a few hundred bytes).
MAX_MESSAGE_BYTES = 2**20


@dataclass(frozen=True)
class Subscription:
    """One Fortnox tenant to listen to: whose it is (``key``, the connection's id), where and what.

    ``version`` changes when anything that shapes the session changes (credentials, address, topics);
    the listener then closes the old session and opens a new one.
    """

    key: int
    url: str
    client_secret: str
    topics: tuple[str, ...]
    version: str = ""


class StreamRefused(Exception):
    """Fortnox answered a command with ``"result": "error"`` (a wrong secret, token or topic)."""

    def __init__(self, message: str, *, token: bool = False):
        super().__init__(message)
        #: Whether it was the access token that Fortnox refused (the next session asks for a fresh one).
        self.token = token


#: Async callables the listener is given (see :class:`StreamListener`).
Subscriptions = Callable[[], Awaitable[list[Subscription]]]
#: ``access_token(key, fresh)``: the connection's access token; ``fresh`` after Fortnox refused the last one.
AccessToken = Callable[[int, bool], Awaitable[str]]
Offsets = Callable[[int], Awaitable[Mapping[str, str]]]
Store = Callable[[int, str, dict[str, Any]], Awaitable[None]]


def reconnect_delay(attempt: int, *, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None) -> float:
    """Seconds before reconnect ``attempt`` (0 = the first after a failure): exponential, capped, with jitter.

    Half the exponential step is fixed and half is random ("equal jitter"), so many listeners that lost
    Fortnox at the same moment do not come back at the same moment, and none retries in a tight loop.
    """
    step = min(cap, base * (2 ** max(0, attempt)))
    return step / 2 + (rng or random).uniform(0, step / 2)


async def stream_session(subscription: Subscription, *, access_token: str, offsets: Mapping[str, str],
                         store: Callable[[str, dict[str, Any]], Awaitable[None]],
                         on_subscribed: Callable[[], None] | None = None) -> None:
    """Open one session, subscribe, and hand every event to ``store(tenant_id, event)`` until it closes.

    Returns when the server closes the connection normally; raises :class:`StreamRefused` for a refused
    command, ``websockets`` / ``OSError`` / ``TimeoutError`` errors for a broken connection, and whatever
    ``store`` raises (the event then was not stored and is replayed by the next session).
    """
    async with connect(subscription.url, open_timeout=COMMAND_TIMEOUT, ping_interval=20, ping_timeout=20,
                       max_size=MAX_MESSAGE_BYTES, close_timeout=5) as socket:
        bearer = f"Bearer {access_token}"
        answer = await _command(socket, {"command": "add-tenants-v1", "clientSecret": subscription.client_secret,
                                         "accessTokens": [bearer]})
        tenant_ids = answer.get("tenantIds") or {}
        tenant_id = tenant_ids.get(bearer, tenant_ids.get(access_token))
        if tenant_id is None or bearer in (answer.get("invalidTokens") or []):
            raise StreamRefused("Fortnox did not accept the connection's access token for its change stream",
                                token=True)
        topics = [{"topic": topic, **({"offset": offsets[topic]} if offsets.get(topic) else {})}
                  for topic in subscription.topics]
        await _command(socket, {"command": "add-topics-v1", "topics": topics})
        await _command(socket, {"command": "subscribe-v1"})
        if on_subscribed is not None:
            on_subscribed()
        async for raw in socket:
            message = _decoded(raw)
            if message is None or "response" in message:
                if message and message.get("result") == "error":
                    logger.warning("Fortnox stream for connection %s: %s refused", subscription.key,
                                   message.get("response"))
                continue
            await store(str(tenant_id), message)


async def _command(socket: Any, command: dict[str, Any]) -> dict[str, Any]:
    """Send one command and wait for its answer; raises :class:`StreamRefused` when Fortnox refuses it."""
    await socket.send(json.dumps(command))
    name = command["command"]
    async with asyncio.timeout(COMMAND_TIMEOUT):
        while True:
            answer = _decoded(await socket.recv())
            if answer is None or answer.get("response") != name:
                continue  # nothing else is sent before the subscription starts
            if answer.get("result") != "ok":
                detail = "access token" if answer.get("invalidTokens") else answer.get("invalidTopics") or "request"
                raise StreamRefused(f"Fortnox refused {name} ({detail})", token=bool(answer.get("invalidTokens")))
            return answer


def _decoded(raw: str | bytes) -> dict[str, Any] | None:
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return message if isinstance(message, dict) else None


class StreamListener:
    """Keeps one stream session per subscription open, resuming from stored offsets after every break.

    ``subscriptions()`` is asked again every ``rescan_seconds``: new subscriptions get a session, vanished
    ones are closed, changed ones (another ``version``) are reopened. A session that breaks is reopened
    after :func:`reconnect_delay`; the attempt count starts over once a session has subscribed.
    """

    def __init__(self, *, subscriptions: Subscriptions, access_token: AccessToken, offsets: Offsets, store: Store,
                 rescan_seconds: float = 10.0, backoff_base: float = 1.0, backoff_cap: float = 60.0,
                 rng: random.Random | None = None):
        self.subscriptions = subscriptions
        self.access_token = access_token
        self.offsets = offsets
        self.store = store
        self.rescan_seconds = rescan_seconds
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.rng = rng or random.Random()
        self.tasks: dict[int, tuple[Subscription, asyncio.Task[None]]] = {}
        #: Sessions opened and subscribed, per subscription key (for the health of the listener and tests).
        self.sessions: dict[int, int] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Listen until ``stop`` is set; then close every session."""
        try:
            while not stop.is_set():
                await self.rescan()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.rescan_seconds)
        finally:
            for key in list(self.tasks):
                await self._close(key)

    async def rescan(self) -> None:
        """Open sessions for new subscriptions, close those no longer wanted, reopen changed ones."""
        try:
            wanted = {sub.key: sub for sub in await self.subscriptions()}
        except Exception:
            logger.exception("Fortnox stream: the list of connections could not be read; keeping the sessions")
            return
        for key, (subscription, _task) in list(self.tasks.items()):
            if wanted.get(key) != subscription:
                await self._close(key)
        for key, subscription in wanted.items():
            if key not in self.tasks:
                self.tasks[key] = (subscription, asyncio.create_task(self._keep(subscription)))

    async def _close(self, key: int) -> None:
        _subscription, task = self.tasks.pop(key)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _keep(self, subscription: Subscription) -> None:
        attempt, fresh_token = 0, False
        while True:
            subscribed = False

            def mark() -> None:
                nonlocal subscribed
                subscribed = True
                self.sessions[subscription.key] = self.sessions.get(subscription.key, 0) + 1

            try:
                token = await self.access_token(subscription.key, fresh_token)
                fresh_token = False
                offsets = await self.offsets(subscription.key)

                async def store(tenant_id: str, message: dict[str, Any]) -> None:
                    await self.store(subscription.key, tenant_id, message)

                await stream_session(subscription, access_token=token, offsets=offsets, store=store,
                                     on_subscribed=mark)
                logger.info("Fortnox stream for connection %s closed by the server", subscription.key)
            except asyncio.CancelledError:
                raise
            except (ConnectionClosed, InvalidHandshake, InvalidURI, OSError, TimeoutError) as error:
                logger.warning("Fortnox stream for connection %s broke: %s", subscription.key, error)
            except StreamRefused as error:
                logger.warning("Fortnox stream for connection %s: %s", subscription.key, error)
                fresh_token = error.token
            except Exception:
                logger.exception("Fortnox stream for connection %s failed", subscription.key)
            attempt = 0 if subscribed else attempt + 1
            await asyncio.sleep(reconnect_delay(attempt, base=self.backoff_base, cap=self.backoff_cap, rng=self.rng))
