"""Deliveries ↔ sales orders and invoices with their lines, webCRM ↔ Uniconta, end to end."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.engine.process import event_process
from integrations.models import EventState, InboundEvent, SyncLink, SyncLogEntry
from integrations.services import integration_webhooks_register
from integrations.systems.catalog import Entity
from mappings.models import EntitySync
from tests.harness import QUIET, drain, make_pair

ORG, ITEM, DELIVERY, INVOICE = Entity.ORGANISATION, Entity.ITEM, Entity.DELIVERY, Entity.INVOICE

LINES = [
    {"QuotationLineData1": "1001", "QuotationLineData2": "Arbejdsjakke", "QuotationLineQuantity": 3,
     "QuotationLinePrice": "199.95", "QuotationLineDiscount": 10, "QuotationLineVatPercentage": 25,
     "QuotationLineCostPrice": "80.10", "QuotationLineSortOrder": 1},
    {"QuotationLineData1": "1002", "QuotationLineData2": "Sikkerhedssko", "QuotationLineQuantity": "0.5",
     "QuotationLinePrice": "0.10", "QuotationLineVatPercentage": 25, "QuotationLineSortOrder": 2},
]


@pytest.fixture
def pair(db, synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    EntitySync.objects.filter(integration=pair.integration, entity="delivery").update(direction="two_way")
    integration_webhooks_register(integration=pair.integration)
    for number, name in (("1001", "Arbejdsjakke"), ("1002", "Sikkerhedssko")):
        pair.erp_client.create_record(ITEM, {"Item": number, "Name": name, "CostPrice": "80.10"})
    pair.org = pair.crm_client.create_record(ORG, {"OrganisationName": "Havbrise Byg ApS", "OrganisationType": "Kunde"})
    drain()
    pair.account = SyncLink.objects.get(entity="organisation").erp_id
    return pair


def new_delivery(pair, **values):
    return pair.crm_client.create_record(DELIVERY, {
        "DeliveryOrganisationId": pair.org["OrganisationId"], "DeliveryDescription": "Tilbud 17",
        "DeliveryErpStatus": "ReadyForSynchronization", "lines": LINES, **values})


def orders(pair):
    return list(pair.erp_client.list_records(DELIVERY))


def test_a_ready_delivery_becomes_a_sales_order_with_all_lines(pair):
    delivery = new_delivery(pair)
    drain()
    [order] = orders(pair)
    assert order["Account"] == pair.account
    assert [(line["Item"], Decimal(str(line["Qty"])), Decimal(str(line["Price"]))) for line in order["lines"]] == [
        ("1001", Decimal(3), Decimal("199.95")), ("1002", Decimal("0.5"), Decimal("0.10"))]
    back = pair.crm_client.get_record(DELIVERY, str(delivery["DeliveryId"]))
    assert back["DeliveryErpId"] == str(order["OrderNumber"])
    assert back["DeliveryCustom1"] == f"Sales order {order['OrderNumber']} · open"
    assert back["DeliveryErpStatus"] == "Synchronized"
    assert Decimal(str(back["DeliveryOrderValue"])) == Decimal("539.92")  # 539.865 → 539.87 + 0.05
    entry = SyncLogEntry.objects.get(entity="delivery", action="created")
    assert entry.changes["margin_percent"] == [None, "55.49"]


def test_a_delivery_not_marked_ready_waits(pair):
    new_delivery(pair, DeliveryErpStatus="NotReadyForSynchronization")
    drain()
    assert orders(pair) == []
    assert "not marked ready" in SyncLogEntry.objects.get(entity="delivery", action="skipped").reason


def test_changing_the_delivery_updates_its_order_once(pair):
    delivery = new_delivery(pair)
    drain()
    lines = [dict(LINES[0], QuotationLineQuantity=5)]
    pair.crm_client.update_record(DELIVERY, str(delivery["DeliveryId"]), {"lines": lines})
    drain()
    [order] = orders(pair)
    assert [Decimal(str(line["Qty"])) for line in order["lines"]] == [Decimal(5)]
    assert SyncLogEntry.objects.filter(entity="delivery", action="updated").count() == 1


def test_as_invoice_setting_makes_the_order_uniconta_invoices_and_the_invoice_is_never_changed_again(pair):
    """Uniconta's REST API cannot post invoices: the order waits there, and once invoiced it closes the delivery."""
    EntitySync.objects.filter(integration=pair.integration, entity="delivery").update(delivery_target="invoice")
    delivery = new_delivery(pair)
    drain()
    assert list(pair.erp_client.list_records(INVOICE)) == []
    [order] = orders(pair)
    entry = SyncLogEntry.objects.get(entity="delivery", action="created")
    assert "waits there to be invoiced" in entry.reason
    invoice = pair.erp.invoice_order(order["OrderNumber"])
    drain()
    assert len(list(pair.crm_client.list_records(DELIVERY))) == 1  # the order behind the invoice made no delivery
    back = pair.crm_client.get_record(DELIVERY, str(delivery["DeliveryId"]))
    assert back["DeliveryCustom1"] == f"Invoice {invoice['InvoiceNumber']} · booked"
    pair.crm_client.update_record(DELIVERY, str(delivery["DeliveryId"]), {"DeliveryDescription": "Changed"})
    drain()
    assert len(list(pair.erp_client.list_records(INVOICE))) == 1
    assert "never changed" in SyncLogEntry.objects.filter(entity="delivery", action="skipped").first().reason


def test_an_order_made_in_uniconta_comes_back_as_a_delivery(pair):
    pair.erp_client.create_record(DELIVERY, {"Account": pair.account, "YourRef": "Telefonordre", "lines": [
        {"Item": "1001", "Text": "Arbejdsjakke", "Qty": 2, "Price": "100.00", "CostPrice": "80.10"}]})
    drain()
    [delivery] = list(pair.crm_client.list_records(DELIVERY))
    assert delivery["DeliveryOrganisationId"] == pair.org["OrganisationId"]
    assert delivery["DeliveryStatus"] == "OnGoing" and delivery["DeliveryDescription"] == "Telefonordre"
    assert Decimal(str(delivery["DeliveryOrderValue"])) == Decimal("200.00")
    assert Decimal(str(delivery["DeliveryOrderGmValue"])) == Decimal("39.80")


def test_invoicing_a_linked_order_closes_its_delivery_instead_of_making_a_new_one(pair):
    delivery = new_delivery(pair)
    drain()
    [order] = orders(pair)
    invoice = pair.erp.invoice_order(order["OrderNumber"])
    drain()
    deliveries = list(pair.crm_client.list_records(DELIVERY))
    assert len(deliveries) == 1
    back = pair.crm_client.get_record(DELIVERY, str(delivery["DeliveryId"]))
    assert back["DeliveryStatus"] == "Completed" and back["DeliveryDescription"] == "faktura"
    assert back["DeliveryCustom1"] == f"Invoice {invoice['InvoiceNumber']} · booked"


def test_an_invoice_made_in_uniconta_comes_back_closed_with_description_faktura(pair):
    order = pair.erp_client.create_record(DELIVERY, {"Account": pair.account, "lines": [
        {"Item": "1002", "Text": "Sikkerhedssko", "Qty": 1, "Price": "499.00"}]})
    EntitySync.objects.filter(integration=pair.integration, entity="delivery").update(direction="to_erp")
    drain()
    pair.erp.invoice_order(order["OrderNumber"])
    drain()
    [delivery] = list(pair.crm_client.list_records(DELIVERY))
    assert (delivery["DeliveryDescription"], delivery["DeliveryStatus"]) == ("faktura", "Completed")


def test_a_delivery_naming_an_erp_document_without_a_link_waits_instead_of_making_a_second_one(pair):
    """The Create notice of a delivery made from an ERP order can be handled before its link is stored."""
    EntitySync.objects.filter(integration=pair.integration, entity="delivery").update(direction="to_erp")
    order = pair.erp_client.create_record(DELIVERY, {"Account": pair.account, "lines": [
        {"Item": "1001", "Text": "Arbejdsjakke", "Qty": 3, "Price": "199.95"}]})
    number = str(order["OrderNumber"])
    drain()
    delivery = new_delivery(pair, DeliveryErpId=number)
    drain()
    assert [o["OrderNumber"] for o in orders(pair)] == [order["OrderNumber"]]  # no second order
    event = InboundEvent.objects.filter(system="webcrm", entity="delivery").latest("pk")
    assert event.state == EventState.PENDING and f"already names Uniconta document {number}" in event.last_error
    # Once the link is there (the other worker finished), the notice goes to that order and makes no other.
    SyncLink.objects.create(tenant=pair.integration.tenant, integration=pair.integration, entity="delivery",
                            crm_id=str(delivery["DeliveryId"]), erp_id=number)
    InboundEvent.objects.filter(pk=event.pk).update(next_attempt_at=None)
    event_process(event_id=event.pk, client_options=QUIET)
    assert InboundEvent.objects.get(pk=event.pk).state == EventState.DONE
    assert [o["OrderNumber"] for o in orders(pair)] == [order["OrderNumber"]]
