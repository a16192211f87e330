"""One shared sandbox per system for the demo, mounted under /sandbox/<system>/ of the web app.

``/sandbox/_knobs/<system>`` is the drill panel of a demo sandbox: GET answers its knobs and a count of
the requests it served (by method and status class); POST a JSON object sets knobs (``latency_ms``,
``error_rate``, ``throttle_rate``, ``webhook_drop_rate``, ``rate_limit``, ``webhook_async``,
``webhook_duplicate_rate``, ``webhook_delay_ms``, ``lost_answer_rate``, ``late_answer_rate``, ``late_answer_ms``) and
``{"clear_log": true}`` empties its request log. It exists only where the sandboxes are mounted.
``SANDBOX_DEMO_DATA=false`` starts the demo sandboxes empty (drills that count every record).
``SANDBOX_STATE_DIR`` (``var/sandboxes`` under ``make run``) keeps each sandbox's data in its own SQLite file
there, so a restart finds the vendors as they were; without it the sandboxes live in memory only.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Request, Response

from .registry import all_systems, get_system
from .sandbox_state import SandboxState

_instances: dict[str, Any] = {}
_lock = threading.Lock()

SANDBOX_PREFIX = "/sandbox"
KNOBS_PREFIX = f"{SANDBOX_PREFIX}/_knobs"
#: Knobs the drill panel may set; the seed stays as the sandbox was built.
SETTABLE_KNOBS = ("latency_ms", "error_rate", "throttle_rate", "webhook_drop_rate", "rate_limit", "webhook_async",
                  "webhook_duplicate_rate", "webhook_delay_ms", "lost_answer_rate", "late_answer_rate",
                  "late_answer_ms")


def demo_sandbox(key: str) -> Any:
    """The process-wide sandbox of ``key``, created (and seeded with demo data) on first use."""
    with _lock:
        if key not in _instances:
            sandbox = get_system(key).sandbox()
            seed = getattr(sandbox, "seed_demo", None)
            if os.environ.get("SANDBOX_DEMO_DATA", "true").lower() in ("0", "false", "no"):
                seed = None
            folder = os.environ.get("SANDBOX_STATE_DIR", "")
            if folder:
                sandbox.keep_state(SandboxState(Path(folder) / f"{key}.sqlite3"), seed)
            elif seed is not None:
                seed()
            serve_stream = getattr(sandbox, "serve_demo_stream", None)  # Fortnox's WebSocket change stream
            if serve_stream is not None:
                serve_stream()
            _instances[key] = sandbox
        return _instances[key]


def mount_sandboxes(application):
    """Wrap the Django WSGI app so /sandbox/<key>/... reaches that system's simulator."""
    mounts: dict[str, Any] = {KNOBS_PREFIX: sandbox_knobs_app}
    for provider in all_systems():
        if provider.sandbox_factory is not None:
            mounts[f"{SANDBOX_PREFIX}/{provider.key}"] = _LazySandbox(provider.key)
    return DispatcherMiddleware(application, mounts)


def sandbox_knobs_state(sandbox: Any) -> dict[str, Any]:
    """A sandbox's knobs and what it has served, counted by method and status class (``PUT 2xx``)."""
    with sandbox.lock:
        served = Counter(f"{r.method} {r.status // 100}xx" for r in sandbox.requests
                         if not r.path.startswith("/Auth"))
        webhooks = Counter("dropped" if w.dropped else "duplicated" if w.duplicate else "sent"
                           for w in sandbox.webhooks)
        throttled = sum(1 for r in sandbox.requests if r.status == 429)
    return {"knobs": dataclasses.asdict(sandbox.knobs), "requests": dict(served), "webhooks": dict(webhooks),
            "throttled": throttled}


def sandbox_knobs_app(environ, start_response):
    request = Request(environ)
    key = request.path.strip("/")
    try:
        provider = get_system(key)
    except LookupError:
        provider = None
    if provider is None or provider.sandbox_factory is None:
        return Response(json.dumps({"error": f"No sandbox named {key!r}."}), status=404,
                        mimetype="application/json")(environ, start_response)
    sandbox = demo_sandbox(key)
    if request.method == "POST":
        try:
            changes = json.loads(request.get_data() or b"{}")
        except ValueError:
            changes = None
        unknown = sorted(set(changes or {}) - set(SETTABLE_KNOBS) - {"clear_log"}) if isinstance(changes, dict) \
            else ["(not a JSON object)"]
        if unknown:
            return Response(json.dumps({"error": f"Unknown knobs: {', '.join(unknown)}."}), status=400,
                            mimetype="application/json")(environ, start_response)
        with sandbox.lock:
            for name in SETTABLE_KNOBS:
                if name in changes:
                    value = changes[name]
                    setattr(sandbox.knobs, name, tuple(value) if name == "rate_limit" and value else value)
        if changes.get("clear_log"):
            sandbox.clear_log()
    return Response(json.dumps(sandbox_knobs_state(sandbox)), mimetype="application/json")(environ,
                                                                                         start_response)


class _LazySandbox:
    def __init__(self, key: str):
        self.key = key

    def __call__(self, environ, start_response):
        return demo_sandbox(self.key)(environ, start_response)
