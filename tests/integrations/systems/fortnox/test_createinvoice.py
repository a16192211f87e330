"""Order → invoice the Fortnox way (``PUT /3/orders/{DocumentNumber}/createinvoice``): client, sandbox, engine."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.engine.ingest import event_ingest
from integrations.models import EventSource, SyncLink
from integrations.systems import transport
from integrations.systems.catalog import Entity
from integrations.systems.errors import VendorValidationError
from integrations.systems.fortnox.sandbox import FortnoxSandbox
from mappings.models import EntitySync
from tests.harness import drain, make_pair

from ..contract import assert_path_documented
from ..recording import Recorder
from .conftest import BASE, make_client, put_customers
from .test_contract import check

SPEC = "fortnox-openapi.json"
ROWS = [{"ArticleNumber": "A-100", "Description": "Snickeritimme", "OrderedQuantity": "4", "Price": 650, "VAT": 25},
        {"ArticleNumber": "A-200", "Description": "Material", "OrderedQuantity": "1", "DeliveredQuantity": "1",
         "Price": 1200, "Discount": 10, "DiscountType": "PERCENT", "VAT": 25}]


@pytest.fixture
def order(mounted: FortnoxSandbox, client):
    put_customers(mounted, 1)
    return client.create_record(Entity.DELIVERY, {"CustomerNumber": "1", "YourReference": "Offert 7", "lines": ROWS})


def test_createinvoice_is_in_fortnox_description():
    assert_path_documented(SPEC, "/3/orders/{DocumentNumber}/createinvoice", "PUT")


def test_an_order_becomes_an_invoice_with_its_rows_and_keeps_its_number(client, order):
    invoice = client.invoice_from_order(order["DocumentNumber"])

    rows = [(r["ArticleNumber"], r["Description"], r["DeliveredQuantity"], r["Price"]) for r in invoice["lines"]]
    assert rows == [("A-100", "Snickeritimme", "4", 650.0), ("A-200", "Material", "1", 1200.0)]
    assert invoice["CustomerNumber"] == "1" and invoice["YourReference"] == "Offert 7"
    assert invoice["OrderReference"] == order["DocumentNumber"]
    assert invoice["Total"] == order["Total"]  # 4 × 650 + 1200 − 10 %, plus 25 % VAT, as on the order
    again = client.get_record(Entity.DELIVERY, order["DocumentNumber"])
    assert again["InvoiceReference"] == invoice["DocumentNumber"]


def test_a_second_createinvoice_of_one_order_is_refused_and_makes_no_invoice(client, order, mounted):
    client.invoice_from_order(order["DocumentNumber"])
    with pytest.raises(VendorValidationError) as refused:
        client.invoice_from_order(order["DocumentNumber"])

    assert "redan fakturerad" in refused.value.vendor_message
    assert len(mounted.company.records[Entity.INVOICE]) == 1


def test_a_cancelled_order_cannot_be_invoiced(client, order, mounted):
    client.delete_record(Entity.DELIVERY, order["DocumentNumber"])  # Fortnox cancels orders
    with pytest.raises(VendorValidationError):
        client.invoice_from_order(order["DocumentNumber"])
    assert not mounted.company.records[Entity.INVOICE]


def test_createinvoice_exchanges_match_the_description(sandbox, credentials, clock):
    put_customers(sandbox, 1)
    recording = Recorder(sandbox)
    with transport.mounted(BASE, recording):
        client = make_client(credentials, clock)
        order = client.create_record(Entity.DELIVERY, {"CustomerNumber": "1", "lines": ROWS})
        client.invoice_from_order(order["DocumentNumber"])

    assert any(e.path.endswith("/createinvoice") and e.status == 200 for e in recording.exchanges)
    assert check(recording.exchanges) >= 3


# -- the engine uses it where a delivery should become an invoice ----------------------------------------
@pytest.fixture
def pair(db, synkro, sandboxes):
    pair = make_pair("webcrm", "fortnox", sandboxes)
    EntitySync.objects.filter(integration=pair.integration, entity="delivery").update(delivery_target="invoice")
    return pair


def notice(pair, system: str, entity: str, record_id, action: str = "updated") -> None:
    event_ingest(integration=pair.integration, system=system, entity=entity, action=action,
                 external_id=str(record_id), source=EventSource.MANUAL)


def ready_delivery(pair) -> dict:
    pair.erp_client.create_record(Entity.ITEM, {"ArticleNumber": "A-100", "Description": "Snickeritimme"})
    org = pair.crm_client.create_record(Entity.ORGANISATION, {"OrganisationName": "Hagaby Bygg AB",
                                                              "OrganisationType": "Kund – Företag"})
    notice(pair, "webcrm", "organisation", org["OrganisationId"], "created")
    drain()
    delivery = pair.crm_client.create_record(Entity.DELIVERY, {
        "DeliveryOrganisationId": org["OrganisationId"], "DeliveryErpStatus": "ReadyForSynchronization",
        "DeliveryDescription": "Offert 7", "lines": [{"QuotationLineData1": "A-100", "QuotationLineData2": "Timme",
                                                     "QuotationLineQuantity": 4, "QuotationLinePrice": "650.00"}]})
    notice(pair, "webcrm", "delivery", delivery["DeliveryId"], "created")
    return delivery


def test_a_delivery_to_invoice_goes_as_an_order_that_fortnox_invoices_and_both_are_linked(pair):
    delivery = ready_delivery(pair)
    drain()

    [order] = list(pair.erp_client.list_records(Entity.DELIVERY))
    [invoice] = list(pair.erp_client.list_records(Entity.INVOICE))
    full = pair.erp_client.get_record(Entity.INVOICE, str(invoice["DocumentNumber"]))
    assert full["OrderReference"] == str(order["DocumentNumber"])
    assert [(r["ArticleNumber"], Decimal(r["DeliveredQuantity"])) for r in full["lines"]] == [("A-100", 4)]
    links = {link.entity: link for link in SyncLink.objects.filter(integration=pair.integration,
                                                                    entity__in=["delivery", "invoice"])}
    assert links["delivery"].erp_id == str(order["DocumentNumber"])
    assert links["invoice"].erp_id == str(invoice["DocumentNumber"])
    assert links["delivery"].crm_id == links["invoice"].crm_id == str(delivery["DeliveryId"])
    back = pair.crm_client.get_record(Entity.DELIVERY, str(delivery["DeliveryId"]))
    assert back["DeliveryErpId"] == str(invoice["DocumentNumber"])
    assert back["DeliveryCustom1"] == f"Invoice {invoice['DocumentNumber']} · not booked"


def test_the_invoice_and_its_order_coming_back_make_no_new_delivery(pair):
    ready_delivery(pair)
    drain()
    EntitySync.objects.filter(integration=pair.integration, entity__in=["delivery", "invoice"]).update(
        direction="two_way")
    [order] = list(pair.erp_client.list_records(Entity.DELIVERY))
    [invoice] = list(pair.erp_client.list_records(Entity.INVOICE))
    notice(pair, "fortnox", "invoice", invoice["DocumentNumber"], "created")
    notice(pair, "fortnox", "delivery", order["DocumentNumber"])
    drain()

    assert len(list(pair.crm_client.list_records(Entity.DELIVERY))) == 1
    assert SyncLink.objects.filter(integration=pair.integration, entity__in=["delivery", "invoice"]).count() == 2


def test_an_order_linked_before_the_invoice_was_made_is_invoiced_once(pair):
    delivery = ready_delivery(pair)
    EntitySync.objects.filter(integration=pair.integration, entity="delivery").update(delivery_target="sales_order")
    drain()
    [order] = list(pair.erp_client.list_records(Entity.DELIVERY))
    assert not list(pair.erp_client.list_records(Entity.INVOICE))

    EntitySync.objects.filter(integration=pair.integration, entity="delivery").update(delivery_target="invoice")
    pair.crm_client.update_record(Entity.DELIVERY, str(delivery["DeliveryId"]), {"DeliveryDescription": "Offert 7b"})
    notice(pair, "webcrm", "delivery", delivery["DeliveryId"])
    drain()
    notice(pair, "webcrm", "delivery", delivery["DeliveryId"])  # again: the invoice speaks for it now
    drain()

    [invoice] = list(pair.erp_client.list_records(Entity.INVOICE))
    assert pair.erp_client.get_record(Entity.DELIVERY, str(order["DocumentNumber"]))["InvoiceReference"] == str(
        invoice["DocumentNumber"])
    assert SyncLink.objects.get(integration=pair.integration, entity="invoice").erp_id == str(invoice["DocumentNumber"])
