"""One simulated Uniconta company: its tables, number series, user fields and the rules Uniconta enforces.

Rows are kept with Python values (``Decimal`` amounts, ISO timestamps) and handed to the WSGI layer,
which serialises them the way the REST face does (null properties left out). Every change is
returned as a :class:`Change` so the app can call the change URLs once the company lock is released.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from ..sandbox import Table, over_long_values
from .catalog import POS_VARIANT_USER_FIELDS
from .sandbox_odata import as_datetime, index_hint
from .sandbox_tables import (
    DATA_MODEL,
    TABLES,
    VAT_RATE,
    Change,
    Row,
    UnicontaFault,
    coerce,
    dec,
    money,
    utcnow,
)


@dataclass
class UnicontaCompany:
    """The data of one company and the rules Uniconta applies when it is written."""

    company_id: str
    name: str = "Nordlys Handel A/S"
    tables: dict[str, Table] = field(default_factory=lambda: {name: Table() for name in TABLES})
    #: User-defined fields per DataModel table (Company → User fields).
    user_fields: dict[str, set[str]] = field(default_factory=lambda: {"InvItem": set(POS_VARIANT_USER_FIELDS)})
    series: dict[str, int] = field(default_factory=lambda: {"Account": 10001, "OrderNumber": 1,
                                                            "InvoiceNumber": 100001, "JournalPostedId": 1})
    clock: Callable[[], datetime] = field(default_factory=lambda: utcnow)
    _last_stamp: datetime = datetime.min

    def __post_init__(self) -> None:
        for journal, name in (("POS", "Kassekladde POS"), ("Dag", "Daglig kladde")):
            self._store("GLDailyJournalClient", {"Journal": journal, "Name": name})

    # -- reading -----------------------------------------------------------------------------------
    def rows(self, vendor_name: str) -> list[Row]:
        return list(self.tables[vendor_name].rows.values())

    def find(self, vendor_name: str, **match: Any) -> Row | None:
        """The first row (by insertion) whose fields equal ``match``; an index on the first field answers it."""
        return self.tables[vendor_name].rows.first(match)

    def touched(self, vendor_name: str, row: Row) -> None:
        """Tell the table's indexes that ``row`` was changed in place."""
        self.tables[vendor_name].rows.touch(str(row["RowId"]))

    def read(self, vendor_name: str, odata_filter: str | None = None) -> list[Row]:
        """The rows a ``$filter`` (already parsed) can keep, in insertion order: those an index gives for its first
        comparison (``sandbox_odata.index_hint``), else every row. The caller still applies the whole filter."""
        hint = index_hint(odata_filter)
        if hint is None:
            return self.rows(vendor_name)
        kind, name, text = hint
        rows = self.tables[vendor_name].rows
        if kind == "number-equal":
            found = rows.where(f"number:{name}", Decimal(text), lambda row: _number(row.get(name)))
            if rows.where(f"number:{name}", NOT_A_NUMBER, lambda row: _number(row.get(name))):
                return self.rows(vendor_name)  # a row the comparison refuses: read all, and refuse as before
            return found
        if kind == "equal":
            return rows.where(f"text:{name}", text, lambda row: None if row.get(name) is None else str(row[name]))
        return rows.starting(f"lower:{name}", text,
                             lambda row: None if row.get(name) is None else str(row[name]).lower())

    def page_by_row_id(self, vendor_name: str, skip: int, size: int) -> tuple[list[Row], int]:
        """Copies of the rows ``skip`` to ``skip + size`` by RowId, and how many rows the table has."""
        rows = self.tables[vendor_name].rows
        keys = rows.keys_sorted("id", int)
        return [dict(rows[key]) for key in keys[skip:skip + size]], len(keys)

    def where(self, vendor_name: str, name: str, value: Any) -> list[Row]:
        """Every row whose ``name`` equals ``value``, in insertion order (an index on the field)."""
        return self.tables[vendor_name].rows.equal(name, value)

    def fields_of(self, vendor_name: str) -> set[str]:
        table = TABLES[vendor_name]
        return table.field_names | (self.user_fields.get(DATA_MODEL[vendor_name], set()) if table.user_fields
                                    else set())

    # -- the generic write path ----------------------------------------------------------------------
    def now(self) -> str:
        stamp = self.clock()
        if stamp <= self._last_stamp:  # strictly increasing, so "changed since" never misses a row
            stamp = self._last_stamp + timedelta(microseconds=1)
        self._last_stamp = stamp
        return stamp.isoformat(timespec="microseconds")

    def _store(self, vendor_name: str, row: Row) -> Row:
        table = self.tables[vendor_name]
        row["RowId"] = table.new_id()
        table.rows[str(row["RowId"])] = row
        return row

    def _clean(self, vendor_name: str, body: Any, *, for_insert: bool) -> Row:
        """The writable values of a request body, checked the way Uniconta checks them."""
        table = TABLES[vendor_name]
        if not table.writable:
            raise UnicontaFault(400, f"{vendor_name} cannot be written through the API", "NoRightsToInsert")
        if not isinstance(body, dict):
            raise UnicontaFault(400, f"A {vendor_name} object is expected")
        defined = self.fields_of(vendor_name)
        values: Row = {}
        for name, value in body.items():
            spec = table.spec(name)
            if name not in defined:
                if name.startswith("x") and table.user_fields:
                    raise UnicontaFault(400, f"The user field {name} does not exist in Uniconta table "
                                             f"{DATA_MODEL[vendor_name]}", "UnknownField")
                raise UnicontaFault(400, f"The field {name} does not exist on {vendor_name}", "UnknownField")
            if spec is not None and spec.read_only:
                continue  # what only Uniconta sets is ignored on the way in
            values[name] = coerce(spec, value) if spec else (None if value is None else str(value))
        for too_long in over_long_values(values, table.fields)[:1]:
            raise UnicontaFault(400, f"The value of {too_long.name} is {too_long.length} characters long; "
                                     f"{vendor_name}.{too_long.name} holds at most {too_long.limit}")
        for spec in table.fields:
            if spec.required and values.get(spec.name) in (None, "") and (for_insert or spec.name in body):
                raise UnicontaFault(400, f"{spec.label or spec.name} ({spec.name}) cannot be blank",
                                    "FieldCannotBeBlank")
        return values

    def insert(self, vendor_name: str, body: Any) -> tuple[Row, list[Change]]:
        values = self._clean(vendor_name, body, for_insert=True)
        hook = getattr(self, f"_before_{DATA_MODEL[vendor_name]}", None)
        if hook:
            hook(values, None)
        self._check_key(vendor_name, values, None)
        if "UpdatedAt" in TABLES[vendor_name].field_names:
            values["UpdatedAt"] = self.now()
        if "Created" in TABLES[vendor_name].field_names:
            values["Created"] = values.get("UpdatedAt") or self.now()
        row = self._store(vendor_name, values)
        return row, [Change(vendor_name, "Insert", dict(row)), *self._after_write(vendor_name, row)]

    def locate(self, vendor_name: str, body: Any) -> Row:
        """The row a write addresses: by RowId, else by the table's key."""
        table, rows = TABLES[vendor_name], self.tables[vendor_name].rows
        if isinstance(body, dict) and body.get("RowId") is not None and str(body["RowId"]) in rows:
            return rows[str(body["RowId"])]
        if isinstance(body, dict) and table.key and body.get(table.key) not in (None, ""):
            spec = table.spec(table.key)
            found = self.find(vendor_name, **{table.key: coerce(spec, body[table.key]) if spec else body[table.key]})
            if found:
                return found
        raise UnicontaFault(404, f"Could not find the {vendor_name} to change", "CouldNotFind")

    def update(self, vendor_name: str, body: Any) -> tuple[Row, list[Change]]:
        row = self.locate(vendor_name, body)
        values = self._clean(vendor_name, body, for_insert=False)
        hook = getattr(self, f"_before_{DATA_MODEL[vendor_name]}", None)
        if hook:
            hook(values, row)
        self._check_key(vendor_name, values, row)
        table = TABLES[vendor_name]
        for spec in table.fields:  # Update replaces the entity: what is left out becomes empty
            if not spec.read_only and spec.name != table.key:
                row[spec.name] = values.get(spec.name)
        for name in self.fields_of(vendor_name) - table.field_names:
            row[name] = values.get(name)
        if table.key and values.get(table.key) not in (None, ""):
            row[table.key] = values[table.key]
        if "UpdatedAt" in table.field_names:
            row["UpdatedAt"] = self.now()
        self.touched(vendor_name, row)
        return row, [Change(vendor_name, "Update", dict(row)), *self._after_write(vendor_name, row)]

    def delete(self, vendor_name: str, body: Any) -> tuple[Row, list[Change]]:
        if not TABLES[vendor_name].writable:
            raise UnicontaFault(400, f"{vendor_name} cannot be deleted through the API", "NoRightsToDelete")
        row = self.locate(vendor_name, body)
        del self.tables[vendor_name].rows[str(row["RowId"])]
        changes = [Change(vendor_name, "Delete", dict(row))]
        if vendor_name == "DebtorOrderClient":  # the order's lines go with it
            for line in self._lines(row["OrderNumber"]):
                del self.tables["DebtorOrderLineClient"].rows[str(line["RowId"])]
        elif vendor_name == "DebtorOrderLineClient":
            changes += self._after_write(vendor_name, row)
        elif vendor_name == "GLDailyJournalClient":
            for line in [r for r in self.rows("GLDailyJournalLineClient") if r.get("Journal") == row["Journal"]]:
                del self.tables["GLDailyJournalLineClient"].rows[str(line["RowId"])]
        return row, changes

    def _check_key(self, vendor_name: str, values: Row, current: Row | None) -> None:
        key = TABLES[vendor_name].key
        if not key or values.get(key) in (None, ""):
            return
        other = self.find(vendor_name, **{key: values[key]})
        if other is not None and other is not current:
            raise UnicontaFault(400, f"{DATA_MODEL[vendor_name]} {values[key]} already exists", "KeyExists")

    def _next(self, series: str) -> int:
        value = self.series[series]
        self.series[series] = value + 1
        return value

    # -- table rules --------------------------------------------------------------------------------
    def _before_Debtor(self, values: Row, current: Row | None) -> None:
        if current is None and not values.get("Account"):
            while self.find("DebtorClient", Account=str(self.series["Account"])):
                self._next("Account")
            values["Account"] = str(self._next("Account"))

    def _before_Contact(self, values: Row, current: Row | None) -> None:
        account = values.get("DCAccount")
        if values.get("DCType", "Debtor") == "Debtor" and account and not self.find("DebtorClient", Account=account):
            raise UnicontaFault(400, f"Debtor {values['DCAccount']} does not exist", "CouldNotFind")

    def _before_DebtorOrder(self, values: Row, current: Row | None) -> None:
        debtor = self.find("DebtorClient", Account=values.get("Account"))
        if debtor is None:
            raise UnicontaFault(400, f"Debtor {values.get('Account')} does not exist", "CouldNotFind")
        for name in ("Name", "Currency", "Payment", "Employee"):
            if not values.get(name):
                values[name] = debtor.get(name) or ("DKK" if name == "Currency" else None)
        if current is None:
            values["OrderNumber"] = self._next("OrderNumber")
        else:
            values["OrderNumber"] = current["OrderNumber"]

    def _before_DebtorOrderLine(self, values: Row, current: Row | None) -> None:
        number = values.get("OrderNumber") if current is None else current["OrderNumber"]
        if number is None or self.find("DebtorOrderClient", OrderNumber=number) is None:
            raise UnicontaFault(400, f"Sales order {number} does not exist", "CouldNotFind")
        values["OrderNumber"] = number
        item = self.find("InvItemClient", Item=values["Item"]) if values.get("Item") else None
        if values.get("Item") and item is None:
            raise UnicontaFault(400, f"Item {values['Item']} does not exist", "CouldNotFind")
        if item is not None:  # Uniconta fills a line from its item
            for name, source in (("Text", "Name"), ("Unit", "Unit"), ("Price", "SalesPrice1"),
                                 ("CostPrice", "CostPrice")):
                if values.get(name) in (None, ""):
                    values[name] = item.get(source)
        if current is None and values.get("LineNumber") is None:
            values["LineNumber"] = Decimal(len(self._lines(number)) + 1)
        qty, price = dec(values.get("Qty")), dec(values.get("Price"))
        total = money(qty * price * (1 - dec(values.get("DiscountPct")) / 100) - dec(values.get("Discount")))
        values["Total"] = total
        values["Margin"] = money(total - qty * dec(values.get("CostPrice")))
        values["MarginRatio"] = money(values["Margin"] / total * 100) if total else Decimal(0)
        values["QtyInvoiced"] = current.get("QtyInvoiced") if current else Decimal(0)
        if current is not None:
            current.update({k: values[k] for k in ("Total", "Margin", "MarginRatio", "QtyInvoiced")})

    def _before_GLDailyJournalLine(self, values: Row, current: Row | None) -> None:
        if not self.find("GLDailyJournalClient", Journal=values.get("Journal")):
            raise UnicontaFault(400, f"Daily journal {values.get('Journal')} does not exist", "CouldNotFind")

    def _before_TableChangeEvent(self, values: Row, current: Row | None) -> None:
        known = set(DATA_MODEL.values())
        if values.get("Table") and values["Table"] not in known:
            raise UnicontaFault(400, f"Unknown table {values['Table']}", "CouldNotFind")
        if not re.match(r"^https?://", values.get("Url") or ""):
            raise UnicontaFault(400, "Url must be an http or https address", "FieldCannotBeBlank")
        for name in ("UsePost", "HasError"):
            values.setdefault(name, False)

    def _after_write(self, vendor_name: str, row: Row) -> list[Change]:
        """A changed order line changes its order's total (and its UpdatedAt)."""
        if vendor_name != "DebtorOrderLineClient":
            return []
        order = self.find("DebtorOrderClient", OrderNumber=row["OrderNumber"])
        if order is None:
            return []
        order["OrderTotal"] = money(sum((dec(line.get("Total")) for line in self._lines(row["OrderNumber"])),
                                        Decimal(0)))
        order["UpdatedAt"] = self.now()
        self.touched("DebtorOrderClient", order)
        return [Change("DebtorOrderClient", "Update", dict(order))]

    def _lines(self, order_number: int) -> list[Row]:
        lines = self.where("DebtorOrderLineClient", "OrderNumber", order_number)
        return sorted(lines, key=lambda r: dec(r.get("LineNumber")))

    # -- posting -------------------------------------------------------------------------------------
    def post_invoice(self, order_number: Any, invoice_date: Any = None, simulate: bool = False
                     ) -> tuple[Row, list[Row], list[Change]]:
        """InvoiceAPI.PostInvoice: invoice what is not yet invoiced on the order."""
        order = self.find("DebtorOrderClient", OrderNumber=order_number)
        if order is None:
            raise UnicontaFault(404, f"Sales order {order_number} does not exist", "CouldNotFind")
        open_lines = [(line, dec(line.get("Qty")) - dec(line.get("QtyInvoiced"))) for line in
                      self._lines(order_number)]
        open_lines = [(line, qty) for line, qty in open_lines if qty]
        if not open_lines:
            raise UnicontaFault(400, f"Sales order {order_number} has no lines to invoice", "NoLinesToUpdate")
        when = as_datetime(invoice_date).date() if invoice_date else self.clock().date()
        number = self.series["InvoiceNumber"] if simulate else self._next("InvoiceNumber")
        lines = [self._invoice_line(line, qty, number, when) for line, qty in open_lines]
        header = self._invoice_header(order, lines, number, when)
        if simulate:
            return header, lines, []
        header["JournalPostedId"] = self._next("JournalPostedId")
        self._store("DebtorInvoiceClient", header)
        for line in lines:
            self._store("DebtorInvoiceLines", line)
        for line, _qty in open_lines:
            line["QtyInvoiced"] = dec(line.get("Qty"))
            line["UpdatedAt"] = self.now()
            self.touched("DebtorOrderLineClient", line)
        order["InvoiceDate"] = f"{when.isoformat()}T00:00:00"
        order["UpdatedAt"] = self.now()
        self.touched("DebtorOrderClient", order)
        return header, lines, [Change("DebtorInvoiceClient", "Insert", dict(header)),
                               Change("DebtorOrderClient", "Update", dict(order))]

    def _invoice_line(self, line: Row, qty: Decimal, number: int, when: date) -> Row:
        price, cost = dec(line.get("Price")), dec(line.get("CostPrice"))
        net = money(qty * price * (1 - dec(line.get("DiscountPct")) / 100) - dec(line.get("Discount")))
        margin = money(net - qty * cost)
        return {"InvoiceNumber": number, "LineNumber": line.get("LineNumber"), "OrderNumber": line["OrderNumber"],
                "Item": line.get("Item"), "Text": line.get("Text"), "InvoiceQty": qty, "Unit": line.get("Unit"),
                "SalesPrice": price, "DiscountPct": line.get("DiscountPct"), "NetDiscount": line.get("Discount"),
                "NetAmount": net, "InvoiceTotal": net, "CostPrice": cost, "CostValue": money(qty * cost),
                "Margin": margin, "MarginRatio": money(margin / net * 100) if net else Decimal(0),
                "Vat": line.get("Vat"), "Date": f"{when.isoformat()}T00:00:00"}

    def _invoice_header(self, order: Row, lines: list[Row], number: int, when: date) -> Row:
        net = money(sum((line["NetAmount"] for line in lines), Decimal(0)))
        cost = money(sum((line["CostValue"] for line in lines), Decimal(0)))
        debtor = self.find("DebtorClient", Account=order.get("Account")) or {}
        vat = money(net * VAT_RATE) if debtor.get("VatZone", "Domestic") in (None, "Domestic") else Decimal(0)
        days = int(m.group()) if (m := re.search(r"\d+", str(order.get("Payment") or ""))) else 8
        for line in lines:
            line["Currency"] = order.get("Currency")
        return {"InvoiceNumber": number, "Date": f"{when.isoformat()}T00:00:00",
                "DueDate": f"{(when + timedelta(days=days)).isoformat()}T00:00:00", "Account": order.get("Account"),
                "Name": order.get("Name"), "OrderNumber": order["OrderNumber"], "Currency": order.get("Currency"),
                "NetAmount": net, "VatAmount": vat, "TotalAmount": net + vat, "CostValue": cost, "SalesValue": net,
                "Margin": net - cost, "MarginRatio": money((net - cost) / net * 100) if net else Decimal(0),
                "Payment": order.get("Payment"), "Employee": order.get("Employee"), "YourRef": order.get("YourRef"),
                "OurRef": order.get("OurRef"), "Remark": order.get("Remark"), "Voucher": number}

    def post_daily_journal(self, journal: Any, posting_date: Any = None, comment: str = "") -> Row:
        """PostingAPI.PostDailyJournal: the journal's lines become ledger transactions and leave the journal."""
        if not self.find("GLDailyJournalClient", Journal=journal):
            raise UnicontaFault(404, f"Daily journal {journal} does not exist", "CouldNotFind")
        lines = [r for r in self.rows("GLDailyJournalLineClient") if r.get("Journal") == journal]
        if not lines:
            raise UnicontaFault(400, f"Daily journal {journal} has no lines to post", "NoLinesToUpdate")
        postings = list(_ledger_postings(lines))
        if sum((amount for _line, _account, amount in postings), Decimal(0)) != 0:
            raise UnicontaFault(400, f"Daily journal {journal} does not balance", "JournalNotBalanced")
        posted_id = self._next("JournalPostedId")
        for line, account, amount in postings:
            when = as_datetime(posting_date or line.get("Date") or self.clock()).date()
            self._store("GLTransClient", {
                "JournalPostedId": posted_id, "Date": f"{when.isoformat()}T00:00:00",
                "Voucher": line.get("Voucher"), "Text": line.get("Text") or comment, "Account": account,
                "Amount": amount, "Debit": amount if amount > 0 else None, "Credit": -amount if amount < 0 else None,
                "Currency": line.get("Currency"), "Vat": line.get("Vat"), "Invoice": line.get("Invoice"),
                "TransType": line.get("TransType")})
            self.tables["GLDailyJournalLineClient"].rows.pop(str(line["RowId"]), None)
        return {"Err": "Succes", "JournalPostedId": posted_id, "Lines": len(lines)}


def _ledger_postings(lines: Iterable[Row]) -> Iterable[tuple[Row, str, Decimal]]:
    """Each journal line's amount on its account and, negated, on its offset account."""
    for line in lines:
        amount = dec(line.get("Debit")) - dec(line.get("Credit")) or dec(line.get("Amount"))
        yield line, str(line.get("Account") or ""), amount
        if line.get("OffsetAccount"):
            yield line, str(line["OffsetAccount"]), -amount


#: A stored value an OData number comparison refuses (``sandbox_odata._compare`` raises for it).
NOT_A_NUMBER = "not a number"


def _number(value: Any) -> Any:
    """A stored value as an OData number literal is compared with it: ``Decimal(str(value))``; None stays None."""
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return NOT_A_NUMBER
    return number if number.is_finite() else NOT_A_NUMBER  # NaN refuses ordering: read all, as before
