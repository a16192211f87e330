"""The part of OData v3's query language Uniconta's feed is used with: ``$filter`` and ``$orderby``.

``$filter`` takes comparisons (``eq ne gt ge lt le``) of a property, or ``tolower(property)``, with a
literal — ``'text'``, numbers, ``true``/``false``, ``null`` and ``datetime'2024-01-31T00:00:00'`` —
and ``startswith(property, 'text')`` / ``endswith(…)`` (either on ``tolower(property)`` too), joined by
``and``/``or`` with parentheses. Anything else is answered with an OData error, as the real feed does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

Row = dict[str, Any]
Predicate = Callable[[Row], bool]

_TOKEN = re.compile(r"\s*(?:(?P<open>\()|(?P<close>\))|(?P<comma>,)|datetime'(?P<dt>[^']*)'|'(?P<str>(?:[^']|'')*)'"
                    r"|(?P<num>-?\d+(?:\.\d+)?)(?![\w.])|(?P<word>[A-Za-z_][A-Za-z0-9_]*))")
_OPERATORS = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
}


class ODataError(ValueError):
    """A query the feed cannot run; becomes a 400 with an OData error body."""


class _Datetime(str):
    """A literal written ``datetime'…'``."""


def _tokens(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ODataError(f"Syntax error at position {position} in '{text}'.")
        kind = match.lastgroup or ""
        value: Any = match.group(kind)
        if kind == "str":
            value = value.replace("''", "'")
        tokens.append((kind, value))
        position = match.end()
    return tokens


def as_datetime(value: Any) -> datetime:
    text = str(value).replace("Z", "")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ODataError(f"Unrecognized 'Edm.DateTime' literal '{value}'.") from None


def _literal(kind: str, value: str) -> Any:
    if kind == "dt":
        return _Datetime(value)
    if kind == "str":
        return value
    if kind == "num":
        return Decimal(value)
    return {"true": True, "false": False, "null": None}[value]


def _compare(op: str, actual: Any, literal: Any) -> bool:
    if literal is None or actual is None:
        return _OPERATORS[op](actual, literal) if op in ("eq", "ne") else False
    try:
        if isinstance(literal, _Datetime):
            return _OPERATORS[op](as_datetime(actual), as_datetime(literal))
        if isinstance(literal, Decimal):
            return _OPERATORS[op](Decimal(str(actual)), literal)
        if isinstance(literal, bool):
            return _OPERATORS[op](bool(actual), literal)
        return _OPERATORS[op](str(actual), literal)
    except (InvalidOperation, TypeError):
        raise ODataError(f"A binary operator with incompatible types was detected: '{actual!r}' {op} "
                         f"'{literal!r}'.") from None


class _Parser:
    def __init__(self, text: str, fields: Collection[str], type_name: str):
        self.tokens = _tokens(text)
        self.position = 0
        self.fields = fields
        self.type_name = type_name

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise ODataError("Expression expected at the end of the filter.")
        self.position += 1
        return token

    def expression(self) -> Predicate:
        left = self.conjunction()
        while (token := self.peek()) and token == ("word", "or"):
            self.take()
            right, first = self.conjunction(), left
            left = lambda row, a=first, b=right: a(row) or b(row)  # noqa: E731
        return left

    def conjunction(self) -> Predicate:
        left = self.comparison()
        while (token := self.peek()) and token == ("word", "and"):
            self.take()
            right, first = self.comparison(), left
            left = lambda row, a=first, b=right: a(row) and b(row)  # noqa: E731
        return left

    def comparison(self) -> Predicate:
        kind, value = self.take()
        if kind == "open":
            inner = self.expression()
            if self.take()[0] != "close":
                raise ODataError("')' expected.")
            return inner
        if kind != "word":
            raise ODataError(f"Property name expected, found '{value}'.")
        if value in ("startswith", "endswith") and self.peek() == ("open", "("):
            return self.text_function(value)
        lower = value == "tolower" and self.peek() == ("open", "(")
        if lower:  # tolower(Property): compare without case
            self.take()
            kind, value = self.take()
            if kind != "word" or self.take()[0] != "close":
                raise ODataError("tolower takes one property.")
        if value not in self.fields:
            raise ODataError(f"Could not find a property named '{value}' on type '{self.type_name}'.")
        op_kind, op = self.take()
        if op_kind != "word" or op not in _OPERATORS:
            raise ODataError(f"Operator expected after '{value}', found '{op}'.")
        lit_kind, lit_value = self.take()
        if lit_kind not in ("dt", "str", "num") and lit_value not in ("true", "false", "null"):
            raise ODataError(f"Literal expected after '{op}', found '{lit_value}'.")
        literal, name = _literal(lit_kind, lit_value), value
        if lower:
            return lambda row: _compare(op, None if row.get(name) is None else str(row[name]).lower(), literal)
        return lambda row: _compare(op, row.get(name), literal)

    def text_function(self, function: str) -> Predicate:
        """``startswith(Property, 'text')`` or ``endswith(…)``, the property optionally in ``tolower(…)``."""
        self.take()  # (
        kind, name = self.take()
        lower = kind == "word" and name == "tolower" and self.peek() == ("open", "(")
        if lower:
            self.take()
            kind, name = self.take()
            if self.take()[0] != "close":
                raise ODataError("tolower takes one property.")
        if kind != "word" or name not in self.fields:
            raise ODataError(f"Could not find a property named '{name}' on type '{self.type_name}'.")
        if self.take()[0] != "comma":
            raise ODataError(f"{function} takes a property and a text.")
        lit_kind, text = self.take()
        if lit_kind != "str" or self.take()[0] != "close":
            raise ODataError(f"{function} takes a property and a text.")
        wanted = _literal(lit_kind, text)

        def test(row: Row) -> bool:
            value = row.get(name)
            if value is None:
                return False
            value = str(value).lower() if lower else str(value)
            return value.startswith(wanted) if function == "startswith" else value.endswith(wanted)

        return test


def parse_filter(text: str | None, fields: Collection[str], type_name: str) -> Predicate:
    """A predicate over rows for an OData ``$filter``; an empty filter keeps every row."""
    if not text or not text.strip():
        return lambda row: True
    parser = _Parser(text, fields, type_name)
    predicate = parser.expression()
    if parser.peek() is not None:
        raise ODataError(f"Syntax error: unexpected '{parser.peek()[1]}'.")  # type: ignore[index]
    return predicate


def index_hint(text: str | None) -> tuple[str, str, str] | None:
    """What an index can answer of a ``$filter`` already parsed: its first comparison, when the filter is an
    ``and`` of comparisons (no ``or`` outside parentheses) and that first one is ``Property eq 'text'``
    (→ ``("equal", Property, text)``), ``Property eq <number>`` or ``Property ge <n> and Property le <n>`` (→
    ``("number-equal", Property, "<n>")``) or ``startswith(tolower(Property), 'text')`` (→ ``("lower-prefix", …)``).
    None otherwise. Rows the first comparison rejects are never looked at by the others (``and`` stops there),
    so reading only the rows the index gives answers exactly what reading them all would."""
    if not text or not text.strip():
        return None
    tokens = _tokens(text)
    depth = 0
    for kind, value in tokens:
        depth += 1 if kind == "open" else -1 if kind == "close" else 0
        if depth == 0 and (kind, value) == ("word", "or"):
            return None
    first: list[tuple[str, Any]] = []
    for token in tokens:
        if token == ("word", "and"):
            break
        first.append(token)
    shape = [kind if kind != "word" else value for kind, value in first]
    plain = len(first) == 3 and first[0][0] == "word" and first[0][1] not in ("startswith", "endswith", "tolower")
    if plain and shape[1] == "eq" and shape[2] == "str":
        return "equal", first[0][1], first[2][1]
    if plain and shape[1] == "eq" and shape[2] == "num":
        return "number-equal", first[0][1], first[2][1]
    # ``F ge n and F le n`` (a range of one number, as a document's lines are asked for) is ``F eq n``.
    if plain and shape[1] == "ge" and shape[2] == "num" and tokens[3:7] == [("word", "and"), first[0], ("word", "le"),
                                                                            first[2]]:
        return "number-equal", first[0][1], first[2][1]
    if shape[:4] == ["startswith", "open", "tolower", "open"] and len(first) == 9 \
            and first[4][0] == "word" and shape[5:] == ["close", "comma", "str", "close"]:
        return "lower-prefix", first[4][1], first[7][1]
    return None


def parse_orderby(text: str | None, fields: Collection[str], type_name: str) -> list[tuple[str, bool]]:
    """``Name asc,UpdatedAt desc`` as (field, descending) pairs."""
    order: list[tuple[str, bool]] = []
    for part in (text or "").split(","):
        words = part.split()
        if not words:
            continue
        if words[0] not in fields:
            raise ODataError(f"Could not find a property named '{words[0]}' on type '{type_name}'.")
        if len(words) > 1 and words[1].lower() not in ("asc", "desc"):
            raise ODataError(f"Syntax error in $orderby at '{words[1]}'.")
        order.append((words[0], len(words) > 1 and words[1].lower() == "desc"))
    return order


def sort_rows(rows: list[Row], order: list[tuple[str, bool]]) -> list[Row]:
    """Stable multi-key sort; empty values first, as SQL Server sorts NULLs."""
    for name, descending in reversed(order):
        rows.sort(key=lambda row: (row.get(name) is not None, _sort_key(row.get(name))), reverse=descending)
    return rows


def _sort_key(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool | int | Decimal | float):
        return Decimal(str(value))
    return str(value)
