"""How a connection fares in daily use: the last successful call to its vendor, and since when it is refused.

Every client made by ``Connection.client`` reports each call's outcome here (``ApiClient.call_observer``). A
success marks the connection working; a refusal of the credentials (``AuthError``) marks it failing with the
vendor's reason. Both are written at most once a minute per connection and outcome (a cache key guards it), so a
sync of thousands of records costs a handful of small updates. A change of outcome is written at once: recording
one outcome forgets the other's guard.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db.models.functions import Coalesce
from django.utils import timezone

from .systems.base import plain_vendor_text
from .systems.errors import ExternalSystemError

if TYPE_CHECKING:
    from .models import Connection

#: Seconds between two writes of the same outcome of one connection.
RECORD_EVERY = 60
#: The longest reason kept (as ``services.LAST_ERROR_LIMIT``).
REASON_LIMIT = 600


def _keys(connection_id: int, created: float) -> tuple[str, str]:
    # The creation time keeps a reused id (a deleted connection's) from inheriting the guard.
    return (f"synkro-connection-ok:{connection_id}:{created}", f"synkro-connection-refused:{connection_id}:{created}")


def refusal_reason(*, system_name: str, error: ExternalSystemError) -> str:
    """The sentence kept when ``system_name`` refuses the credentials, with the vendor's own words when it gave any."""
    words = plain_vendor_text(error.vendor_message) or (f"HTTP {error.status}" if error.status else "")
    return f"{system_name} refused the credentials{': ' + words if words else ''}. Check them and save again."


def connection_call_recorded(*, connection_id: int, created: float, system_name: str,
                             error: ExternalSystemError | None) -> bool:
    """Record one call's outcome for the connection ``connection_id``; True when it was written.

    ``error`` is None for a success, else the ``AuthError`` the vendor answered. Other failures (timeouts, 5xx,
    refused data) say nothing about the credentials and are not passed here.
    """
    from .models import Connection, ConnectionStatus

    ok_key, refused_key = _keys(connection_id, created)
    now = timezone.now()
    if error is None:
        if not cache.add(ok_key, 1, RECORD_EVERY):
            return False
        cache.delete(refused_key)
        Connection.objects.filter(pk=connection_id).update(status=ConnectionStatus.OK, last_success_at=now,
                                                           failing_since=None, last_error="")
        return True
    if not cache.add(refused_key, 1, RECORD_EVERY):
        return False
    cache.delete(ok_key)
    Connection.objects.filter(pk=connection_id).update(
        status=ConnectionStatus.FAILED, last_error=refusal_reason(system_name=system_name, error=error)[:REASON_LIMIT],
        failing_since=Coalesce("failing_since", now))
    return True


def call_observer_for(connection: Connection) -> Callable[[ExternalSystemError | None], None]:
    """The ``call_observer`` a client of the saved ``connection`` reports its calls' outcomes to."""
    connection_id, name = connection.pk, connection.provider.name
    created = connection.created_at.timestamp() if connection.created_at else 0.0

    def observe(error: ExternalSystemError | None) -> None:
        connection_call_recorded(connection_id=connection_id, created=created, system_name=name, error=error)

    return observe


def connection_call_guard_forget(connection: Connection) -> None:
    """Forget both guards of ``connection``, so that the next outcome is written at once (after a test or a save)."""
    created = connection.created_at.timestamp() if connection.created_at else 0.0
    cache.delete_many(list(_keys(connection.pk, created)))
