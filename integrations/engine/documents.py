"""Orders, invoices and their lines: totals, VAT and contribution margin, always with ``decimal``.

The figures webCRM shows on a delivery (total, VAT, total incl. VAT, cost, DB and DB %) are computed
here from the lines, so both sides agree to the øre whatever their own rounding habits. A line's discount is a
percent or an amount off the whole line (``discounts.Discount``); its net follows ``discounts.line_net``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .discounts import NONE, PERCENT, Discount, DiscountFields, discount_amount, line_net, read_discount
from .discounts import discount_percent as percent_of

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def to_decimal(value: Any) -> Decimal:
    """A money or quantity value from any vendor spelling: None, "", "1.234,50"-free strings, ints, floats."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value).strip())


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Line:
    """One document line: quantity, unit price (excl. VAT), its discount, VAT percent and unit cost price."""

    quantity: Decimal
    price: Decimal
    discount: Discount = NONE
    vat_percent: Decimal = Decimal(0)
    cost_price: Decimal = Decimal(0)

    @classmethod
    def from_values(cls, *, quantity: Any, price: Any, discount_percent: Any = 0, vat_percent: Any = 0,
                    cost_price: Any = 0, discount: Discount | None = None) -> Line:
        """A line from vendor values; ``discount`` (percent or amount) wins over ``discount_percent``."""
        if discount is None:
            discount = Discount.percent(discount_percent)
        return cls(to_decimal(quantity), to_decimal(price), discount, to_decimal(vat_percent),
                   to_decimal(cost_price))

    @property
    def discount_percent(self) -> Decimal:
        """The discount as a percent of the line's gross value (exact for percents, converted for amounts)."""
        if self.quantity * self.price == 0:
            return self.discount.value if self.discount.kind == PERCENT else Decimal(0)
        return percent_of(self.quantity, self.price, self.discount)

    @property
    def discount_amount(self) -> Decimal:
        """The discount in money off the whole line, to the øre."""
        return money(discount_amount(self.quantity, self.price, self.discount))

    @property
    def net(self) -> Decimal:
        """Quantity × price less the discount, rounded to the øre per line as invoices print it."""
        return line_net(self.quantity, self.price, self.discount)

    @property
    def vat(self) -> Decimal:
        return money(self.net * self.vat_percent / HUNDRED)

    @property
    def cost(self) -> Decimal:
        return money(self.quantity * self.cost_price)

    @property
    def margin(self) -> Decimal:
        """Contribution (DB) of the line: net − cost, in money."""
        return self.net - self.cost


@dataclass(frozen=True)
class Totals:
    total: Decimal
    vat: Decimal
    total_incl_vat: Decimal
    cost: Decimal
    margin: Decimal
    #: Contribution margin in percent of the total; 0 for a total of 0.
    margin_percent: Decimal

    def as_dict(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in
                ("total", "vat", "total_incl_vat", "cost", "margin", "margin_percent")}


def document_totals(lines: Iterable[Line]) -> Totals:
    lines = list(lines)
    total = sum((line.net for line in lines), Decimal(0))
    vat = sum((line.vat for line in lines), Decimal(0))
    cost = sum((line.cost for line in lines), Decimal(0))
    margin = total - cost
    percent = money(margin * HUNDRED / total) if total else Decimal("0.00")
    return Totals(total=money(total), vat=money(vat), total_incl_vat=money(total + vat), cost=money(cost),
                  margin=money(margin), margin_percent=percent)


def cash_rounding(amount: Decimal, step: Decimal) -> tuple[Decimal, Decimal]:
    """Round a cash amount to the smallest coin (DKK 0.50, SEK 1.00); returns (rounded, difference).

    The difference is what goes to the GL account for cash differences and rounding.
    """
    if step <= 0:
        return amount, Decimal("0.00")
    rounded = (amount / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
    return money(rounded), money(rounded - amount)


def lines_from_records(records: Iterable[Mapping[str, Any]], *, quantity: str, price: str, discount: str = "",
                       vat: str = "", cost: str = "", discount_amount: str = "",
                       discount_type: str = "") -> list[Line]:
    """Lines from vendor records, naming which of the vendor's fields holds each figure.

    ``discount`` names a percent field, ``discount_amount`` an amount field (off the whole line), and
    ``discount_type`` a field saying which of the two ``discount`` holds (Fortnox's ``DiscountType``).
    """
    fields = DiscountFields(percent=discount or None, amount=discount_amount or None,
                            type_field=discount_type or None,
                            writable=frozenset(name for name in (discount, discount_amount) if name))
    return [Line.from_values(quantity=r.get(quantity), price=r.get(price),
                             discount=read_discount(r, fields, quantity=r.get(quantity), price=r.get(price)),
                             vat_percent=r.get(vat) if vat else 0, cost_price=r.get(cost) if cost else 0)
            for r in records]
