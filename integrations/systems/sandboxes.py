"""One shared sandbox per system for the demo, mounted under /sandbox/<system>/ of the web app."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.middleware.dispatcher import DispatcherMiddleware

from .registry import all_systems, get_system

_instances: dict[str, Any] = {}
_lock = threading.Lock()

SANDBOX_PREFIX = "/sandbox"


def demo_sandbox(key: str) -> Any:
    """The process-wide sandbox of ``key``, created (and seeded with demo data) on first use."""
    with _lock:
        if key not in _instances:
            sandbox = get_system(key).sandbox()
            seed = getattr(sandbox, "seed_demo", None)
            if seed is not None:
                seed()
            _instances[key] = sandbox
        return _instances[key]


def mount_sandboxes(application):
    """Wrap the Django WSGI app so /sandbox/<key>/... reaches that system's simulator."""
    mounts = {}
    for provider in all_systems():
        if provider.sandbox_factory is not None:
            mounts[f"{SANDBOX_PREFIX}/{provider.key}"] = _LazySandbox(provider.key)
    return DispatcherMiddleware(application, mounts)


class _LazySandbox:
    def __init__(self, key: str):
        self.key = key

    def __call__(self, environ, start_response):
        return demo_sandbox(self.key)(environ, start_response)
