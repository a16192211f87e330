"""The simulated Fortnox company behind the sandbox: its registers, Fortnox's checks and its event feed.

Records are kept in Fortnox's wire shape (what ``GET /3/<resource>/<id>`` returns, minus ``@url``)
with a private modification stamp each, so ``lastmodified`` can be answered. Every write is checked
the way Fortnox checks it and refused with Fortnox's ``ErrorInformation`` body; every change of a
customer, article, order or invoice adds an event to that topic's feed, as the WebSocket API would.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import pycountry

from ..catalog import Entity, FieldType
from ..sandbox import SandboxError, over_long_values
from ..sandbox_rows import KeyedRows
from .catalog import DOCUMENT_ROWS, NUMBERS_SENT_AS_TEXT, entity_spec
from .client import RESOURCES
from .records import FORTNOX_TIMEZONE

# Codes from Fortnox's published error list.
SYSTEM_EXCEPTION = 1000003
NOT_NUMERIC = 2000108
NOT_BOOLEAN = 2000134
INVALID_LOGIN = 2000310
INVALID_CHARACTERS = 2000359
INVALID_PARAMETER = 2000588
CUSTOMER_NUMBER_USED = 2000637
NO_DATA = 2001392
INVALID_FIELD_NAME = 2001399
JSON_SYNTAX = 2002115
CUSTOMER_NOT_FOUND = 2000433  # seen in answers for a missing customer, not in the list
ARTICLE_NOT_FOUND = 2000428  # "Kan inte hitta artikeln" (the list as mirrored by the fortnox crate, docs.rs)
#: Stand-in for answers whose real code is unknown (see docs/vendors/fortnox.md).
UNKNOWN_CODE = 0

NOT_FOUND_MESSAGES = {
    Entity.ORGANISATION: ("Kan inte hitta kunden.", CUSTOMER_NOT_FOUND),
    Entity.ITEM: ("Kan inte hitta artikeln.", ARTICLE_NOT_FOUND),
    Entity.DELIVERY: ("Kan inte hitta ordern.", UNKNOWN_CODE),
    Entity.INVOICE: ("Kan inte hitta fakturan.", UNKNOWN_CODE),
    Entity.USER: ("Kan inte hitta den anställda.", UNKNOWN_CODE),
}

#: The WebSocket topic of each entity that has one (Fortnox streams no employee changes).
TOPICS = {Entity.ORGANISATION: "customers", Entity.ITEM: "articles", Entity.DELIVERY: "orders",
          Entity.INVOICE: "invoices"}
EVENT_NAMES = {Entity.ORGANISATION: "customer", Entity.ITEM: "article", Entity.DELIVERY: "order",
               Entity.INVOICE: "invoice"}

#: What an invoice made from an order takes over from it (``createinvoice``), header and rows.
ORDER_TO_INVOICE = ("CustomerNumber", "Currency", "YourReference", "OurReference", "Remarks", "Address1", "Address2",
                    "City", "ZipCode", "DeliveryAddress1", "DeliveryAddress2", "DeliveryCity", "DeliveryZipCode",
                    "DeliveryName", "TermsOfPayment", "WayOfDelivery", "TermsOfDelivery", "Project", "CostCenter")
ROW_TO_INVOICE = ("ArticleNumber", "Description", "Price", "Discount", "DiscountType", "VAT", "Unit", "CostCenter",
                  "Project")

#: The fields each list endpoint returns (``fortnox_<X>ListItem``); values typed as text there are noted.
LIST_FIELDS: dict[Entity, tuple[str, ...]] = {
    Entity.ORGANISATION: ("Address1", "Address2", "City", "CustomerNumber", "Email", "Name", "OrganisationNumber",
                          "Phone", "ZipCode"),
    Entity.ITEM: ("ArticleNumber", "Description", "DisposableQuantity", "EAN", "Housework", "PurchasePrice",
                  "QuantityInStock", "ReservedQuantity", "SalesPrice", "StockPlace", "StockValue", "Unit", "VAT",
                  "WebshopArticle"),
    Entity.DELIVERY: ("Cancelled", "Currency", "CustomerName", "CustomerNumber", "DeliveryDate", "DocumentNumber",
                      "ExternalInvoiceReference1", "ExternalInvoiceReference2", "OrderDate", "OrderType", "Project",
                      "Sent", "Total"),
    Entity.INVOICE: ("Balance", "Booked", "Cancelled", "CostCenter", "Currency", "CurrencyRate", "CurrencyUnit",
                     "CustomerName", "CustomerNumber", "DocumentNumber", "DueDate", "ExternalInvoiceReference1",
                     "ExternalInvoiceReference2", "FinalPayDate", "InvoiceDate", "InvoiceType", "NoxFinans", "OCR",
                     "Project", "Sent", "TermsOfPayment", "Total", "VoucherNumber", "VoucherSeries", "VoucherYear",
                     "WayOfDelivery"),
    Entity.USER: ("EmployeeId", "FirstName", "LastName", "FullName", "Email", "Phone1", "JobTitle", "Inactive",
                  "EmploymentDate", "PersonelType"),
}
LIST_TEXT_NUMBERS = {Entity.ITEM: {"DisposableQuantity", "PurchasePrice", "ReservedQuantity", "SalesPrice",
                                   "StockValue", "VAT"}}
NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9_+/\-]+$")


def error_body(message: str, code: int) -> dict[str, Any]:
    """Fortnox's error shape, with the lower-case keys its answers carry."""
    return {"ErrorInformation": {"error": 1, "message": message, "code": code}}


def refuse(message: str, code: int, status: int = 400) -> SandboxError:
    return SandboxError(status, error_body(message, code))


@dataclass
class TopicEvent:
    """One event of the WebSocket feed, in Fortnox's shape."""

    topic: str
    offset: str
    type: str
    tenantId: int  # Fortnox's own key names
    entityId: str
    timestamp: str

    def as_message(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class FortnoxCompany:
    """One tenant's registers. Callers hold the sandbox lock around every method."""

    now: Callable[[], dt.datetime]
    tenant_id: int = 1_234_567
    #: Decides whether one event reaches the feed (the sandbox's drop knob).
    keep_event: Callable[[], bool] = lambda: True
    #: Records by id, each table a :class:`KeyedRows` (sorted by number and filtered through indexes). Records are
    #: never changed in place: every write stores a new dict.
    records: dict[Entity, KeyedRows] = field(default_factory=lambda: {e: KeyedRows() for e in RESOURCES})
    modified: dict[Entity, dict[str, dt.datetime]] = field(default_factory=lambda: {e: {} for e in RESOURCES})
    topics: dict[str, list[TopicEvent]] = field(default_factory=lambda: {t: [] for t in TOPICS.values()})
    emit_events: bool = True

    # -- reads -------------------------------------------------------------------------------
    def get(self, entity: Entity, record_id: str) -> dict[str, Any]:
        try:
            return self.records[entity][record_id]
        except KeyError:
            message, code = NOT_FOUND_MESSAGES[entity]
            raise refuse(message, code, status=404) from None

    def listing(self, entity: Entity, since: dt.datetime | None) -> list[dict[str, Any]]:
        """List items sorted by number, as Fortnox sorts them, changed at or after ``since``."""
        return [self.list_item(entity, self.records[entity][i]) for i in self.listed_ids(entity, since)]

    def listed_ids(self, entity: Entity, since: dt.datetime | None,
                   equal: dict[str, str] | None = None) -> list[str]:
        """The ids :meth:`listing` lists, in its order, of the records whose fields in ``equal`` hold those values
        (compared as text, a missing value as empty); an index on the first field answers it."""
        records, stamps = self.records[entity], self.modified[entity]
        if equal:
            (name, value), *rest = equal.items()
            found = records.where(f"text:{name}", value, lambda record: str(record.get(name) or ""))
            number = entity_spec(entity).id_field
            ids = sorted((str(record[number]) for record in found
                          if all(str(record.get(k) or "") == v for k, v in rest)), key=_number_order)
        else:
            ids = records.keys_sorted("number", _number_order)
            if since is None:
                return ids[:]
        return [i for i in ids if since is None or stamps[i] >= since]

    def list_item(self, entity: Entity, record: dict[str, Any]) -> dict[str, Any]:
        as_text = LIST_TEXT_NUMBERS.get(entity, set())
        item: dict[str, Any] = {}
        for name in LIST_FIELDS[entity]:
            value = record.get("Phone1") if name == "Phone" else record.get(name)
            if value is not None:
                item[name] = str(value) if name in as_text else value
        return item

    # -- writes ------------------------------------------------------------------------------
    def create(self, entity: Entity, body: dict[str, Any]) -> dict[str, Any]:
        values = self._checked(entity, body)
        spec = entity_spec(entity)
        missing = [f.name for f in spec.fields if f.required and values.get(f.name) in (None, "")]
        if missing:
            raise refuse(f"Fältet {missing[0]} måste fyllas i.", UNKNOWN_CODE)
        record_id = str(values.get(spec.id_field) or self._next_number(entity))
        if record_id in self.records[entity]:
            if entity == Entity.ORGANISATION:
                raise refuse(f"Kundnummer {record_id} används redan. Kundnumret har redan använts men blivit "
                             "raderat.", CUSTOMER_NUMBER_USED)
            raise refuse(f"{spec.vendor_name} {record_id} finns redan.", UNKNOWN_CODE)
        record = {**self._defaults(entity), **values, spec.id_field: record_id}
        self._derive(entity, record)
        self._store(entity, record_id, record, "created")
        return record

    def update(self, entity: Entity, record_id: str, body: dict[str, Any]) -> dict[str, Any]:
        record = self.get(entity, record_id)
        if entity == Entity.INVOICE and record.get("Booked"):
            raise refuse("Fakturan är bokförd och kan inte ändras.", UNKNOWN_CODE)
        if entity in (Entity.INVOICE, Entity.DELIVERY) and record.get("Cancelled"):
            raise refuse("Dokumentet är makulerat och kan inte ändras.", UNKNOWN_CODE)
        values = self._checked(entity, body)
        values.pop(entity_spec(entity).id_field, None)
        updated = {**record, **{key: {**record.get(key, {}), **value} if isinstance(value, dict) else value
                                for key, value in values.items()}}
        self._derive(entity, updated)
        self._store(entity, record_id, updated, "updated")
        return updated

    def delete(self, entity: Entity, record_id: str) -> None:
        self.get(entity, record_id)
        del self.records[entity][record_id]
        del self.modified[entity][record_id]
        self._emit(entity, record_id, "deleted")

    def cancel(self, entity: Entity, record_id: str) -> dict[str, Any]:
        record = self.get(entity, record_id)
        if record.get("Booked"):
            raise refuse("Fakturan är bokförd och kan inte makuleras.", UNKNOWN_CODE)
        record = {**record, "Cancelled": True}
        self._store(entity, record_id, record, "cancelled")
        return record

    def create_invoice_from_order(self, order_number: str) -> dict[str, Any]:
        """``PUT /3/orders/{n}/createinvoice``: an invoice with the order's customer, references and rows.

        The order keeps the invoice's number in ``InvoiceReference``; an order already invoiced (or
        cancelled) is refused, so one order never becomes two invoices.
        """
        order = self.get(Entity.DELIVERY, order_number)
        if order.get("Cancelled"):
            raise refuse("Ordern är makulerad och kan inte faktureras.", UNKNOWN_CODE)
        if str(order.get("InvoiceReference") or "0") not in ("", "0"):
            raise refuse(f"Ordern är redan fakturerad (faktura {order['InvoiceReference']}).", UNKNOWN_CODE)
        header = {name: order[name] for name in ORDER_TO_INVOICE if order.get(name) not in (None, "")}
        rows = [{**{name: row[name] for name in ROW_TO_INVOICE if row.get(name) not in (None, "")},
                 # Fortnox invoices what was delivered; an order row without a delivered quantity invoices its order.
                 "DeliveredQuantity": row.get("DeliveredQuantity") if _decimal(row.get("DeliveredQuantity"))
                 else row.get("OrderedQuantity")}
                for row in order.get("OrderRows") or []]
        number = str(self._next_number(Entity.INVOICE))
        values = self._checked(Entity.INVOICE, {**header, "InvoiceRows": rows})  # typed as invoices type them
        invoice = {**self._defaults(Entity.INVOICE), **values, "DocumentNumber": number, "OrderReference": order_number}
        self._derive(Entity.INVOICE, invoice)
        self._store(Entity.INVOICE, number, invoice, "created")
        self._store(Entity.DELIVERY, order_number, {**order, "InvoiceReference": number}, "updated")
        return invoice

    def bookkeep(self, record_id: str) -> dict[str, Any]:
        record = self.get(Entity.INVOICE, record_id)
        if record.get("Cancelled"):
            raise refuse("Fakturan är makulerad och kan inte bokföras.", UNKNOWN_CODE)
        record = {**record, "Booked": True}
        self._store(Entity.INVOICE, record_id, record, "bookkeep")
        return record

    def put(self, entity: Entity, record: dict[str, Any], *, modified: dt.datetime | None = None) -> None:
        """Store a complete record as is (demo seeding and tests), without checks or events."""
        record_id = str(record[entity_spec(entity).id_field])
        self._derive(entity, record)
        self.records[entity][record_id] = record
        self.modified[entity][record_id] = modified or self.now()

    # -- Fortnox's checks --------------------------------------------------------------------
    def _checked(self, entity: Entity, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not body:
            raise refuse("Ingen eller felaktig typ av data.", NO_DATA)
        spec = entity_spec(entity)
        rows_key, row_entity = DOCUMENT_ROWS.get(entity, (None, None))
        values: dict[str, Any] = {}
        for name, value in body.items():
            if name == rows_key and row_entity is not None:
                if not isinstance(value, list):
                    raise refuse("Ingen eller felaktig typ av data.", NO_DATA)
                values[name] = [self._checked(row_entity, row) if row else {} for row in value]
                continue
            if isinstance(value, dict):
                nested = self._checked_fields(entity, {f"{name}.{key}": inner for key, inner in value.items()})
                if nested:
                    values[name] = {key.split(".", 1)[1]: inner for key, inner in nested.items()}
                continue
            values.update(self._checked_fields(entity, {name: value}))
        for too_long in over_long_values(values, spec.fields)[:1]:
            raise refuse(f"Värdet för {too_long.name} är för långt ({too_long.length} tecken, högst "
                         f"{too_long.limit}).", UNKNOWN_CODE)
        number = values.get(spec.id_field)
        if entity in (Entity.ORGANISATION, Entity.ITEM) and number and not NUMBER_PATTERN.match(str(number)):
            raise refuse(f"Värdet innehåller ej tillåtna tecken. ({number})", INVALID_CHARACTERS)
        return values

    def _checked_fields(self, entity: Entity, fields: dict[str, Any]) -> dict[str, Any]:
        spec = entity_spec(entity)
        as_text = NUMBERS_SENT_AS_TEXT.get(entity, frozenset())
        checked: dict[str, Any] = {}
        for name, value in fields.items():
            field_spec = spec.field(name)
            if field_spec is None:
                raise refuse(f"Felaktigt fältnamn ({name})", INVALID_FIELD_NAME)
            if field_spec.read_only:
                continue  # Fortnox keeps its own value
            checked[name] = _country_checked(_typed(value, field_spec.type, name in as_text), field_spec.value_kind)
        return checked

    # -- what Fortnox works out itself -------------------------------------------------------
    def _defaults(self, entity: Entity) -> dict[str, Any]:
        today = self.now().date()
        if entity == Entity.ORGANISATION:
            return {"Active": True, "Type": "COMPANY", "Currency": "SEK", "CountryCode": "SE"}
        if entity == Entity.ITEM:
            return {"Active": True, "Type": "STOCK", "VAT": 25.0, "Unit": "st"}
        if entity == Entity.DELIVERY:
            return {"OrderDate": today.isoformat(), "Currency": "SEK", "OrderType": "Order", "Cancelled": False,
                    "Sent": False, "OrderRows": []}
        if entity == Entity.INVOICE:
            return {"InvoiceDate": today.isoformat(), "DueDate": (today + dt.timedelta(days=30)).isoformat(),
                    "Currency": "SEK", "CurrencyUnit": 1, "InvoiceType": "INVOICE", "Booked": False,
                    "Cancelled": False, "Sent": False, "InvoiceRows": []}
        if entity == Entity.USER:
            return {"Inactive": False}
        return {}

    def _derive(self, entity: Entity, record: dict[str, Any]) -> None:
        """Names, row ids and totals Fortnox fills in (computed with decimals, stored as numbers)."""
        if entity in (Entity.DELIVERY, Entity.INVOICE):
            customer = self.records[Entity.ORGANISATION].get(str(record.get("CustomerNumber")), {})
            record.setdefault("CustomerName", customer.get("Name", ""))
            record.setdefault("OrganisationNumber", customer.get("OrganisationNumber", ""))
            _document_totals(entity, record)
        if entity == Entity.USER:
            record["FullName"] = f"{record.get('FirstName', '')} {record.get('LastName', '')}".strip()
        if entity == Entity.ORGANISATION:
            for code_field, name_field in (("CountryCode", "Country"), ("DeliveryCountryCode", "DeliveryCountry"),
                                           ("VisitingCountryCode", "VisitingCountry")):
                if record.get(code_field):  # the customer's country names are Fortnox's own, from the codes
                    record[name_field] = fortnox_country_name(record[code_field])

    def _store(self, entity: Entity, record_id: str, record: dict[str, Any], verb: str) -> None:
        self.records[entity][record_id] = record
        self.modified[entity][record_id] = self.now()
        self._emit(entity, record_id, verb)

    def _emit(self, entity: Entity, record_id: str, verb: str) -> None:
        topic = TOPICS.get(entity)
        if topic is None or not self.emit_events or not self.keep_event():
            return
        feed = self.topics[topic]
        feed.append(TopicEvent(topic=topic, offset=str(len(feed) + 1), type=f"{EVENT_NAMES[entity]}-{verb}-v1",
                               tenantId=self.tenant_id, entityId=record_id,
                               timestamp=self.now().replace(tzinfo=FORTNOX_TIMEZONE).isoformat(timespec="milliseconds")))

    def _next_number(self, entity: Entity) -> int:
        """One more than the highest all-digit number of ``entity`` (1 for none)."""
        ids = self.records[entity].keys_sorted("number", _number_order)
        digits = bisect.bisect_left(ids, (1, 0, ""), key=_number_order)  # all-digit numbers sort first
        return int(ids[digits - 1]) + 1 if digits else 1


def _typed(value: Any, type_: FieldType, as_text: bool) -> Any:
    """A written value checked and stored as the description types it, or Fortnox's refusal."""
    if value is None:
        return None
    if type_ == FieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise refuse(f"Värdet måste vara en boolean ({value})", NOT_BOOLEAN)
        return value
    if type_ in (FieldType.DECIMAL, FieldType.INTEGER):
        if isinstance(value, bool):
            raise refuse(f"Värdet måste vara numeriskt ({value})", NOT_NUMERIC)
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise refuse(f"Värdet måste vara numeriskt ({value})", NOT_NUMERIC) from None
        if as_text:
            return format(number, "f")
        if type_ == FieldType.INTEGER:
            if number != number.to_integral_value():
                raise refuse(f"Värdet måste vara numeriskt ({value})", NOT_NUMERIC)
            return int(number)
        return float(number)
    if not isinstance(value, str):
        return str(value)
    return value


#: Countries whose English short name Fortnox does not take, and the name it does (docs/vendors/fortnox.md).
FORTNOX_NAMES = {"SE": "Sverige", "CZ": "Czech Republic"}


def fortnox_country_name(code: str) -> str:
    """The name Fortnox keeps for a country: English, but "Sverige" for Sweden."""
    return FORTNOX_NAMES.get(code.upper()) or pycountry.countries.get(alpha_2=code.upper()).name


@cache
def _known_country_names() -> frozenset[str]:
    names = {fortnox_country_name(c.alpha_2).casefold() for c in pycountry.countries}
    return frozenset(names | {getattr(c, "common_name", c.name).casefold() for c in pycountry.countries
                              if c.alpha_2 not in FORTNOX_NAMES})


def _country_checked(value: Any, kind: str) -> Any:
    """A country code or name as Fortnox takes it, or its refusal ("Ogiltig landskod: SVERIGE").

    Codes must be ISO 3166-1 alpha-2; names must be on Fortnox's list, which has "Sverige" but not "Sweden".
    """
    if value in (None, "") or kind not in ("country_code", "country_name_en"):
        return value
    text = str(value).strip()
    if kind == "country_code":
        if len(text) != 2 or pycountry.countries.get(alpha_2=text.upper()) is None:
            raise refuse(f"Ogiltig landskod: {text.upper()}", UNKNOWN_CODE)
        return text.upper()
    if text.casefold() not in _known_country_names():
        raise refuse(f"Ogiltigt land: {text}", UNKNOWN_CODE)
    return text


def _document_totals(entity: Entity, record: dict[str, Any]) -> None:
    rows_key = DOCUMENT_ROWS[entity][0]
    quantity_key = "OrderedQuantity" if entity == Entity.DELIVERY else "DeliveredQuantity"
    net = vat = Decimal(0)
    for number, row in enumerate(record.get(rows_key) or [], start=1):
        row.setdefault("RowId", number)
        quantity = _decimal(row.get(quantity_key) or row.get("DeliveredQuantity"))
        price, discount = _decimal(row.get("Price")), _decimal(row.get("Discount"))
        gross = quantity * price
        total = gross - discount if row.get("DiscountType") == "AMOUNT" else gross * (1 - discount / 100)
        total = total.quantize(Decimal("0.01"))
        row["Total"] = float(total)
        net += total
        vat += total * _decimal(row.get("VAT", 25)) / 100
        if entity == Entity.INVOICE:
            row["TotalExcludingVAT"] = float(total)
            row["PriceExcludingVAT"] = float(price)
    vat = vat.quantize(Decimal("0.01"))
    record.update({"Net": float(net), "Gross": float(net), "TotalVAT": float(vat), "Total": float(net + vat),
                   "RoundOff": 0.0})
    if entity == Entity.INVOICE:
        record["TotalToPay"] = float(net + vat)
        if not record.get("Booked") or "Balance" not in record:
            record["Balance"] = float(net + vat)  # open until booked and paid


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _number_order(record_id: str) -> tuple[int, int, str]:
    return (0, int(record_id), "") if record_id.isdigit() else (1, 0, record_id)


def feed_after(feed: Iterable[TopicEvent], offset: str | None) -> list[dict[str, Any]]:
    """The events after ``offset`` (all when None), oldest first."""
    after = int(offset) if offset else 0
    return [event.as_message() for event in feed if int(event.offset) > after]
