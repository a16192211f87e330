"""What the simulated REST face knows of Uniconta's tables: fields, keys, value conversion, refusals.

The table definitions come from the catalog, so the sandbox accepts exactly the fields the catalog
promises; ``coerce`` converts JSON values the way Json.NET fills the C# properties, and refuses with
Json.NET's own sentence when it cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any

import pycountry

from ..catalog import FieldSpec, FieldType
from .catalog import (
    CHANGE_TABLES,
    CONTACT,
    DAILY_JOURNAL_FIELDS,
    DEBTOR,
    DEBTOR_ORDER,
    EMPLOYEE,
    GL_TRANS_FIELDS,
    INV_ITEM,
    INVOICE,
    INVOICE_LINE,
    JOURNAL_LINE,
    ORDER_LINE,
    TABLE_CHANGE_EVENT_FIELDS,
)
from .sandbox_odata import as_datetime

Row = dict[str, Any]
CENT = Decimal("0.01")
VAT_RATE = Decimal("0.25")  # Danish standard VAT; the sandbox's company is Danish


class UnicontaFault(Exception):
    """A refusal in Uniconta's words: an ErrorCodes name and a sentence, with the HTTP status to answer."""

    def __init__(self, status: int, message: str, error_code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.error_code = status, message, error_code

    def body(self) -> dict[str, Any]:
        return {"ErrorCode": self.error_code, "Message": self.message} if self.error_code else {"Message": self.message}


@dataclass(frozen=True)
class TableDef:
    """How one ``…Client`` entity behaves: its fields, key, change-URL name and whether it takes writes."""

    vendor_name: str
    fields: tuple[FieldSpec, ...]
    key: str | None = None
    change_table: str | None = None
    user_fields: bool = False
    writable: bool = True

    @property
    def field_names(self) -> set[str]:
        return {f.name for f in self.fields}

    def spec(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


def _table(spec, **kwargs) -> TableDef:
    fields = tuple(f for f in spec.fields if f.type != FieldType.LIST)
    return TableDef(spec.vendor_name, fields, **kwargs)


TABLES: dict[str, TableDef] = {t.vendor_name: t for t in (
    _table(DEBTOR, key="Account", change_table=CHANGE_TABLES[DEBTOR.entity], user_fields=True),
    _table(CONTACT, change_table=CHANGE_TABLES[CONTACT.entity]),
    _table(INV_ITEM, key="Item", change_table=CHANGE_TABLES[INV_ITEM.entity], user_fields=True),
    _table(DEBTOR_ORDER, key="OrderNumber", change_table=CHANGE_TABLES[DEBTOR_ORDER.entity], user_fields=True),
    _table(ORDER_LINE),
    _table(INVOICE, key="InvoiceNumber", change_table=CHANGE_TABLES[INVOICE.entity], writable=False),
    _table(INVOICE_LINE, writable=False),
    _table(EMPLOYEE, key="Number", change_table=CHANGE_TABLES[EMPLOYEE.entity]),
    _table(JOURNAL_LINE),
    TableDef("GLDailyJournalClient", DAILY_JOURNAL_FIELDS, key="Journal"),
    TableDef("GLTransClient", GL_TRANS_FIELDS, writable=False),
    TableDef("TableChangeEventClient", TABLE_CHANGE_EVENT_FIELDS),
)}
#: Uniconta's DataModel name per table (what a change URL's ``Table`` holds), for user-field messages.
DATA_MODEL = {name: name.removesuffix("Client") for name in TABLES}


@dataclass
class Change:
    """One row inserted, updated or deleted, for the change URLs."""

    table: str
    operation: str  # Insert | Update | Delete
    row: Row


def utcnow() -> datetime:
    """Uniconta keeps UTC timestamps without an offset."""
    return datetime.now(UTC).replace(tzinfo=None)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


@cache
def country_enum_names() -> frozenset[str]:
    """The names of ``Uniconta.Common.CountryCode``: English short names in PascalCase ("UnitedKingdom"), and
    "Unknown" for none. Derived from ISO 3166 names as Uniconta's own pages show them (docs/vendors/uniconta.md)."""
    def pascal(name: str) -> str:
        return "".join(ch for ch in " ".join(w[:1].upper() + w[1:] for w in name.split()) if ch.isascii() and
                       ch.isalnum())
    return frozenset({"Unknown"} | {pascal(getattr(c, "common_name", None) or c.name) for c in pycountry.countries})


def coerce(spec: FieldSpec, value: Any) -> Any:
    """A JSON value as the C# property would take it, or Json.NET's conversion error."""
    if value is None:
        return None
    if spec.value_kind == "country_enum":
        # Json.NET's StringEnumConverter takes an enum name (any case) or its number; nothing else.
        if isinstance(value, str) and value.strip().casefold() in {n.casefold() for n in country_enum_names()}:
            return next(n for n in country_enum_names() if n.casefold() == value.strip().casefold())
        if not (isinstance(value, int) and not isinstance(value, bool)):
            raise UnicontaFault(400, f"Error converting value {value!r} to type 'Uniconta.Common.CountryCode'. "
                                     f"Path '{spec.name}'.")
    try:
        if spec.type in (FieldType.DECIMAL,):
            if isinstance(value, bool):
                raise ValueError
            return Decimal(str(value))
        if spec.type == FieldType.INTEGER:
            if isinstance(value, bool) or Decimal(str(value)) != int(Decimal(str(value))):
                raise ValueError
            return int(Decimal(str(value)))
        if spec.type == FieldType.BOOLEAN:
            if not isinstance(value, bool):
                raise ValueError
            return value
        if spec.type in (FieldType.DATE, FieldType.DATETIME):
            moment = as_datetime(value)
            return (moment.replace(hour=0, minute=0, second=0, microsecond=0) if spec.type == FieldType.DATE
                    else moment).isoformat()
        if isinstance(value, dict | list):
            raise ValueError
        return value if isinstance(value, str) else str(value)
    except (ValueError, InvalidOperation, TypeError, ArithmeticError):
        target = {FieldType.DECIMAL: "System.Double", FieldType.INTEGER: "System.Int32",
                  FieldType.BOOLEAN: "System.Boolean", FieldType.DATE: "System.DateTime",
                  FieldType.DATETIME: "System.DateTime"}.get(spec.type, "System.String")
        raise UnicontaFault(400, f"Error converting value {value!r} to type '{target}'. Path '{spec.name}'.") \
            from None
