"""Line discounts as a percent or an amount: the rule, and documents arriving right in every pair."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from integrations.engine.discounts import (
    AMOUNT,
    PERCENT,
    Discount,
    DiscountFields,
    discount_amount,
    discount_percent,
    fold_discounts,
    line_net,
    read_discount,
    write_discount,
)
from integrations.engine.documents import Line, document_totals, lines_from_records
from integrations.engine.poll import poll_entity
from integrations.models import SyncLink
from integrations.services import integration_webhooks_register
from integrations.systems.catalog import Entity
from mappings.models import EntitySync
from tests.harness import QUIET, drain, make_pair

ORG, ITEM, DELIVERY, INVOICE = Entity.ORGANISATION, Entity.ITEM, Entity.DELIVERY, Entity.INVOICE

FORTNOX = DiscountFields(percent="Discount", type_field="DiscountType",
                         writable=frozenset({"Discount", "DiscountType"}))
WEBCRM = DiscountFields(percent="QuotationLineDiscount", writable=frozenset({"QuotationLineDiscount"}))
UNICONTA = DiscountFields(percent="DiscountPct", amount="Discount", writable=frozenset({"DiscountPct", "Discount"}))
VISMA = DiscountFields(percent="discountPercent", amount="discountAmount", writable=frozenset({"discountPercent"}))
AMOUNT_ONLY = DiscountFields(amount="Discount", writable=frozenset({"Discount"}))


# -- the rule ---------------------------------------------------------------------------------------------------
def test_an_amount_comes_off_the_whole_line_and_a_percent_off_its_value():
    assert line_net(4, "650", Discount.amount(100)) == Decimal("2500.00")
    assert line_net(4, "650", Discount.percent(10)) == Decimal("2340.00")
    assert line_net(4, "650") == Decimal("2600.00")


def test_rounding_happens_once_at_the_end_half_up():
    # 0.125 − 0.004 = 0.121 → 0.12; rounding the gross first would give 0.13 − 0.00 = 0.13.
    assert line_net(1, "0.125", Discount.amount("0.004")) == Decimal("0.12")
    assert line_net(1, "0.125") == Decimal("0.13")
    assert line_net(3, "0.335", Discount.percent("0.5")) == Decimal("1.00")


def test_conversions_are_exact_to_the_ore():
    percent = discount_percent(4, 650, Discount.amount(100))
    assert percent == Decimal("3.8461538462")
    assert line_net(4, 650, Discount.percent(percent)) == Decimal("2500.00")
    assert discount_amount(4, 650, Discount.percent(10)) == Decimal("260")
    assert discount_percent(4, 650, Discount.percent(10)) == Decimal(10)


def test_an_amount_on_a_line_worth_nothing_has_no_percent():
    with pytest.raises(ValueError):
        discount_percent(0, 650, Discount.amount(100))
    assert discount_percent(0, 650, Discount.amount(0)) == 0


def test_fortnox_reads_its_discount_by_its_type():
    assert read_discount({"Discount": 100, "DiscountType": "AMOUNT"}, FORTNOX) == Discount(Decimal(100), AMOUNT)
    assert read_discount({"Discount": 10, "DiscountType": "PERCENT"}, FORTNOX) == Discount(Decimal(10), PERCENT)
    assert read_discount({"Discount": 10}, FORTNOX) == Discount(Decimal(10), PERCENT)


def test_uniconta_applies_percent_and_amount_together_and_visma_restates_its_percent():
    both = read_discount({"DiscountPct": 10, "Discount": 40}, UNICONTA, quantity=4, price=650)
    assert both == Discount(Decimal(300), AMOUNT)
    assert line_net(4, 650, both) == Decimal("2300.00")
    restated = read_discount({"discountPercent": 10, "discountAmount": 260.0}, VISMA, quantity=4, price=650)
    assert restated == Discount(Decimal(10), PERCENT)
    assert read_discount({"Discount": 100}, UNICONTA) == Discount(Decimal(100), AMOUNT)
    assert fold_discounts(4, 650, percent=0, amount=0) == Discount(Decimal(0), PERCENT)


def test_each_vendor_is_written_in_its_own_kind_or_converted():
    amount, percent = Discount.amount(100), Discount.percent(10)
    assert write_discount(amount, quantity=4, price=650, fields=FORTNOX) == {"Discount": 100, "DiscountType": AMOUNT}
    assert write_discount(percent, quantity=4, price=650, fields=FORTNOX) == {"Discount": 10, "DiscountType": PERCENT}
    assert write_discount(amount, quantity=4, price=650, fields=WEBCRM) == {
        "QuotationLineDiscount": Decimal("3.8461538462")}
    assert write_discount(amount, quantity=4, price=650, fields=UNICONTA) == {"Discount": 100, "DiscountPct": 0}
    assert write_discount(percent, quantity=4, price=650, fields=UNICONTA) == {"DiscountPct": 10, "Discount": 0}
    assert write_discount(amount, quantity=4, price=650, fields=VISMA) == {
        "discountPercent": Decimal("3.8461538462")}
    assert write_discount(percent, quantity=4, price=650, fields=AMOUNT_ONLY) == {"Discount": Decimal("260.00")}
    assert write_discount(percent, quantity=4, price=650, fields=DiscountFields(percent="x")) == {}


def test_totals_and_contribution_count_an_amount_discount():
    totals = document_totals([Line.from_values(quantity=4, price=650, discount=Discount.amount(100), vat_percent=25,
                                               cost_price=400)])
    assert (totals.total, totals.vat, totals.total_incl_vat) == (Decimal("2500.00"), Decimal("625.00"),
                                                                 Decimal("3125.00"))
    assert (totals.cost, totals.margin, totals.margin_percent) == (Decimal("1600.00"), Decimal("900.00"),
                                                                   Decimal("36.00"))
    [line] = lines_from_records([{"Qty": 4, "Price": 650, "Discount": 100, "Type": "AMOUNT"}], quantity="Qty",
                                price="Price", discount="Discount", discount_type="Type")
    assert line.net == Decimal("2500.00") and line.discount_amount == Decimal("100.00")
    assert line.discount_percent == Decimal("3.8461538462")


# -- end to end -------------------------------------------------------------------------------------------------
def _value(record, name):
    return Decimal(str(record[name])).quantize(Decimal("0.01"))


@pytest.fixture
def fortnox(db, synkro, sandboxes):
    pair = make_pair("webcrm", "fortnox", sandboxes)
    integration_webhooks_register(integration=pair.integration)
    pair.erp_client.create_record(ITEM, {"ArticleNumber": "A-100", "Description": "Snickeritimme"})
    pair.org = pair.crm_client.create_record(ORG, {"OrganisationName": "Hagaby Bygg AB",
                                                   "OrganisationType": "Kund – Företag"})
    drain()
    pair.customer = SyncLink.objects.get(entity="organisation").erp_id
    poll_entity(integration=pair.integration, system="fortnox", entity=INVOICE, client_options=QUIET)
    return pair


def _fortnox_invoice_arrives(pair, row):
    pair.erp_client.create_record(INVOICE, {"CustomerNumber": pair.customer, "YourReference": "Offert 9",
                                            "lines": [{"ArticleNumber": "A-100", "Description": "Timme",
                                                       "DeliveredQuantity": 4, "Price": 650, "VAT": 25, **row}]})
    poll_entity(integration=pair.integration, system="fortnox", entity=INVOICE, client_options=QUIET,
                now=timezone.now() + dt.timedelta(minutes=2))
    drain()
    [delivery] = list(pair.crm_client.list_records(DELIVERY))
    return pair.crm_client.get_record(DELIVERY, str(delivery["DeliveryId"]))


def test_a_fortnox_invoice_with_an_amount_discount_arrives_as_2500(fortnox):
    delivery = _fortnox_invoice_arrives(fortnox, {"Discount": 100, "DiscountType": "AMOUNT"})
    assert _value(delivery, "DeliveryOrderValue") == Decimal("2500.00")
    [line] = delivery["lines"]
    assert line_net(line["QuotationLineQuantity"], line["QuotationLinePrice"],
                    Discount.percent(line["QuotationLineDiscount"])) == Decimal("2500.00")


def test_a_fortnox_invoice_with_a_percent_discount_arrives_as_2340(fortnox):
    delivery = _fortnox_invoice_arrives(fortnox, {"Discount": 10, "DiscountType": "PERCENT"})
    assert _value(delivery, "DeliveryOrderValue") == Decimal("2340.00")
    assert Decimal(str(delivery["lines"][0]["QuotationLineDiscount"])) == Decimal(10)


def test_a_webcrm_percent_reaches_fortnox_as_a_percent_row(fortnox):
    fortnox.crm_client.create_record(DELIVERY, {
        "DeliveryOrganisationId": fortnox.org["OrganisationId"], "DeliveryErpStatus": "ReadyForSynchronization",
        "DeliveryDescription": "Offert 10", "lines": [{"QuotationLineData1": "A-100", "QuotationLineQuantity": 4,
                                                      "QuotationLinePrice": "650.00", "QuotationLineDiscount": 10}]})
    drain()
    [order] = list(fortnox.erp_client.list_records(DELIVERY))
    order = fortnox.erp_client.get_record(DELIVERY, str(order["DocumentNumber"]))
    [row] = order["lines"]
    assert (Decimal(str(row["Discount"])), row["DiscountType"]) == (Decimal(10), "PERCENT")
    assert _value(order, "Net") == Decimal("2340.00")
    back = fortnox.crm_client.list_records(DELIVERY)
    assert [_value(d, "DeliveryOrderValue") for d in back] == [Decimal("2340.00")]


@pytest.fixture
def uniconta(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    EntitySync.objects.filter(integration=pair.integration, entity="delivery").update(direction="two_way")
    integration_webhooks_register(integration=pair.integration)
    pair.erp_client.create_record(ITEM, {"Item": "1001", "Name": "Arbejdsjakke", "CostPrice": "400"})
    pair.org = pair.crm_client.create_record(ORG, {"OrganisationName": "Havbrise Byg ApS", "OrganisationType": "Kunde"})
    drain()
    pair.account = SyncLink.objects.get(entity="organisation").erp_id
    return pair


def test_a_uniconta_amount_discount_arrives_in_webcrm_with_its_contribution(uniconta):
    uniconta.erp_client.create_record(DELIVERY, {"Account": uniconta.account, "YourRef": "Telefonordre", "lines": [
        {"Item": "1001", "Text": "Arbejdsjakke", "Qty": 4, "Price": "650.00", "Discount": "100",
         "CostPrice": "400"}]})
    drain()
    [delivery] = list(uniconta.crm_client.list_records(DELIVERY))
    assert _value(delivery, "DeliveryOrderValue") == Decimal("2500.00")
    assert _value(delivery, "DeliveryOrderGmValue") == Decimal("900.00")


def test_a_webcrm_percent_reaches_uniconta_as_a_percent(uniconta):
    uniconta.crm_client.create_record(DELIVERY, {
        "DeliveryOrganisationId": uniconta.org["OrganisationId"], "DeliveryErpStatus": "ReadyForSynchronization",
        "lines": [{"QuotationLineData1": "1001", "QuotationLineQuantity": 4, "QuotationLinePrice": "650.00",
                   "QuotationLineDiscount": 10, "QuotationLineCostPrice": "400"}]})
    drain()
    [order] = list(uniconta.erp_client.list_records(DELIVERY))
    [line] = order["lines"]
    assert Decimal(str(line["DiscountPct"])) == Decimal(10) and not Decimal(str(line.get("Discount") or 0))
    [delivery] = list(uniconta.crm_client.list_records(DELIVERY))
    assert _value(delivery, "DeliveryOrderValue") == Decimal("2340.00")


@pytest.fixture
def visma(db, synkro, sandboxes):
    pair = make_pair("webcrm", "vismanet", sandboxes)
    integration_webhooks_register(integration=pair.integration)
    pair.erp_client.create_record(ITEM, {"inventoryNumber": "V-1", "description": "Konsulttimme"})
    pair.org = pair.crm_client.create_record(ORG, {"OrganisationName": "Norrsken Handel AB",
                                                   "OrganisationType": "Kunde"})
    drain()
    return pair


def test_a_webcrm_percent_reaches_visma_and_its_amount_comes_back_right(visma):
    visma.crm_client.create_record(DELIVERY, {
        "DeliveryOrganisationId": visma.org["OrganisationId"], "DeliveryErpStatus": "ReadyForSynchronization",
        "lines": [{"QuotationLineData1": "V-1", "QuotationLineQuantity": 4, "QuotationLinePrice": "650.00",
                   "QuotationLineDiscount": 10}]})
    drain()
    order = visma.erp_client.get_record(DELIVERY, SyncLink.objects.get(entity="delivery").erp_id)
    [line] = order["lines"]
    assert Decimal(str(line["discountPercent"])) == Decimal(10)
    assert Decimal(str(line["discountAmount"])) == Decimal("260.00")
    [delivery] = list(visma.crm_client.list_records(DELIVERY))
    assert _value(delivery, "DeliveryOrderValue") == Decimal("2340.00")
