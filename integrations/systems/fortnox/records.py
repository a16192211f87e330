"""Between Fortnox's wire shape and Synkro's flat records.

Fortnox wraps one resource in its singular name (``{"Customer": {...}}``) and nests only a few
small objects (``DefaultDeliveryTypes``, ``EmailInformation``); documents carry their rows in
``OrderRows`` / ``InvoiceRows``. A Synkro record is flat: nested objects become dotted keys and rows
go under ``"lines"``. Numbers are sent the way the description types them: most as JSON numbers,
a few (row quantities, contribution) as strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from ..catalog import Entity, FieldType
from .catalog import DOCUMENT_ROWS, NUMBERS_SENT_AS_TEXT, entity_spec

Record = dict[str, Any]
LINES = "lines"

#: Names a list endpoint uses where the full resource uses another (``CustomerListItem.Phone``).
LIST_ITEM_ALIASES: dict[Entity, dict[str, str]] = {Entity.ORGANISATION: {"Phone": "Phone1"}}

#: What each list endpoint returns (spec schemas ``fortnox_<X>ListItem``, under the catalog's names): far less
#: than a read of one record (a customer's list item has no ``WWW``, ``TermsOfPayment`` or ``Active``). The
#: employee list item holds nearly the whole employee and is not narrowed here.
LIST_ITEM_FIELDS: dict[Entity, frozenset[str]] = {
    Entity.ORGANISATION: frozenset({"@url", "Address1", "Address2", "City", "CustomerNumber", "Email", "Name",
                                    "OrganisationNumber", "Phone1", "ZipCode"}),
    Entity.ITEM: frozenset({"@url", "ArticleNumber", "Description", "DisposableQuantity", "EAN", "Housework",
                            "PurchasePrice", "QuantityInStock", "ReservedQuantity", "SalesPrice", "StockPlace",
                            "StockValue", "Unit", "VAT", "WebshopArticle"}),
    Entity.DELIVERY: frozenset({"@url", "Cancelled", "Currency", "CustomerName", "CustomerNumber", "DeliveryDate",
                                "DocumentNumber", "ExternalInvoiceReference1", "ExternalInvoiceReference2", "OrderDate",
                                "OrderType", "Project", "Sent", "Total"}),
    Entity.INVOICE: frozenset({"@url", "Balance", "Booked", "Cancelled", "CostCenter", "Currency", "CurrencyRate",
                               "CurrencyUnit", "CustomerName", "CustomerNumber", "DocumentNumber", "DueDate",
                               "ExternalInvoiceReference1", "ExternalInvoiceReference2", "FinalPayDate",
                               "InvoiceDate", "InvoiceType", "NoxFinans", "OCR", "Project", "Sent",
                               "TermsOfPayment", "Total", "VoucherNumber", "VoucherSeries", "VoucherYear",
                               "WayOfDelivery"}),
}


def flatten(entity: Entity, body: Mapping[str, Any]) -> Record:
    """A Fortnox resource as a flat record: nested objects dotted, document rows under ``lines``."""
    rows_key, row_entity = DOCUMENT_ROWS.get(entity, (None, None))
    record: Record = {}
    for key, value in body.items():
        if key == rows_key and row_entity is not None:
            record[LINES] = [flatten(row_entity, row) for row in value or []]
        elif isinstance(value, Mapping):
            for inner, inner_value in value.items():
                record[f"{key}.{inner}"] = inner_value
        else:
            record[key] = value
    return record


def list_item(entity: Entity, body: Mapping[str, Any]) -> Record:
    """A list endpoint's reduced item, with its few differently named fields under the catalog's names."""
    aliases = LIST_ITEM_ALIASES.get(entity, {})
    return {aliases.get(key, key): value for key, value in flatten(entity, body).items()}


def to_wire(entity: Entity, record: Mapping[str, Any]) -> dict[str, Any]:
    """The body Fortnox expects for a write: read-only fields left out, numbers typed as documented."""
    spec = entity_spec(entity)
    as_text = NUMBERS_SENT_AS_TEXT.get(entity, frozenset())
    rows_key, row_entity = DOCUMENT_ROWS.get(entity, (None, None))
    body: dict[str, Any] = {}
    for name, value in record.items():
        if name == LINES:
            if rows_key is None or row_entity is None:
                raise ValueError(f"Fortnox {spec.vendor_name} has no rows")
            body[rows_key] = [to_wire(row_entity, row) for row in value or []]
            continue
        field = spec.field(name)
        if name.startswith("@") or (field is not None and field.read_only):
            continue
        wire_value = _wire_value(value, field.type if field else None, name in as_text)
        if "." in name:
            outer, inner = name.split(".", 1)
            body.setdefault(outer, {})[inner] = wire_value
        else:
            body[name] = wire_value
    return body


def _wire_value(value: Any, type_: FieldType | None, as_text: bool) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if as_text and isinstance(value, int | float | Decimal):
        return format(Decimal(str(value)), "f")
    if type_ == FieldType.DECIMAL and isinstance(value, Decimal | str) and not as_text:
        return _number(value)
    if type_ == FieldType.INTEGER and isinstance(value, Decimal | str | float):
        number = _number(value)
        return int(number) if isinstance(number, int | float) and float(number).is_integer() else number
    if isinstance(value, Decimal):
        return float(value)
    return value


def _number(value: Decimal | str) -> Any:
    """A decimal as a JSON number; text that is no number is passed on for Fortnox to refuse."""
    try:
        number = Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation:
        return value
    return int(number) if number == number.to_integral_value() and "." not in str(value) else float(number)


#: Fortnox reads ``lastmodified`` as Swedish local time (an assumption: the documentation gives no zone).
FORTNOX_TIMEZONE = ZoneInfo("Europe/Stockholm")
LASTMODIFIED_FORMAT = "%Y-%m-%d %H:%M"


def format_lastmodified(since: dt.datetime | dt.date | str) -> str:
    """``since`` as Fortnox's ``lastmodified`` parameter (``YYYY-MM-DD HH:MM``, Swedish time).

    The minute is rounded down, so a poll may see a record again; re-reading it is harmless.
    """
    if isinstance(since, str):
        return since
    if isinstance(since, dt.datetime):
        if since.tzinfo is not None:
            since = since.astimezone(FORTNOX_TIMEZONE).replace(tzinfo=None)
        return since.strftime(LASTMODIFIED_FORMAT)
    return dt.datetime.combine(since, dt.time()).strftime(LASTMODIFIED_FORMAT)


def parse_lastmodified(value: str) -> dt.datetime:
    """The parameter back as a naive Swedish-time datetime; ``ValueError`` when malformed."""
    value = value.strip()
    for pattern in (LASTMODIFIED_FORMAT, "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, pattern)
        except ValueError:
            continue
    raise ValueError(f"not a lastmodified timestamp: {value!r}")
