"""Customers 1st → Uniconta: POS sales, variants, auto-invoicing and the daily report, end to end."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from integrations.engine.context import context_for
from integrations.engine.pos import daily_report_post, order_lines
from integrations.models import EventState, InboundEvent, PosDailyReport, SyncLink, SyncLogEntry
from integrations.services import integration_webhooks_register
from integrations.systems.catalog import Entity
from mappings.models import PosRegister
from tests.harness import QUIET, drain, make_pair

ORG, ITEM, SALE = Entity.ORGANISATION, Entity.ITEM, Entity.POS_SALE


@pytest.fixture
def shop(db, synkro, sandboxes):
    pair = make_pair("customers1st", "uniconta", sandboxes)
    integration_webhooks_register(integration=pair.integration)
    pair.crm_client.suppress_hooks = False  # this client plays the till, whose changes raise hooks
    pair.erp_client.create_record(ORG, {"Account": "99999", "Name": "Kontantsalg"})
    settings = pair.integration.pos_settings
    settings.default_pos_debtor, settings.pos_journal = "99999", "POS"
    settings.cash_gl_account, settings.difference_gl_account = "5500", "5590"
    settings.auto_invoice_cash_sales, settings.auto_invoice_debtor_sales = True, False
    settings.save()
    pair.registers = [pair.crm.add_register("Kasse 1"), pair.crm.add_register("Kasse 2")]
    for register_id, name in zip(pair.registers, ("Kasse 1", "Kasse 2"), strict=True):
        PosRegister.objects.create(tenant=pair.integration.tenant, pos_settings=settings,
                                   register_id=str(register_id), name=name)
    pair.crm_client.create_record(ITEM, {"productno": "ST100-M-NAVY", "title": "Strik-trøje M navy", "price": 312.25,
                                         "costprice": 120.0, "styleno": "ST100", "size": "M", "color": "Navy"})
    drain()
    return pair


def ring_up(shop, *, articles, payments, register=0, customer=None) -> dict:
    content = {"cashRegisterId": shop.registers[register], "articles": articles, "paymenttypes": payments}
    if customer is not None:
        content["customerid"] = customer
    return shop.crm_client.request("POST", "pospayments", json=content).json()


JACKET = {"productno": "ST100-M-NAVY", "title": "Strik-trøje", "quantity": 1, "price": 312.25, "vat": 25,
          "costprice": 120.0, "discountToken": 1.5}
JACKET_DISCOUNT = {"title": "Rabat 20%", "quantity": 1, "price": -62.45, "vat": 25, "discountedToken": 1.5}


def orders(shop):
    return list(shop.erp_client.list_records(Entity.DELIVERY))


def invoices(shop):
    return list(shop.erp_client.list_records(Entity.INVOICE))


def test_a_cash_sale_with_a_discount_is_booked_on_the_pos_debtor_for_invoicing_in_uniconta(shop):
    sale = ring_up(shop, articles=[JACKET, JACKET_DISCOUNT], payments=[{"title": "Kontant", "amount": 250.0,
                                                                        "cash": 1}])
    drain()
    [order] = orders(shop)
    assert order["Account"] == "99999"
    [line] = order["lines"]
    assert (line["Item"], Decimal(str(line["Price"])), Decimal(str(line["Discount"]))) == (
        "ST100-M-NAVY", Decimal("249.80"), Decimal("49.96"))
    assert invoices(shop) == []  # Uniconta's REST API cannot post invoices: the order waits for a person
    entry = SyncLogEntry.objects.get(entity="pos_sale", action="created")
    assert entry.crm_id == str(sale["id"]) and "invoice it in Uniconta" in entry.reason
    # Invoiced in Uniconta by a person, the order's lines make an invoice of the right amount.
    invoice, _lines, _changes = shop.erp.company().post_invoice(order["OrderNumber"])
    assert Decimal(str(invoice["NetAmount"])) == Decimal("199.84")
    assert entry.changes["cash rounding"] == [None, "0.20"]  # 249.80 rounded to 250.00 at the till


def test_a_debtor_sale_goes_on_the_customers_debtor_and_stays_an_order(shop):
    customer = shop.crm_client.create_record(ORG, {"name": "Egholm Catering ApS", "email": "info@egholm.dk"})
    drain()
    account = SyncLink.objects.get(entity="organisation", crm_id=str(customer["id"])).erp_id
    ring_up(shop, articles=[JACKET], payments=[{"title": "Debitor", "amount": 312.25}], customer=customer["id"])
    drain()
    [order] = [o for o in orders(shop) if o["Account"] == account]
    assert [line["Item"] for line in order["lines"]] == ["ST100-M-NAVY"]
    assert invoices(shop) == []
    assert "left as an order" in SyncLogEntry.objects.get(entity="pos_sale", action="created").reason


def test_auto_invoicing_debtor_sales_asks_for_invoicing_in_uniconta(shop):
    settings = shop.integration.pos_settings
    settings.auto_invoice_debtor_sales = True
    settings.save()
    ring_up(shop, articles=[JACKET], payments=[{"title": "Debitor", "amount": 312.25}])
    drain()
    assert len(orders(shop)) == 1 and invoices(shop) == []
    assert "invoice it in Uniconta" in SyncLogEntry.objects.get(entity="pos_sale", action="created").reason


def test_cash_sales_stay_orders_when_auto_invoicing_is_off(shop):
    settings = shop.integration.pos_settings
    settings.auto_invoice_cash_sales = False
    settings.save()
    ring_up(shop, articles=[JACKET], payments=[{"title": "Kontant", "amount": 312.5, "cash": 1}])
    drain()
    assert len(orders(shop)) == 1 and invoices(shop) == []


def test_a_sale_announced_twice_is_booked_once(shop, client):
    ring_up(shop, articles=[JACKET], payments=[{"title": "Kontant", "amount": 312.5, "cash": 1}])
    hook = shop.crm.webhooks[-1]
    url = hook.url.replace("http://synkro.test", "")
    response = client.post(url, data=hook.body, content_type="application/json", headers=dict(hook.headers))
    assert response.status_code == 200
    drain()
    drain()
    assert len(orders(shop)) == 1
    assert SyncLogEntry.objects.filter(entity="pos_sale", action="created").count() == 1


def test_a_variant_item_fills_the_uniconta_user_fields(shop):
    shop.crm_client.create_record(ITEM, {"productno": "ST100-L-RED", "title": "Strik-trøje L rød", "price": 499.0,
                                         "styleno": "ST100", "size": "L", "color": "Rød", "customfield1": "Uld",
                                         "alternativebarcode": "5701234567890"})
    drain()
    [item] = [i for i in shop.erp_client.list_records(ITEM) if i["Item"] == "ST100-L-RED"]
    assert (item["xStyleNo"], item["xSize"], item["xColor"], item["xCustomField1"], item["xBarcode"]) == (
        "ST100", "L", "Rød", "Uld", "5701234567890")


def test_a_missing_user_field_is_reported_in_plain_words(shop):
    settings = shop.integration.pos_settings
    settings.variant_fields = {**settings.variant_fields, "size": "xStørrelse"}
    settings.save()
    shop.crm_client.create_record(ITEM, {"productno": "ST100-S-RED", "title": "Strik-trøje S rød", "price": 499.0,
                                         "size": "S"})
    drain()
    entry = SyncLogEntry.objects.get(entity="item", action="failed")
    assert "xStørrelse" in entry.error and "does not exist" in entry.error
    assert InboundEvent.objects.get(entity="item", system="customers1st", external_id=entry.crm_id).state == \
        EventState.FAILED


def test_two_registers_report_their_day_once_however_often_it_runs(shop):
    ring_up(shop, articles=[JACKET, JACKET_DISCOUNT], payments=[{"title": "Kontant", "amount": 250.0, "cash": 1}])
    ring_up(shop, articles=[JACKET], payments=[{"title": "Kontant", "amount": 312.5, "cash": 1}], register=1)
    drain()
    shop.crm.close_register(shop.registers[0], user_id=0, cash_counted=249.0)
    shop.crm.close_register(shop.registers[1], user_id=0)
    ctx = context_for(shop.integration, "daily_report", **QUIET)
    today = timezone.localdate()
    first = daily_report_post(ctx, day=today)
    again = daily_report_post(ctx, day=today)
    assert len(first) == 2 and again == []
    assert PosDailyReport.objects.filter(integration=shop.integration, business_date=today).count() == 2
    kasse1 = PosDailyReport.objects.get(register_id=str(shop.registers[0]))
    assert kasse1.totals["cash"] == "250.00" and kasse1.totals["difference"] == "-1.00"
    assert kasse1.totals["rounding"] == "0.20"
    assert SyncLogEntry.objects.filter(entity="daily_report", action="created").count() == 2
    # The lines wait in the POS journal, one voucher per register, for a person to post them in Uniconta.
    lines = [r for r in shop.erp.company().rows("GLDailyJournalLineClient") if r.get("Journal") == "POS"]
    assert len({r["Voucher"] for r in lines}) == 2
    assert "ready to post in Uniconta" in SyncLogEntry.objects.filter(entity="daily_report").first().reason


def test_the_daily_report_names_missing_settings(shop):
    settings = shop.integration.pos_settings
    settings.pos_journal = ""
    settings.save()
    ctx = context_for(shop.integration, "daily_report", **QUIET)
    assert daily_report_post(ctx, day=timezone.localdate()) == []
    assert "POS journal" in SyncLogEntry.objects.get(entity="daily_report", action="failed").error


def test_discount_lines_fold_onto_the_line_they_discount():
    lines = order_lines({"lines": [JACKET, JACKET_DISCOUNT]})
    assert lines == [{"Text": "Strik-trøje", "Qty": Decimal(1), "Price": Decimal("249.8000"), "Item": "ST100-M-NAVY",
                      "CostPrice": Decimal("120.0"), "Discount": Decimal("49.96")}]


def test_closing_a_register_posts_its_day_when_no_time_is_set(shop):
    ring_up(shop, articles=[JACKET], payments=[{"title": "Kontant", "amount": 312.5, "cash": 1}])
    drain()
    shop.crm.close_register(shop.registers[0], user_id=0)
    drain()
    assert PosDailyReport.objects.filter(register_id=str(shop.registers[0])).count() == 1


def test_the_schedule_posts_the_day_once_its_time_has_passed(shop):
    import datetime as dt

    from integrations.tasks import daily_reports_task

    settings = shop.integration.pos_settings
    settings.daily_report_time = dt.time.max  # the day's last microsecond: not yet, whenever the test runs
    settings.save()
    ring_up(shop, articles=[JACKET], payments=[{"title": "Kontant", "amount": 312.5, "cash": 1}], register=1)
    drain()
    shop.crm.close_register(shop.registers[1], user_id=0)
    drain()  # the closing's notice leaves the posting to the schedule
    assert not PosDailyReport.objects.exists()
    assert daily_reports_task() == 0  # not time yet
    settings.daily_report_time = dt.time(0, 0)
    settings.save()
    assert daily_reports_task() == 1
    assert daily_reports_task() == 0
    assert PosDailyReport.objects.filter(register_id=str(shop.registers[1])).count() == 1
