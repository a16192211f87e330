"""Values longer than the field they are written to: shortened at a word boundary, or refused.

Pure functions over plain values and the catalogs' field descriptions (``FieldSpec.max_length``, taken from
each vendor's own description; sources in ``docs/vendors/<vendor>.md``). A mapping row says what happens to a
longer value (``FieldMapping.overflow``): ``shorten`` (the default) or ``refuse``. Lengths are counted in
characters (Python ``len``), as the vendors' ``maxLength`` counts them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from integrations.systems.catalog import FieldSpec
from integrations.systems.errors import ExternalSystemError

SHORTEN = "shorten"
REFUSE = "refuse"
OVERFLOW_CHOICES = (SHORTEN, REFUSE)


class ValueTooLong(ExternalSystemError):
    """A value longer than its target field, on a row set to refuse: the change is parked, nothing written.

    ``message`` names the field and both lengths in plain words; the processing loop parks the change with it.
    """

    def __init__(self, *, field: str, length: int, limit: int, source: str = "", why: str = ""):
        origin = f" (from {source})" if source and source != field else ""
        why = why or ("This field's mapping row refuses longer values, so nothing was written. Shorten the value "
                      "where it comes from, or set the row to shorten such values.")
        super().__init__(f"The value for {field}{origin} is {length} characters long, but {field} holds at most "
                         f"{limit}. {why}")
        self.field = field
        self.length = length
        self.limit = limit


@dataclass(frozen=True)
class Fitted:
    """A value made to fit its field, and a note for the log when it had to be shortened ("" otherwise)."""

    value: Any
    note: str = ""


def _trailing_junk(char: str) -> bool:
    """Space, dashes, opening brackets and quotes, commas and the like; a closing bracket or quote is kept."""
    return char.isspace() or unicodedata.category(char) in ("Po", "Pd", "Ps", "Pi", "Pc", "Sm")


def text_shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, without trailing space or punctuation.

    The cut falls at the last whitespace that keeps the text within ``limit``; only when the first word alone
    is longer than ``limit`` is it cut inside that word. Text that already fits comes back unchanged.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    cut = max((i for i, char in enumerate(head) if char.isspace()), default=-1)
    candidate = text[:cut] if cut > 0 else text[:limit]
    trimmed = candidate
    while trimmed and _trailing_junk(trimmed[-1]):
        trimmed = trimmed[:-1]
    if not trimmed.strip():  # only a first word that is itself too long (or punctuation): cut inside it
        trimmed = text[:limit].rstrip()
    return trimmed


def value_fit(value: Any, *, target: FieldSpec | None, overflow: str = SHORTEN, source: str = "",
              exact: bool = False) -> Fitted:
    """``value`` as ``target`` can hold it.

    Only text is measured; other values, blank text and fields without a known ``max_length`` pass unchanged.
    ``overflow`` ``"shorten"`` cuts at a word boundary (:func:`text_shorten`) and says so in ``Fitted.note``
    ("Name shortened from 150 to 98 characters (limit 100)."); ``"refuse"`` raises :class:`ValueTooLong`. A value
    is refused whatever the row says when its target must arrive whole (``FieldSpec.exact``: numbers, codes,
    e-mails, phones) or when it has no word break within the limit: a cut would write a wrong value.
    ``source`` names the field the value was read from, for the refusal's message; ``exact`` says the entity
    matches or links by the target (``EntitySpec.exact_fields``).
    """
    if not isinstance(value, str) or target is None or not target.max_length:
        return Fitted(value)
    limit = target.max_length
    if len(value) <= limit:
        return Fitted(value)
    if overflow == REFUSE:
        raise ValueTooLong(field=target.name, length=len(value), limit=limit, source=source)
    if exact or target.exact:
        raise ValueTooLong(field=target.name, length=len(value), limit=limit, source=source, why=(
            f"{target.name} holds a number, code or address, which a shortened copy would make wrong, so nothing "
            f"was written. Correct the value where it comes from, then replay."))
    if not any(char.isspace() for char in value[1: limit + 1]):
        raise ValueTooLong(field=target.name, length=len(value), limit=limit, source=source, why=(
            "It has no word break to shorten it at, and a cut word would be a wrong value, so nothing was written. "
            "Correct the value where it comes from, then replay."))
    shortened = text_shorten(value, limit)
    return Fitted(shortened, f"{target.name} shortened from {len(value)} to {len(shortened)} characters "
                             f"(it holds at most {limit}).")

