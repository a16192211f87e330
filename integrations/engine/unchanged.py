"""The check a whole-record write makes just before it writes: is the record still as the engine read it?

Vendors whose API takes only whole records (webCRM's ``PUT``, Uniconta's ``Entities/Update``, Customers 1st's
``PUT``) are written by reading the record, merging the changed fields in and putting it back. A person's edit of
another field between the engine's read and that write survives the merge (the client reads just before it
writes); an edit of a field the engine is about to write would be erased. The check stops that write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..systems.errors import ChangedSinceRead
from .mapping import changed_fields


def still_as_read(read: Mapping[str, Any], fields: Iterable[str], *, system: str
                  ) -> Callable[[Mapping[str, Any]], None]:
    """A ``check`` for a client's ``update_record``: raises :class:`ChangedSinceRead` when the record the client
    has just read holds, in one of ``fields`` (the vendor's field names about to be written), a value other than
    ``read`` held (compared as the engine compares values: number spelling, padding and blanks do not count).

    ``system`` is the vendor's name for the message ("webCRM"). Lines (``lines``) are not compared here.
    """
    names = [name for name in fields if name != "lines"]
    before = {name: read.get(name) for name in names}

    def check(fresh: Mapping[str, Any]) -> None:
        moved = changed_fields(before, {name: fresh.get(name) for name in names})
        if moved:
            raise ChangedSinceRead(
                f"The record changed in {system} while Synkro was writing it ({', '.join(sorted(moved))}); "
                "it is synced again as it now stands.", fields=sorted(moved), system=system)

    return check
