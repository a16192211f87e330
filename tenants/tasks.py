"""django-q2 entry points of the tenants app. Thin: they call a service and say what it did."""

from __future__ import annotations

from .retention import history_clean_all


def history_clean_task() -> int:
    """The daily clean-up of every tenant's old sync history (``tenants.retention``); returns rows removed."""
    return history_clean_all()
