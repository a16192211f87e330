"""``manage.py fortnox_listen``: Fortnox's change stream, stored as events within a second of the change.

One long-running process per deployment (beside the ``qcluster`` workers). It keeps one stream session open
per Fortnox connection that an active integration reads from, picks up new connections and drops removed
ones every ``--rescan`` seconds without a restart, resumes every topic from the offset stored with the last
event, and reconnects with exponential backoff and jitter. Polling stays on as the safety net.

Where the stream is: Fortnox's own API host gets ``wss://ws.fortnox.se/topics-v1``; any other host (a
sandbox) only where private vendor hosts are allowed (``ALLOW_PRIVATE_VENDOR_HOSTS``, development), at
``--sandbox-url`` (default ``ws://127.0.0.1:$FORTNOX_SANDBOX_STREAM_PORT/topics-v1``) — a connection's
secrets never go anywhere else.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from integrations.engine.stream_intake import (
    stream_access_token,
    stream_event_store,
    stream_offsets,
    stream_subscriptions,
)
from integrations.models import Connection
from integrations.systems.fortnox.client import FORTNOX_API_HOST, api_base_url
from integrations.systems.fortnox.stream import FORTNOX_STREAM_URL, StreamListener

logger = logging.getLogger(__name__)


def default_sandbox_url() -> str:
    port = os.environ.get("FORTNOX_SANDBOX_STREAM_PORT", "")
    return f"ws://127.0.0.1:{port}/topics-v1" if port.isdigit() else ""


def stream_url_rule(*, sandbox_url: str) -> Callable[[Connection], str | None]:
    """The stream address of a connection: Fortnox's for its API host; ``sandbox_url`` only in development."""

    def stream_url_for(fortnox: Connection) -> str | None:
        if urlsplit(api_base_url(fortnox.effective_base_url)).hostname == FORTNOX_API_HOST:
            return FORTNOX_STREAM_URL
        return sandbox_url if settings.ALLOW_PRIVATE_VENDOR_HOSTS and sandbox_url else None

    return stream_url_for


def _database(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` run on the one database thread of the listener, with stale connections replaced."""

    def call(*args: Any, **kwargs: Any) -> Any:
        close_old_connections()
        return function(*args, **kwargs)

    return sync_to_async(call, thread_sensitive=True)


def listener_build(*, stream_url_for: Callable[[Connection], str | None], rescan_seconds: float = 10.0,
                   backoff_base: float = 1.0, backoff_cap: float = 60.0) -> StreamListener:
    """A :class:`StreamListener` wired to Synkro's database: subscriptions, tokens, offsets and storing."""
    subscriptions = _database(partial(stream_subscriptions, stream_url_for=stream_url_for))
    token = _database(lambda key, fresh: stream_access_token(connection_id=key, fresh=fresh))
    offsets = _database(lambda key: stream_offsets(connection_id=key))
    store_event = _database(lambda key, tenant, message: stream_event_store(
        connection_id=key, fortnox_tenant_id=tenant, message=message))

    async def store(key: int, tenant: str, message: dict[str, Any]) -> None:
        await store_event(key, tenant, message)

    return StreamListener(subscriptions=subscriptions, access_token=token, offsets=offsets, store=store,
                          rescan_seconds=rescan_seconds, backoff_base=backoff_base, backoff_cap=backoff_cap)


async def listen(listener: StreamListener, stop: asyncio.Event) -> None:
    """Run ``listener`` until ``stop`` is set, then let go of the database thread's connection."""
    try:
        await listener.run(stop)
    finally:
        await _database(lambda: connection.close())()


class Command(BaseCommand):
    help = "Listen to Fortnox's change stream (WebSocket) for every active Fortnox connection; store its events."

    def add_arguments(self, parser):
        parser.add_argument("--rescan", type=float, default=10.0,
                            help="Seconds between looks for new or removed Fortnox connections (default 10)")
        parser.add_argument("--sandbox-url", default=default_sandbox_url(),
                            help="Stream address for connections to a sandbox (development only)")

    def handle(self, *args, rescan: float = 10.0, sandbox_url: str = "", **options):
        listener = listener_build(stream_url_for=stream_url_rule(sandbox_url=sandbox_url),
                                  rescan_seconds=max(1.0, rescan))
        self.stdout.write("Listening to Fortnox's change stream (Ctrl-C to stop).")
        asyncio.run(self._run(listener))
        self.stdout.write("Fortnox listener stopped.")

    async def _run(self, listener: StreamListener) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await listen(listener, stop)
