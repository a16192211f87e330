"""A demo sandbox's data kept on disk, so a restart of the product changes nothing at the "vendor".

A real vendor keeps its customers' data whatever happens to Synkro; the demo's sandboxes must too, or links
Synkro keeps in ``var/`` point at records a restart erased. Each sandbox is kept in its own SQLite file
(``var/sandboxes/<system>.sqlite3``): one row per record of each of its collections, written in one
transaction after every request that may have changed something, and read back when the sandbox is built.

A sandbox says what to keep through two methods (see :class:`~.sandbox.SandboxApp`):

- ``persistent_collections()`` → ``{name: mutable mapping}``: the live containers (records by id, hooks,
  change feeds, refresh grants …). Only the entries that differ from what was last written are written.
- ``persistent_meta()``: the few scalars beside them (id series, counters).
- ``restore_state(collections, meta)``: put kept values back (the base fills the live containers).

Values are kept with :mod:`pickle` — rows hold dates, decimals, sets and small dataclasses — so the file is
the demo's own: only this module writes it, and only demo sandboxes (``SANDBOX_ENABLED``, never production)
read it. Tests and the bench build their sandboxes without a state file.
"""

from __future__ import annotations

import copy
import pickle
import sqlite3
import threading
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, Protocol

META = "__meta__"


class Persistent(Protocol):
    lock: Any

    def persistent_collections(self) -> dict[str, MutableMapping[Any, Any]]: ...

    def persistent_meta(self) -> dict[str, Any]: ...

    def restore_state(self, collections: dict[str, dict[Any, Any]], meta: dict[str, Any]) -> None: ...


class SandboxState:
    """One sandbox's SQLite file: load it into the sandbox, save what changed since the last save.

    In: the file's path (its folder is created). ``load_into(sandbox)`` answers whether anything was kept
    (False for a new file: seed the demo data, then ``save``). ``save(sandbox)`` must be called with the
    sandbox's lock free or held by the caller's thread; it takes the lock itself, so a save sees one state.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS record (collection TEXT NOT NULL, key TEXT NOT NULL, body BLOB NOT NULL, "
            "PRIMARY KEY (collection, key))")
        self._write_lock = threading.Lock()
        #: What was last written: collection → key text → a private copy of the value.
        self._written: dict[str, dict[str, Any]] = {}

    def close(self) -> None:
        self._connection.close()

    def _read(self) -> tuple[dict[str, dict[Any, Any]], dict[str, dict[str, Any]]]:
        """The file's entries (collection → key → value) and a private copy keyed by key text."""
        kept: dict[str, dict[Any, Any]] = {}
        written: dict[str, dict[str, Any]] = {}
        for collection, key_text, body in self._connection.execute(
                "SELECT collection, key, body FROM record ORDER BY collection, rowid"):
            key, value = pickle.loads(body)  # noqa: S301 - the demo's own file, written only by this code
            kept.setdefault(collection, {})[key] = value
            written.setdefault(collection, {})[key_text] = copy.deepcopy(value)
        return kept, written

    def load_into(self, sandbox: Persistent) -> bool:
        kept, self._written = self._read()
        if not kept:
            return False
        meta = kept.pop(META, {})
        with sandbox.lock:
            sandbox.restore_state(kept, meta)
        return True

    def save(self, sandbox: Persistent) -> int:
        """Write the entries that changed since the last save; answers how many rows were written or removed."""
        with self._write_lock, sandbox.lock:
            collections = {name: dict(container) for name, container in sandbox.persistent_collections().items()}
            collections[META] = dict(sandbox.persistent_meta())
            upserts: list[tuple[str, str, bytes]] = []
            removals: list[tuple[str, str]] = []
            for name, entries in collections.items():
                before = self._written.setdefault(name, {})
                now_keys = set()
                for key, value in entries.items():
                    key_text = repr(key)
                    now_keys.add(key_text)
                    if key_text not in before or before[key_text] != value:
                        upserts.append((name, key_text, pickle.dumps((key, value), pickle.HIGHEST_PROTOCOL)))
                        before[key_text] = copy.deepcopy(value)
                for key_text in set(before) - now_keys:
                    removals.append((name, key_text))
                    del before[key_text]
            if upserts or removals:
                cursor = self._connection.cursor()
                cursor.execute("BEGIN")
                try:
                    cursor.executemany("INSERT OR REPLACE INTO record (collection, key, body) VALUES (?, ?, ?)",
                                       upserts)
                    cursor.executemany("DELETE FROM record WHERE collection = ? AND key = ?", removals)
                    cursor.execute("COMMIT")
                except BaseException:
                    cursor.execute("ROLLBACK")
                    self._written = self._read()[1]  # what the file holds, so the next save writes the rest
                    raise
            return len(upserts) + len(removals)
