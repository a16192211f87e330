"""Uniconta's refusals in plain English, by ``ErrorCodes`` name, and the field a message names.

Uniconta answers ``{"ErrorCode": "<ErrorCodes name>", "Message": "…"}``. The names ``KeyExists``, ``CouldNotFind``,
``RecordExists`` and ``NoLinesToUpdate`` are Uniconta's own (rmja/unicontarest controllers; public integrations'
``ErrorCodes`` use), ``FieldCannotBeBlank`` was seen in plugin code; ``UnknownField``, ``NoRightsToInsert`` /
``NoRightsToDelete`` and ``JournalNotBalanced`` are the sandbox's (docs/vendors/uniconta.md, "Error bodies").
"""

from __future__ import annotations

import re

from ..errors import Refusal, field_named_in

REFUSALS: dict[str, Refusal] = {
    "KeyExists": Refusal("a record with that number already exists"),
    "RecordExists": Refusal("the record already exists"),
    "CouldNotFind": Refusal("a record it refers to does not exist in Uniconta"),
    "NoLinesToUpdate": Refusal("there are no lines to invoice or post"),
    "FieldCannotBeBlank": Refusal("a required value is empty"),
    "UnknownField": Refusal("a field is not one the Uniconta table has"),
    "NoRightsToInsert": Refusal("the table cannot be written through the API"),
    "NoRightsToDelete": Refusal("the record cannot be deleted through the API"),
    "JournalNotBalanced": Refusal("the journal does not balance"),
}

#: "The field Foo does not exist …", "… (Foo) cannot be blank", "The value of Foo is …": the field named.
_FIELD_PATTERNS = (re.compile(r"\bfield (\w+)"), re.compile(r"\((\w+)\) cannot be blank"),
                   re.compile(r"\bvalue of (\w+)"))


def uniconta_refusal(error_code: str | None, message: str | None) -> Refusal | None:
    """The refusal for an ``ErrorCodes`` name, with the field its message names; None for unknown names."""
    refusal = REFUSALS.get(str(error_code or ""))
    if refusal is None:
        return None
    for pattern in _FIELD_PATTERNS:
        found = pattern.search(message or "")
        if found:
            return refusal.with_field(found.group(1))
    return refusal.with_field(field_named_in(message))
