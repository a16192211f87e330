"""A sandbox table's rows by key, with the indexes its list filters need, so a read costs what the answer costs.

:class:`KeyedRows` is a ``dict`` (key → row) and behaves as one — iteration in insertion order, ``dict(rows)`` for
the kept state of :mod:`.sandbox_state` — and keeps, beside it, indexes made on first use:

- ``where(name, value, value_of)``: the rows whose ``value_of(row)`` equals ``value`` (``value_of`` must be the same
  function for one ``name``), in the table's order;
- ``starting(name, prefix, text_of)``: the rows whose ``text_of(row)`` starts with ``prefix``, in the table's order;
- ``keys_sorted(name, sort_key)``: every key ordered by ``sort_key(key)`` (a key's order never changes).

Indexes follow every ``rows[key] = row``, ``del``, ``pop``, ``update`` and ``clear``. A row changed *in place*
after it was stored must be announced with :meth:`KeyedRows.touch`; lookups check each candidate against its
current value as well, so a forgotten ``touch`` can hide a row but never return a wrong one.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

Row = dict[str, Any]
_MISSING = object()
#: ``SANDBOX_INDEX_CHECK=1``: every indexed lookup is compared with reading every row, and a difference (a row changed
#: in place without :meth:`KeyedRows.touch`) raises. For test runs that hunt such changes; slow.
CHECK_INDEXES = os.environ.get("SANDBOX_INDEX_CHECK", "") not in ("", "0")


class _EqualIndex:
    def __init__(self, value_of: Callable[[Row], Hashable]):
        self.value_of = value_of
        self.buckets: dict[Hashable, set[str]] = {}
        self.held: dict[str, Hashable] = {}

    def add(self, key: str, row: Row) -> None:
        value = self.value_of(row)
        self.buckets.setdefault(value, set()).add(key)
        self.held[key] = value

    def remove(self, key: str) -> None:
        value = self.held.pop(key, _MISSING)
        if value is _MISSING:
            return
        bucket = self.buckets.get(value)
        if bucket is not None:
            bucket.discard(key)
            if not bucket:
                del self.buckets[value]


class _PrefixIndex:
    """Texts kept sorted as ``(text, key)``; rows whose text is None are not in it."""

    def __init__(self, text_of: Callable[[Row], str | None]):
        self.text_of = text_of
        self.entries: list[tuple[str, str]] = []
        self.held: dict[str, str] = {}

    def add(self, key: str, row: Row) -> None:
        text = self.text_of(row)
        if text is None:
            return
        bisect.insort(self.entries, (text, key))
        self.held[key] = text

    def remove(self, key: str) -> None:
        text = self.held.pop(key, None)
        if text is None:
            return
        at = bisect.bisect_left(self.entries, (text, key))
        if at < len(self.entries) and self.entries[at] == (text, key):
            del self.entries[at]

    def starting(self, prefix: str) -> list[str]:
        found = []
        at = bisect.bisect_left(self.entries, (prefix, ""))
        while at < len(self.entries) and self.entries[at][0].startswith(prefix):
            found.append(self.entries[at][1])
            at += 1
        return found


class KeyedRows(dict):
    """Rows by key with lazily made indexes (see the module's description). Not thread-safe: the sandbox's lock
    is held around every use, as around every use of its store."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()
        #: Each key's place in the insertion order (what iterating a dict follows).
        self._place: dict[str, int] = {}
        self._next_place = 0
        self._equal: dict[str, _EqualIndex] = {}
        self._prefix: dict[str, _PrefixIndex] = {}
        self._sorted: dict[str, tuple[Callable[[str], Any], list[str] | None]] = {}
        self.update(*args, **kwargs)

    # -- the dict's writes, followed by the indexes ---------------------------------------------------
    def __setitem__(self, key: str, row: Row) -> None:
        if key in self:
            self._unindex(key)
            super().__setitem__(key, row)
        else:
            super().__setitem__(key, row)
            self._place[key] = self._next_place
            self._next_place += 1
            self._sorted_add(key)
        self._index(key, row)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._forget(key)

    def pop(self, key: str, *default: Any) -> Any:
        if key not in self:
            if default:
                return default[0]
            raise KeyError(key)
        row = self[key]
        del self[key]
        return row

    def popitem(self) -> tuple[str, Row]:
        key, row = super().popitem()
        self._forget(key)
        return key, row

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, row in dict(*args, **kwargs).items():
            self[key] = row

    def clear(self) -> None:
        super().clear()
        self._place.clear()
        for index in self._equal.values():
            index.buckets.clear()
            index.held.clear()
        for prefix in self._prefix.values():
            prefix.entries.clear()
            prefix.held.clear()
        self._sorted = {name: (sort_key, []) for name, (sort_key, _keys) in self._sorted.items()}

    def __ior__(self, other: Mapping[str, Row]) -> KeyedRows:  # type: ignore[override,misc]
        self.update(other)
        return self

    def __reduce__(self):  # a copy or a pickle is a plain dict of the same rows
        return (dict, (dict(self),))

    def touch(self, key: str) -> None:
        """Say that the row of ``key`` was changed in place: its index entries are made anew."""
        if key in self:
            self._unindex(key)
            self._index(key, self[key])

    # -- lookups --------------------------------------------------------------------------------------
    def where(self, name: str, value: Hashable, value_of: Callable[[Row], Hashable]) -> list[Row]:
        """The rows whose ``value_of(row) == value``, in the table's order. ``name`` names the index."""
        index = self._equal.get(name)
        if index is None:
            index = self._equal[name] = _EqualIndex(value_of)
            for key, row in self.items():
                index.add(key, row)
        keys = index.buckets.get(value, ())
        found = [self[key] for key in self._in_order(keys) if index.value_of(self[key]) == value]
        if CHECK_INDEXES:
            _same(found, [row for row in self.values() if index.value_of(row) == value], name)
        return found

    def starting(self, name: str, prefix: str, text_of: Callable[[Row], str | None]) -> list[Row]:
        """The rows whose ``text_of(row)`` starts with ``prefix``, in the table's order."""
        index = self._prefix.get(name)
        if index is None:
            index = self._prefix[name] = _PrefixIndex(text_of)
            for key, row in self.items():
                index.add(key, row)
        keys = index.starting(prefix)
        found = []
        for key in self._in_order(keys):
            text = index.text_of(self[key])
            if text is not None and text.startswith(prefix):
                found.append(self[key])
        if CHECK_INDEXES:
            _same(found, [row for row in self.values() if (text := index.text_of(row)) is not None
                          and text.startswith(prefix)], name)
        return found

    def keys_sorted(self, name: str, sort_key: Callable[[str], Any]) -> list[str]:
        """Every key, ordered by ``sort_key(key)`` (stable: equal ones in the table's order). The list is the
        index itself: read it, never change it."""
        _sort_key, keys = self._sorted.get(name, (sort_key, None))
        if keys is None:
            keys = sorted(self, key=sort_key)
            self._sorted[name] = (sort_key, keys)
        elif CHECK_INDEXES and keys != sorted(self, key=sort_key):
            raise AssertionError(f"the order {name} is stale")
        return keys

    def first(self, fields: Mapping[str, Any]) -> Row | None:
        """The first row (in the table's order) whose fields equal ``fields`` (``row.get(name) == value``)."""
        if not fields:
            return next(iter(self.values()), None)
        (name, value), *rest = fields.items()
        return next((row for row in self.equal(name, value) if all(row.get(k) == v for k, v in rest)), None)

    def equal(self, name: str, value: Any) -> list[Row]:
        """The rows whose field ``name`` equals ``value`` (``row.get(name) == value``), in the table's order."""
        try:
            hash(value)
        except TypeError:  # a value that cannot be a dict key: look the slow way
            return [row for row in self.values() if row.get(name) == value]
        return self.where(f"equal:{name}", value, lambda row: _hashable(row.get(name)))

    # -- upkeep ---------------------------------------------------------------------------------------
    def _in_order(self, keys: Iterable[str]) -> list[str]:
        return sorted(keys, key=self._place.__getitem__)

    def _index(self, key: str, row: Row) -> None:
        for index in self._equal.values():
            index.add(key, row)
        for prefix in self._prefix.values():
            prefix.add(key, row)

    def _unindex(self, key: str) -> None:
        for index in self._equal.values():
            index.remove(key)
        for prefix in self._prefix.values():
            prefix.remove(key)

    def _forget(self, key: str) -> None:
        self._unindex(key)
        self._place.pop(key, None)
        for name, (sort_key, keys) in list(self._sorted.items()):
            if keys is None:
                continue
            at = bisect.bisect_left(keys, sort_key(key), key=sort_key)
            while at < len(keys) and keys[at] != key and sort_key(keys[at]) == sort_key(key):
                at += 1
            if at < len(keys) and keys[at] == key:
                del keys[at]
            else:
                self._sorted[name] = (sort_key, None)

    def _sorted_add(self, key: str) -> None:
        for sort_key, keys in self._sorted.values():
            if keys is None:
                continue
            if not keys or sort_key(keys[-1]) <= sort_key(key):
                keys.append(key)  # new keys mostly come last (ids counting up)
            else:
                bisect.insort_right(keys, key, key=sort_key)


#: Where a row's value cannot be a dict key (a list, a dict): such a row is found only the slow way.
_UNHASHABLE = object()


def _hashable(value: Any) -> Hashable:
    try:
        hash(value)
    except TypeError:
        return _UNHASHABLE
    return value


def _same(found: list[Row], everything: list[Row], name: str) -> None:
    if [id(row) for row in found] != [id(row) for row in everything]:
        raise AssertionError(f"the index {name} is stale: a row was changed in place without touch()")
