from decimal import Decimal

from integrations.engine.documents import Line, cash_rounding, document_totals, lines_from_records


def test_totals_vat_and_margin_are_exact():
    lines = [
        Line.from_values(quantity=3, price="199.95", discount_percent=10, vat_percent=25, cost_price="80.10"),
        Line.from_values(quantity="0.5", price=0.1, vat_percent=25, cost_price=0),
    ]
    totals = document_totals(lines)
    # 3 × 199.95 × 0.9 = 539.865 → 539.87; 0.5 × 0.1 = 0.05
    assert totals.total == Decimal("539.92")
    assert totals.vat == Decimal("134.98")  # 134.9675 → 134.97 and 0.0125 → 0.01
    assert totals.total_incl_vat == Decimal("674.90")
    assert totals.cost == Decimal("240.30")
    assert totals.margin == Decimal("299.62")
    assert totals.margin_percent == Decimal("55.49")


def test_an_empty_document_has_zero_margin_percent():
    assert document_totals([]).margin_percent == Decimal("0.00")


def test_cash_rounding_to_the_smallest_coin():
    assert cash_rounding(Decimal("99.74"), Decimal("0.50")) == (Decimal("99.50"), Decimal("-0.24"))
    assert cash_rounding(Decimal("99.75"), Decimal("0.50")) == (Decimal("100.00"), Decimal("0.25"))
    assert cash_rounding(Decimal("49.49"), Decimal("1")) == (Decimal("49.00"), Decimal("-0.49"))


def test_lines_read_from_vendor_records_by_field_name():
    records = [{"Qty": 2, "Price": "10.00", "DiscountPct": 50, "Vat": 25, "CostPrice": 4}]
    lines = lines_from_records(records, quantity="Qty", price="Price", discount="DiscountPct", vat="Vat",
                               cost="CostPrice")
    assert document_totals(lines).as_dict() == {"total": "10.00", "vat": "2.50", "total_incl_vat": "12.50",
                                                "cost": "8.00", "margin": "2.00", "margin_percent": "20.00"}
