"""One writer per record: short database leases, taken without waiting.

A worker that cannot take a record's lease puts its event back for a moment instead of blocking, so
different records go on in parallel and the same record is never written by two workers at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from integrations.models import RecordLock

from .leases import LEASE, record_held, record_let_go
from .sql import columns, table

#: A record's lease: short, and renewed while its holder lives (:mod:`.leases`).
DEFAULT_LEASE = LEASE


class RecordBusy(Exception):
    """Another worker holds the record right now."""


def record_key(*, integration_id: int, entity: str, system: str, external_id: str) -> str:
    return f"{integration_id}:{entity}:{system}:{external_id}"[:255]


def lock_acquire(*, key: str, lease: timedelta = DEFAULT_LEASE) -> str | None:
    """Take the lease on ``key``; returns the owner token, or None when someone else holds it.

    One statement, no savepoint: insert the lease, or take over one that has run out
    (``INSERT … ON CONFLICT (key) DO UPDATE … WHERE expires_at <= now RETURNING owner``; SQLite ≥ 3.35 and
    PostgreSQL). A lease still held returns no row.
    """
    owner = uuid.uuid4().hex
    now = timezone.now()
    moment = connection.ops.adapt_datetimefield_value  # stored as Django stores it (SQLite: text in UTC)
    with connection.cursor() as cursor:
        cursor.execute(_ACQUIRE, [key, owner, moment(now + lease), moment(now)])
        taken = cursor.fetchone()
    return owner if taken is not None and taken[0] == owner else None


def _acquire_statement() -> str:
    locks = table(RecordLock)
    column = columns(RecordLock, "key", "owner", "expires_at")
    # Names from the model (:mod:`.sql`), values as parameters.
    return (f'INSERT INTO {locks} ({column["key"]}, {column["owner"]}, {column["expires_at"]}) '  # noqa: S608
            'VALUES (%s, %s, %s) '
            f'ON CONFLICT ({column["key"]}) DO UPDATE SET {column["owner"]} = excluded.{column["owner"]}, '
            f'{column["expires_at"]} = excluded.{column["expires_at"]} '
            f'WHERE {locks}.{column["expires_at"]} <= %s RETURNING {column["owner"]}')


_ACQUIRE = _acquire_statement()


def lock_release(*, key: str, owner: str) -> None:
    """Give the lease back: one ``DELETE``, outside a transaction (``QuerySet.delete`` would open one to collect
    related rows; a lease has none)."""
    with connection.cursor() as cursor:
        cursor.execute(_RELEASE, [key, owner])


_RELEASE = (f"DELETE FROM {table(RecordLock)} WHERE {columns(RecordLock, 'key')['key']} = %s "  # noqa: S608
            f"AND {columns(RecordLock, 'owner')['owner']} = %s")


@contextmanager
def record_locked(*keys: str, lease: timedelta = DEFAULT_LEASE) -> Iterator[None]:
    """Hold every key's lease for the block, or raise :class:`RecordBusy` holding none."""
    held: list[tuple[str, str]] = []
    try:
        for key in dict.fromkeys(keys):
            owner = lock_acquire(key=key, lease=lease)
            if owner is None:
                raise RecordBusy(key)
            held.append((key, owner))
            record_held(key, owner)
        yield
    finally:
        for key, owner in reversed(held):
            record_let_go(key)
            lock_release(key=key, owner=owner)
