"""The Fortnox sandbox's change stream: Fortnox's WebSocket API (``/topics-v1``) over the sandbox's event feeds.

It speaks the protocol :mod:`.stream` describes (docs/vendors/fortnox.md "Change events"): ``add-tenants-v1``
checks the client secret against the sandbox's apps and every access token against those it issued (expired
ones are answered in ``invalidTokens``), ``add-topics-v1`` takes the topics and optional offsets
(unknown topics are answered in ``invalidTopics``), ``subscribe-v1`` starts the stream: the events after
each given offset first (the feed keeps them, as Fortnox keeps two weeks), then every new event of the
added tenants as the sandbox's store makes it. Without an offset a topic starts at its end, with what comes next.

The server runs on its own thread and event loop (:meth:`FortnoxStreamServer.start`), so tests and the demo's
web process can serve it beside the HTTP sandbox. :meth:`FortnoxStreamServer.drop_sessions` breaks every open
session, as a network failure would.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from .sandbox_store import TOPICS

if TYPE_CHECKING:
    from .sandbox import FortnoxSandbox

logger = logging.getLogger(__name__)

PATH = "/topics-v1"
#: Seconds between looks at the sandbox's feeds for new events.
FEED_POLL = 0.02


@dataclass
class _Session:
    tenants: set[int] = field(default_factory=set)
    #: topic -> the offset after which events are still to be sent (None: from the end of the feed)
    topics: dict[str, str | None] = field(default_factory=dict)
    subscribed: bool = False


class FortnoxStreamServer:
    """Serves ``ws://<host>:<port>/topics-v1`` for one :class:`~.sandbox.FortnoxSandbox`."""

    def __init__(self, sandbox: FortnoxSandbox, *, host: str = "127.0.0.1", port: int = 0):
        self.sandbox = sandbox
        self.host, self.port = host, port
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: Server | None = None
        self.connections: set[ServerConnection] = set()
        #: Sessions that subscribed, in order (for tests and the demo's health).
        self.subscriptions = 0
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}{PATH}"

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FortnoxStreamServer:
        """Start serving on a thread of its own; returns once the port is open (raises OSError if it cannot)."""
        self._thread = threading.Thread(target=self._serve_forever, name="fortnox-sandbox-stream", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=10)
        if self._failure is not None:
            raise self._failure
        return self

    def stop(self) -> None:
        if self.loop is None or self.server is None:
            return
        self.loop.call_soon_threadsafe(self.server.close)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def drop_sessions(self) -> None:
        """Break every open session without a closing handshake, as a lost network would."""
        if self.loop is None:
            return
        for connection in list(self.connections):
            self.loop.call_soon_threadsafe(connection.transport.abort)

    def _serve_forever(self) -> None:
        self.loop = asyncio.new_event_loop()
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as error:  # the port is taken, or the loop broke
            self._failure = error
            self._ready.set()
        finally:
            self.loop.close()

    async def _serve(self) -> None:
        async with serve(self._session, self.host, self.port, max_size=2**20) as server:
            self.server = server
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await server.wait_closed()

    # -- one session ---------------------------------------------------------------------------
    async def _session(self, connection: ServerConnection) -> None:
        if connection.request is None or connection.request.path.split("?")[0] != PATH:
            await connection.close(code=1008, reason="Unknown path")
            return
        self.connections.add(connection)
        session = _Session()
        try:
            commands = asyncio.create_task(self._commands(connection, session))
            while not commands.done():
                if session.subscribed:
                    await self._send_new_events(connection, session)
                await asyncio.wait({commands}, timeout=FEED_POLL)
            commands.result()
        except ConnectionClosed:
            pass
        finally:
            self.connections.discard(connection)

    async def _commands(self, connection: ServerConnection, session: _Session) -> None:
        async for raw in connection:
            try:
                command = json.loads(raw)
            except ValueError:
                command = None
            if not isinstance(command, dict):
                await connection.send(json.dumps({"response": None, "result": "error"}))
                continue
            await connection.send(json.dumps(self._answer(command, session)))

    def _answer(self, command: dict[str, Any], session: _Session) -> dict[str, Any]:
        name = command.get("command")
        if name == "add-tenants-v1":
            return self._add_tenants(command, session)
        if name == "remove-tenants-v1":
            session.tenants -= {int(t) for t in command.get("tenants") or [] if str(t).isdigit()}
            return {"response": name, "result": "ok"}
        if name == "add-topics-v1":
            return self._add_topics(command, session)
        if name == "subscribe-v1":
            if not session.tenants or not session.topics:
                return {"response": name, "result": "error"}
            session.subscribed = True
            self.subscriptions += 1
            return {"response": name, "result": "ok"}
        return {"response": name, "result": "error"}

    def _add_tenants(self, command: dict[str, Any], session: _Session) -> dict[str, Any]:
        sandbox = self.sandbox
        secret, tokens = command.get("clientSecret"), command.get("accessTokens")
        if not isinstance(secret, str) or not isinstance(tokens, list):
            return {"response": "add-tenants-v1", "result": "error", "invalidTokens": []}
        with sandbox.lock:
            known_secret = any(secrets.compare_digest(secret, value) for value in sandbox.apps.values())
            now = sandbox.clock()
            tenant_ids, invalid = {}, []
            for token in tokens:
                bare = str(token).removeprefix("Bearer ")
                expires = sandbox.access_tokens.get(bare)
                if known_secret and expires is not None and expires > now:
                    tenant_ids[str(token)] = sandbox.company.tenant_id
                else:
                    invalid.append(str(token))
        if not tenant_ids:
            return {"response": "add-tenants-v1", "result": "error", "invalidTokens": invalid}
        session.tenants.update(tenant_ids.values())
        return {"response": "add-tenants-v1", "result": "ok", "tenantIds": tenant_ids, "invalidTokens": invalid}

    def _add_topics(self, command: dict[str, Any], session: _Session) -> dict[str, Any]:
        topics = command.get("topics")
        if not isinstance(topics, list):
            return {"response": "add-topics-v1", "result": "error", "invalidTopics": []}
        known, invalid = set(TOPICS.values()), []
        for entry in topics:
            topic = entry.get("topic") if isinstance(entry, dict) else None
            if topic not in known:
                invalid.append(str(topic))
                continue
            offset = entry.get("offset")
            if offset in (None, ""):
                with self.sandbox.lock:
                    feed = self.sandbox.company.topics[topic]
                    offset = feed[-1].offset if feed else "0"
            session.topics[topic] = str(offset)
        if invalid:
            return {"response": "add-topics-v1", "result": "error", "invalidTopics": invalid}
        return {"response": "add-topics-v1", "result": "ok", "invalidTopics": []}

    async def _send_new_events(self, connection: ServerConnection, session: _Session) -> None:
        for topic, after in list(session.topics.items()):
            try:
                events = self.sandbox.events(topic, after=after)
            except ValueError:  # an offset that was never the sandbox's: start at the beginning, as Fortnox resets
                events = self.sandbox.events(topic)
            for event in events:
                if event["tenantId"] in session.tenants:
                    await connection.send(json.dumps(event))
                session.topics[topic] = event["offset"]
