"""The Visma.net sandbox's company data: records kept in the read-DTO shape, written with update DTOs.

Holds the rules the real ERP applies on write that a sync must live with: numbering series, required
fields, references that must exist (customer, inventory item, business account), line operations
keyed by line number, totals computed in decimals, and released invoices that can no longer change.
Not thread-safe by itself: the sandbox calls it under its lock.
"""

from __future__ import annotations

import copy
import functools
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import pycountry

from ..catalog import Entity
from ..sandbox import over_long_values
from . import dto
from .catalog import vismanet_catalog

VAT_RATE = Decimal("0.25")
CENT = Decimal("0.01")
RELEASED_INVOICE_STATUSES = frozenset({"Open", "Closed", "Voided", "Scheduled", "PendingPrint", "PendingEmail"})
CLOSED_ORDER_STATUSES = frozenset({"Completed", "Invoiced", "Cancelled"})
VAT_ZONES = {"01": "Domestic", "02": "EU", "03": "Outside EU"}


class StoreError(Exception):
    """A refusal the sandbox answers with Visma.net's IPPException body."""

    def __init__(self, message: str, *, status: int = 400, fault_code: str = "12000"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.fault_code = fault_code


@dataclass
class Ledger:
    """One resource's records by id, in creation order, with its numbering series."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_number: int = 1


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def parse_stamp(value: str) -> datetime:
    """Visma accepts dates and date-times; an offset or ``Z`` is converted to naive UTC."""
    text = value.strip().replace(" ", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


@functools.lru_cache(maxsize=262_144)
def _row_moment(value: str) -> datetime:
    """:func:`parse_stamp` of a stored ``lastModifiedDateTime``, each text parsed once (a list filtered by change
    time compares every row's stamp)."""
    return parse_stamp(value)


def decimal(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise StoreError(f"Error: '{name}' is not a valid number.") from None


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_json(value: Any) -> Any:
    """Deep copy with Decimals as JSON numbers."""
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return dto.jsonable(value)


def _merge(target: dict[str, Any], changes: Mapping[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


class VismaNetStore:
    """Customers, contacts, inventory, sales orders, customer invoices and employees of one company."""

    def __init__(self, now: Callable[[], datetime]):
        self.now = now
        self.ledgers: dict[Entity, Ledger] = {entity: Ledger() for entity in dto.RESOURCES}
        self.ledgers[Entity.ORGANISATION].next_number = 10001
        self.ledgers[Entity.ITEM].next_number = 1001
        self.ledgers[Entity.INVOICE].next_number = 100001
        self._internal_ids: dict[Entity, int] = {}

    # -- reading --------------------------------------------------------------------------------
    def get(self, entity: Entity, record_id: str) -> dict[str, Any]:
        row = self.ledgers[entity].rows.get(str(record_id))
        if row is None:
            noun = {Entity.ORGANISATION: "Customer", Entity.PERSON: "Contact", Entity.ITEM: "Inventory item",
                    Entity.DELIVERY: "Sales order", Entity.INVOICE: "Invoice", Entity.USER: "Employee"}[entity]
            raise StoreError(f"{noun} {record_id} not found.", status=404, fault_code="12001")
        return row

    def select(self, entity: Entity, *, modified: tuple[str, datetime] | None = None,
               filters: Mapping[str, str] | None = None) -> Iterator[dict[str, Any]]:
        rows = self.ledgers[entity].rows.values()
        if modified is None and not filters:
            yield from rows
            return
        if modified is not None:
            compare, reference = _COMPARISONS.get(modified[0], operator.gt), modified[1]
        for row in rows:
            if modified is not None and not compare(_row_moment(row["lastModifiedDateTime"]), reference):
                continue
            if filters and any(str(_dig(row, key)) != value for key, value in filters.items()):
                continue
            yield row

    # -- writing --------------------------------------------------------------------------------
    def create(self, entity: Entity, body: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(body, Mapping):
            raise StoreError("The request body must be a JSON object.")
        self._check_lengths(entity, body)
        row: dict[str, Any] = {}
        getattr(self, f"_write_{entity.value}")(row, body, creating=True)
        return row

    def update(self, entity: Entity, record_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(body, Mapping):
            raise StoreError("The request body must be a JSON object.")
        row = self.get(entity, record_id)
        self._check_lengths(entity, body)
        draft = copy.deepcopy(row)
        getattr(self, f"_write_{entity.value}")(draft, body, creating=False)
        row.clear()
        row.update(draft)
        return row

    def _check_lengths(self, entity: Entity, body: Mapping[str, Any]) -> None:
        """Text longer than the catalog's limit for its field is refused, in the IPPException shape."""
        spec = vismanet_catalog().entity(entity)
        flat = {dto.read_name(entity, name): value for name, value in dto.unwrap(body).items()}
        for too_long in over_long_values(flat, spec.fields if spec else ())[:1]:
            raise StoreError(f"Error: '{too_long.name}' may be at most {too_long.limit} characters long "
                             f"(it is {too_long.length}).")

    def insert(self, entity: Entity, record_id: str, row: dict[str, Any]) -> dict[str, Any]:
        """Keep a finished row (used by the writers and by the demo seed)."""
        now = stamp(self.now())
        if entity in (Entity.ORGANISATION, Entity.INVOICE):
            row.setdefault("createdDateTime", now)
        row["lastModifiedDateTime"] = now
        self.ledgers[entity].rows[str(record_id)] = row
        return row

    def _internal_id(self, entity: Entity) -> int:
        self._internal_ids[entity] = self._internal_ids.get(entity, 0) + 1
        return self._internal_ids[entity]

    def _number(self, entity: Entity, width: int = 0) -> str:
        ledger = self.ledgers[entity]
        while True:
            value = str(ledger.next_number).zfill(width)
            ledger.next_number += 1
            if value not in ledger.rows:
                return value

    def _changes(self, entity: Entity, body: Mapping[str, Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
        flat = {dto.read_name(entity, k): v for k, v in dto.unwrap(body).items() if k not in skip}
        return dto.nest(flat)

    def _write_organisation(self, row: dict[str, Any], body: Mapping[str, Any], *, creating: bool) -> None:
        changes = self._changes(Entity.ORGANISATION, body, skip=("overrideWithClassValues",))
        number = changes.pop("number", None)
        rows = self.ledgers[Entity.ORGANISATION].rows
        if creating:
            number = str(number) if number else self._number(Entity.ORGANISATION)
            if number in rows:
                raise StoreError(f"Error: A customer with the number {number} already exists.")
            row.update({"internalId": self._internal_id(Entity.ORGANISATION), "number": number,
                        "status": "Active", "currencyId": "DKK"})
        elif number and str(number) != row["number"]:
            raise StoreError("Error: The customer number cannot be changed through the API.")
        _merge(row, changes)
        if not row.get("name"):
            raise StoreError("Error: 'Name' cannot be empty.")
        _check_choice(row, "status", ("Active", "OnHold", "CreditHold", "Inactive", "OneTime"))
        for address in ("mainAddress", "invoiceAddress", "deliveryAddress"):
            country = (row.get(address) or {}).get("country") or {}
            if country.get("id"):
                # Visma.net's countries are ISO 3166-1 alpha-2 ids with an English name; others are not found.
                known = pycountry.countries.get(alpha_2=str(country["id"])) if len(str(country["id"])) == 2 else None
                if known is None:
                    raise StoreError(f"Error: Country '{country['id']}' cannot be found in the system.")
                country["name"] = known.name
        zone = row.get("vatZone") or {}
        if zone.get("id"):
            if zone["id"] not in VAT_ZONES:
                raise StoreError(f"Error: VAT zone '{zone['id']}' cannot be found in the system.")
            zone["description"] = VAT_ZONES[zone["id"]]
        if "creditLimit" in row and row["creditLimit"] is not None:
            row["creditLimit"] = decimal(row["creditLimit"], "creditLimit")
        self.insert(Entity.ORGANISATION, row["number"], row)

    def _write_person(self, row: dict[str, Any], body: Mapping[str, Any], *, creating: bool) -> None:
        changes = self._changes(Entity.PERSON, body)
        if creating:
            row.update({"contactId": self._internal_id(Entity.PERSON) + 100, "active": True})
        _merge(row, changes)
        if not row.get("lastName"):
            raise StoreError("Error: 'Last Name' cannot be empty.")
        account = row.get("businessAccount")
        if account and str(account) not in self.ledgers[Entity.ORGANISATION].rows:
            raise StoreError(f"Error: Business account '{account}' cannot be found in the system.")
        row["displayName"] = " ".join(p for p in (row.get("firstName"), row.get("lastName")) if p)
        self.insert(Entity.PERSON, str(row["contactId"]), row)

    def _write_item(self, row: dict[str, Any], body: Mapping[str, Any], *, creating: bool) -> None:
        changes = self._changes(Entity.ITEM, body)
        number = changes.pop("inventoryNumber", None)
        if creating:
            number = str(number or self._number(Entity.ITEM))
            if number in self.ledgers[Entity.ITEM].rows:
                raise StoreError(f"Error: An inventory item with the number {number} already exists.")
            row.update({"inventoryId": self._internal_id(Entity.ITEM), "inventoryNumber": number,
                        "status": "Active", "type": "FinishedGoodItem", "baseUnit": "STK"})
        elif number and str(number) != row["inventoryNumber"]:
            raise StoreError("Error: The inventory number cannot be changed through the API.")
        _merge(row, changes)
        if not row.get("description"):
            raise StoreError("Error: 'Description' cannot be empty.")
        _check_choice(row, "status", ("Active", "NoSales", "NoPurchases", "NoRequest", "Inactive",
                                      "MarkedForDeletion"))
        if row.get("defaultPrice") is not None:
            row["defaultPrice"] = money(decimal(row["defaultPrice"], "defaultPrice"))
        self.insert(Entity.ITEM, row["inventoryNumber"], row)

    def _customer_ref(self, number: Any) -> dict[str, Any]:
        customer = self.ledgers[Entity.ORGANISATION].rows.get(str(number))
        if customer is None:
            raise StoreError(f"Error: Customer '{number}' cannot be found in the system.")
        return {"internalId": customer["internalId"], "number": customer["number"], "name": customer["name"]}

    def _document_customer(self, customer: Mapping[str, Any] | None, *, creating: bool) -> dict[str, Any] | None:
        """The customer a document names, which a new one must; None when a change leaves it alone."""
        if customer is None and not creating:
            return None
        number = (customer or {}).get("number")
        if not number:
            raise StoreError("Error: 'Customer' cannot be empty.")
        return self._customer_ref(number)

    def _customer_currency(self, customer: Mapping[str, Any]) -> Any:
        return self.ledgers[Entity.ORGANISATION].rows[str(customer["number"])].get("currencyId")

    def _write_delivery(self, row: dict[str, Any], body: Mapping[str, Any], *, creating: bool) -> None:
        lines = body.get("lines")
        changes = self._changes(Entity.DELIVERY, {k: v for k, v in body.items() if k != "lines"},
                                skip=("recalculateShipment",))
        if not creating and row.get("status") in CLOSED_ORDER_STATUSES:
            raise StoreError(f"Error: Sales order {row['orderNo']} is {row['status'].lower()} and cannot be changed.")
        if creating:
            number = (changes.pop("orderNo", None) or self._number(Entity.DELIVERY, 6))
            if str(number) in self.ledgers[Entity.DELIVERY].rows:
                raise StoreError(f"Error: Sales order {number} already exists.")
            row.update({"orderType": "SO", "orderNo": str(number), "status": "Open", "hold": False,
                        "date": stamp(self.now()), "lines": []})
        else:
            changes.pop("orderNo", None)
        customer = self._document_customer(changes.pop("customer", None), creating=creating)
        _merge(row, changes)
        if customer is not None:
            row["customer"] = customer
            row.setdefault("currency", self._customer_currency(customer))
        if lines is not None:
            self._apply_lines(Entity.DELIVERY, row, lines)
        if row.get("canceled"):
            row["status"] = "Cancelled"
        elif row.get("hold"):
            row["status"] = "Hold"
        elif creating or row.get("status") == "Hold":
            row["status"] = "Open"
        _order_totals(row)
        self.insert(Entity.DELIVERY, row["orderNo"], row)

    def _write_invoice(self, row: dict[str, Any], body: Mapping[str, Any], *, creating: bool) -> None:
        lines = body.get("invoiceLines")
        changes = self._changes(Entity.INVOICE, {k: v for k, v in body.items() if k != "invoiceLines"})
        if not creating and row.get("status") in RELEASED_INVOICE_STATUSES:
            raise StoreError(f"Error: Invoice {row['referenceNumber']} is released and cannot be changed.")
        if creating:
            now = self.now()
            number = changes.pop("referenceNumber", None) or self._number(Entity.INVOICE)
            row.update({"referenceNumber": str(number), "documentType": "Invoice", "status": "Balanced",
                        "hold": False, "documentDate": stamp(now),
                        "documentDueDate": stamp(now + timedelta(days=14)), "invoiceLines": []})
        else:
            changes.pop("referenceNumber", None)
        customer = self._document_customer(changes.pop("customer", None), creating=creating)
        _merge(row, changes)
        if customer is not None:
            row["customer"] = {k: v for k, v in customer.items() if k != "internalId"}
            row.setdefault("currencyId", self._customer_currency(customer))
        if lines is not None:
            self._apply_lines(Entity.INVOICE, row, lines)
        row["status"] = "Hold" if row.get("hold") else "Balanced"
        _invoice_totals(row)
        self.insert(Entity.INVOICE, row["referenceNumber"], row)

    def release_invoice(self, reference: str, *, paid: bool = False) -> dict[str, Any]:
        """What the ERP's Release action does: the invoice is booked (Open), or Closed once paid."""
        row = self.get(Entity.INVOICE, reference)
        row["status"] = "Closed" if paid else "Open"
        if paid:
            row["balance"] = Decimal("0.00")
        return self.insert(Entity.INVOICE, reference, row)

    def _apply_lines(self, entity: Entity, row: dict[str, Any], operations: Any) -> None:
        if not isinstance(operations, list):
            raise StoreError("Error: Lines must be a list.")
        key = dto.LINE_LISTS[entity]
        number_field = dto.LINE_NUMBERS[entity]
        lines: list[dict[str, Any]] = row.setdefault(key, [])
        for operation in operations:
            kind = operation.get("operation", "Insert")
            fields = {k: v for k, v in operation.items() if k != "operation"}
            changes = dto.nest({dto.read_name(entity, k, line=True): v for k, v in dto.unwrap(fields).items()})
            number = changes.pop(number_field, None)
            if kind == "Insert":
                line = {number_field: max((ln[number_field] for ln in lines), default=0) + 1}
                lines.append(line)
            else:
                found = [ln for ln in lines if str(ln[number_field]) == str(number)]
                if not found:
                    raise StoreError(f"Error: Line {number} cannot be found on the document.")
                line = found[0]
                if kind == "Delete":
                    lines.remove(line)
                    continue
                if kind != "Update":
                    raise StoreError(f"Error: Unknown line operation '{kind}'.")
            _merge(line, changes)
            self._complete_line(entity, line)

    def _complete_line(self, entity: Entity, line: dict[str, Any]) -> None:
        items = self.ledgers[Entity.ITEM].rows
        if entity == Entity.DELIVERY:
            number = (line.get("inventory") or {}).get("number")
            item = items.get(str(number)) if number else None
            if item is None:
                raise StoreError(f"Error: Inventory item '{number}' cannot be found in the system.")
            line["inventory"] = {"number": item["inventoryNumber"], "description": item["description"]}
            line.setdefault("lineDescription", item["description"])
            line.setdefault("uom", item.get("baseUnit", "STK"))
            price_key = "unitPrice"
        else:
            number = line.get("inventoryNumber")
            if number and str(number) not in items:
                raise StoreError(f"Error: Inventory item '{number}' cannot be found in the system.")
            item = items.get(str(number)) if number else None
            if item is not None:
                line.setdefault("description", item["description"])
            if line.get("unitPriceInCurrency") is not None:
                line["unitPrice"] = line["unitPriceInCurrency"]
            price_key = "unitPrice"
        if line.get("quantity") is None:
            raise StoreError("Error: 'Quantity' cannot be empty.")
        if line.get(price_key) is None:
            line[price_key] = (item or {}).get("defaultPrice") or Decimal("0")
        quantity = decimal(line["quantity"], "quantity")
        price = decimal(line[price_key], price_key)
        percent = decimal(line.get("discountPercent") or 0, "discountPercent")
        gross = quantity * price
        discount = money(gross * percent / 100)
        line.update({"quantity": quantity, price_key: price, "discountPercent": percent, "discountAmount": discount})
        if entity == Entity.DELIVERY:
            line["extPrice"] = money(gross - discount)
        else:
            line["unitPriceInCurrency"] = price
            line["amount"] = money(gross - discount)
            line.setdefault("vatCode", {"id": "3", "description": "Utgående mva, høy sats"})


def _order_totals(row: dict[str, Any]) -> None:
    taxable = sum((line["extPrice"] for line in row.get("lines", [])), Decimal("0.00"))
    tax = money(taxable * VAT_RATE)
    row.update({"vatTaxableTotal": taxable, "vatExemptTotal": Decimal("0.00"), "taxTotal": tax,
                "orderTotal": money(taxable + tax)})


def _invoice_totals(row: dict[str, Any]) -> None:
    detail = sum((line["amount"] for line in row.get("invoiceLines", [])), Decimal("0.00"))
    vat = money(detail * VAT_RATE)
    amount = money(detail + vat)
    row.update({"detailTotal": detail, "vatTaxableTotal": detail, "vatExemptTotal": Decimal("0.00"),
                "vatTotal": vat, "amount": amount, "amountInCurrency": amount, "balance": amount,
                "balanceInCurrency": amount})


def _check_choice(row: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> None:
    value = row.get(name)
    if value is not None and value not in choices:
        raise StoreError(f"Error: '{value}' is not a valid value for '{name}'.")


#: The ``lastModifiedDateTimeCondition`` values as comparisons (an unknown one compares as ``>``).
_COMPARISONS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def _dig(row: Mapping[str, Any], dotted: str) -> Any:
    node: Any = row
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node
