"""Line discounts, as a percent or as an amount, and the one rule for a line's net value.

Vendors spell a line discount three ways:

- a percent field (webCRM ``QuotationLineDiscount``, Visma.net ``discountPercent``, Uniconta ``DiscountPct``);
- an amount field taken off the whole line (Uniconta ``Discount``, Visma.net ``discountAmount``);
- one value field plus a type field saying which it is (Fortnox ``Discount`` + ``DiscountType`` AMOUNT|PERCENT).

A :class:`Discount` keeps the kind it was given in, so nothing is rounded on the way through. A line's net is
``quantity × price − discount`` with the amount taken off the line total (4 × 650 − 100 = 2500.00) or the
percent of it (4 × 650 at 10 % = 2340.00), rounded ``ROUND_HALF_UP`` to the øre only at the end.

When a system takes only the other kind, the discount is converted exactly: an amount becomes the percent of
the line's gross value with :data:`PERCENT_PLACES` decimals (enough that the line's net rounds to the same øre),
a percent becomes the amount to the øre. Where each vendor's fields come from: docs/vendors/<vendor>.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

PERCENT = "PERCENT"
AMOUNT = "AMOUNT"
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
#: Decimals a percent converted from an amount keeps: exact to the øre for lines up to 10^8 in value.
PERCENT_PLACES = Decimal("0.0000000001")


def decimal_of(value: Any) -> Decimal:
    """A number from any vendor spelling (None and "" are 0; floats through their shortest text)."""
    if value is None or value == "" or isinstance(value, bool):
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None


def money(value: Decimal) -> Decimal:
    """Rounded to the øre, half up (as invoices print it)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Discount:
    """A line discount: ``value`` is a percent (0–100) or an amount off the whole line, by ``kind``."""

    value: Decimal = Decimal(0)
    kind: str = PERCENT

    @classmethod
    def percent(cls, value: Any) -> Discount:
        return cls(decimal_of(value), PERCENT)

    @classmethod
    def amount(cls, value: Any) -> Discount:
        return cls(decimal_of(value), AMOUNT)

    @property
    def is_zero(self) -> bool:
        return self.value == 0


NONE = Discount()


def line_gross(quantity: Any, price: Any) -> Decimal:
    """Quantity × unit price, unrounded."""
    return decimal_of(quantity) * decimal_of(price)


def discount_amount(quantity: Any, price: Any, discount: Discount) -> Decimal:
    """The discount in money off the whole line, unrounded."""
    if discount.kind == AMOUNT:
        return discount.value
    return line_gross(quantity, price) * discount.value / HUNDRED


def discount_percent(quantity: Any, price: Any, discount: Discount) -> Decimal:
    """The discount as a percent of the line's gross value (an amount converted with ``PERCENT_PLACES``).

    An amount discount on a line worth 0 cannot be a percent: ``ValueError``.
    """
    if discount.kind == PERCENT:
        return discount.value
    gross = line_gross(quantity, price)
    if discount.value == 0:
        return Decimal(0)
    if gross == 0:
        raise ValueError(f"a discount of {discount.value} on a line worth 0 cannot be written as a percent; "
                         "the line is left for a person to correct")
    return (discount.value * HUNDRED / gross).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


def line_net(quantity: Any, price: Any, discount: Discount = NONE) -> Decimal:
    """Quantity × price less the discount, rounded to the øre once, at the end."""
    return money(line_gross(quantity, price) - discount_amount(quantity, price, discount))


@dataclass(frozen=True)
class DiscountFields:
    """Where one vendor's line keeps its discount: a percent field, an amount field, or a value + type field.

    ``writable`` names the fields a write may set (read-only ones are only read).
    """

    percent: str | None = None
    amount: str | None = None
    type_field: str | None = None
    writable: frozenset[str] = frozenset()

    @property
    def any(self) -> bool:
        return bool(self.percent or self.amount)


def read_discount(line: Mapping[str, Any], fields: DiscountFields, *, quantity: Any = 0,
                  price: Any = 0) -> Discount:
    """The discount a vendor line of ``quantity`` × ``price`` carries.

    With a type field (Fortnox) the one value field means an amount when the type says ``AMOUNT`` and a percent
    otherwise (Fortnox's default type). With a percent and an amount both set, an amount that only restates the
    percent in money (Visma.net ``discountAmount``) is ignored; otherwise both apply (Uniconta takes the percent
    and then the amount off a line) and they fold into one amount.
    """
    if fields.type_field:
        value_field = fields.percent or fields.amount
        kind = str(line.get(fields.type_field) or PERCENT).upper()
        value = decimal_of(line.get(value_field)) if value_field else Decimal(0)
        return Discount(value, AMOUNT if kind == AMOUNT else PERCENT)
    percent = decimal_of(line.get(fields.percent)) if fields.percent else Decimal(0)
    amount = decimal_of(line.get(fields.amount)) if fields.amount else Decimal(0)
    if percent and amount:
        if amount == money(line_gross(quantity, price) * percent / HUNDRED):
            return Discount(percent, PERCENT)  # the amount restates the percent
        return fold_discounts(quantity, price, percent=percent, amount=amount)
    if percent:
        return Discount(percent, PERCENT)
    if amount:
        return Discount(amount, AMOUNT)
    return NONE


def fold_discounts(quantity: Any, price: Any, *, percent: Any, amount: Any) -> Discount:
    """A percent and an amount applied together (percent first, then the amount) as one amount discount."""
    pct, amt = decimal_of(percent), decimal_of(amount)
    if not amt:
        return Discount(pct, PERCENT)
    if not pct:
        return Discount(amt, AMOUNT)
    return Discount(line_gross(quantity, price) * pct / HUNDRED + amt, AMOUNT)


def write_discount(discount: Discount, *, quantity: Any, price: Any, fields: DiscountFields) -> dict[str, Any]:
    """The vendor fields that say ``discount`` on a line of ``quantity`` × ``price``.

    The discount's own kind is written where the vendor takes it; otherwise it is converted exactly (see the
    module's docstring). The other field of a percent/amount pair is written as 0, so a line that changes kind
    does not keep the old discount too. ``{}`` when the vendor has no writable discount field.
    """
    writable = fields.writable
    if fields.type_field and fields.type_field in writable:
        value_field = fields.percent or fields.amount
        if value_field and value_field in writable:
            if discount.is_zero:
                return {value_field: Decimal(0), fields.type_field: PERCENT}
            return {value_field: discount.value, fields.type_field: discount.kind}
    percent_ok = bool(fields.percent and fields.percent in writable)
    amount_ok = bool(fields.amount and fields.amount in writable)
    values: dict[str, Any] = {}
    if discount.kind == AMOUNT and amount_ok:
        values[fields.amount] = discount.value
        if percent_ok:
            values[fields.percent] = Decimal(0)
    elif discount.kind == PERCENT and percent_ok:
        values[fields.percent] = discount.value
        if amount_ok:
            values[fields.amount] = Decimal(0)
    elif percent_ok:
        values[fields.percent] = discount_percent(quantity, price, discount)
    elif amount_ok:
        values[fields.amount] = money(discount_amount(quantity, price, discount))
    return values
