"""Storing a new link whole, in one statement.

A link made after a create carries everything at once: both ids, both digests, the agreed values, the label and
any pending write-back (``SyncLink.pending``), so a crash right after it leaves a link that says what is left to do
(:mod:`.pending`, ``apply._write_back_number``). ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` (SQLite ≥ 3.24
with RETURNING from 3.35, and PostgreSQL) stores it without a savepoint or a read first; a link of either record
made meanwhile by another worker (either unique constraint) stores nothing, and the caller falls back to the
read-and-update path.
"""

from __future__ import annotations

from django.db import connection

from integrations.models import SyncLink

from .sql import table


def link_insert(link: SyncLink) -> bool:
    """Insert the unsaved ``link`` with every field it holds; True (and ``link.pk`` set) when stored, False when a
    link of one of its records exists already (nothing written)."""
    fields = [f for f in SyncLink._meta.concrete_fields if not f.primary_key]
    names = ", ".join(f'"{f.column}"' for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    values = [f.get_db_prep_save(f.pre_save(link, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        # Names from the model, values as parameters.
        cursor.execute(f"INSERT INTO {table(SyncLink)} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING "  # noqa: S608
                       f'RETURNING "{SyncLink._meta.pk.column}"', values)
        row = cursor.fetchone()
    if row is None:
        return False
    link.pk = row[0]
    link._state.adding = False
    link._state.db = connection.alias
    return True
