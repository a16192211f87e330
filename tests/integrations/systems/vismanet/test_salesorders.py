"""Sales orders through Visma.net's Sales Order service (SalesOrders API V3), client against sandbox and end to end."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.models import SyncLink
from integrations.services import integration_webhooks_register
from integrations.systems import hosts, transport
from integrations.systems.catalog import Entity
from integrations.systems.errors import NotFoundError, VendorValidationError
from integrations.systems.hosts import BaseUrlRefused, OutboundPolicy
from integrations.systems.vismanet import provider
from integrations.systems.vismanet.salesorders import (
    VISMA_SALES_ORDER_URL,
    order_id,
    order_key,
    sales_order_base_for,
)
from mappings.models import EntitySync
from tests.harness import drain, make_pair

from .conftest import BASE_URL

DELIVERY, ITEM, ORG = Entity.DELIVERY, Entity.ITEM, Entity.ORGANISATION


@pytest.fixture
def customer(client, sandbox):
    for number in ("A1", "A2"):
        client.create_record(ITEM, {"inventoryNumber": number, "description": f"Vare {number}", "defaultPrice": 100})
    return client.create_record(ORG, {"name": "Ordre Kunde AS"})


def new_order(client, customer, **values):
    return client.create_record(DELIVERY, {"customer.id": customer["number"], "lines": [
        {"inventory.id": "A1", "quantity": 2, "unitPrice": 50}], **values})


# -- where the service lives ------------------------------------------------------------------------------------
def test_the_service_is_vismas_own_host_for_visma_and_beside_the_api_for_a_sandbox():
    assert sales_order_base_for("https://api.finance.visma.net") == VISMA_SALES_ORDER_URL == \
        "https://salesorder.visma.net"
    assert sales_order_base_for("http://127.0.0.1:8000/sandbox/vismanet") == \
        "http://127.0.0.1:8000/sandbox/vismanet/salesorder"


def test_credentials_reach_the_sales_order_host_and_no_other():
    client = provider.client_class(base_url="https://api.finance.visma.net", credentials={})
    assert client.outbound_url("GET", "https://salesorder.visma.net/api/v3/SalesOrders").startswith(
        "https://salesorder.visma.net/")
    with pytest.raises(BaseUrlRefused):
        client.outbound_url("GET", "https://salesorder.visma.net.evil.example/api/v3/SalesOrders")
    with pytest.raises(BaseUrlRefused):
        client.outbound_url("GET", "https://integration.visma.net/API/controller/api/v1/salesorder")


def test_a_connection_cannot_point_its_base_url_at_another_host_to_carry_orders_there():
    production = OutboundPolicy(production=True)
    assert hosts.base_url_problem("https://api.finance.visma.net", provider=provider, policy=production,
                                  resolve=lambda host: ["20.1.2.3"]) is None
    assert hosts.base_url_problem("https://orders.example.com", provider=provider, policy=production,
                                  resolve=lambda host: ["20.1.2.3"])


def test_order_ids_keep_so_orders_by_number_and_name_other_types():
    assert order_key("000223") == ("SO", "000223") and order_id("SO", "000223") == "000223"
    assert order_key("IN/000007") == ("IN", "000007") and order_id("IN", "000007") == "IN/000007"


# -- the client against the sandbox ---------------------------------------------------------------------------
def test_orders_are_written_and_read_through_the_service(client, sandbox, customer):
    order = new_order(client, customer, description="Web 12", **{"customer.order": "PO-12"})
    assert (order["type"], order["customer.id"], order["customer.order"]) == ("SO", customer["number"], "PO-12")
    assert order["totals.orderTotal"] == 125.0
    assert sandbox.count(path_contains="/v1/salesorder") == 0
    assert sandbox.count("POST", "/salesorder/api/v3/SalesOrders") == 1
    assert client.get_record(DELIVERY, order["orderId"])["description"] == "Web 12"


def test_another_order_type_is_read_by_type_and_number(client, sandbox, customer):
    order = new_order(client, customer, type="IN")
    record_id = client.record_id(DELIVERY, order)
    assert record_id == f"IN/{order['orderId']}"
    assert client.get_record(DELIVERY, record_id)["type"] == "IN"
    with pytest.raises(NotFoundError):
        client.get_record(DELIVERY, order["orderId"])  # an SO of that number does not exist


def test_a_change_names_the_version_it_changes(client, sandbox, customer):
    order = new_order(client, customer)
    client.update_record(DELIVERY, order["orderId"], {"description": "Rettet"})
    # The service answers 428 to a change without If-Match and 412 to a stale one; this one went through.
    assert [r.status for r in sandbox.requests if r.method == "PATCH"] == [202]


def test_the_sandbox_refuses_a_change_without_or_with_a_stale_version(client, sandbox, customer):
    order = new_order(client, customer)
    url = f"{BASE_URL}/salesorder/api/v3/SalesOrders/SO/{order['orderId']}"
    session = transport.build_session()
    headers = {"Authorization": f"Bearer {client.access_token()}"}
    current = session.get(url, headers=headers).headers["ETag"]
    assert session.patch(url, json={"description": "x"}, headers=headers).status_code == 428
    assert session.patch(url, json={"description": "x"}, headers={**headers, "If-Match": '"stale"'}).status_code == 412
    answer = session.patch(url, json={"description": "x"}, headers={**headers, "If-Match": current})
    assert answer.status_code == 202 and answer.headers["ETag"] != current


def test_a_status_goes_alone(client, sandbox, customer):
    order = new_order(client, customer)
    url = f"{BASE_URL}/salesorder/api/v3/SalesOrders/SO/{order['orderId']}"
    session = transport.build_session()
    headers = {"Authorization": f"Bearer {client.access_token()}"}
    tag = session.get(url, headers=headers).headers["ETag"]
    refused = session.patch(url, json={"status": "Hold", "description": "x"}, headers={**headers, "If-Match": tag})
    assert refused.status_code == 400 and "no other fields" in refused.json()["detail"]


def test_deleting_cancels_and_a_cancelled_order_refuses_changes(client, sandbox, customer):
    order = new_order(client, customer)
    client.delete_record(DELIVERY, order["orderId"])
    cancelled = client.get_record(DELIVERY, order["orderId"])
    assert (cancelled["status.description"], cancelled["status.cancelled"]) == ("Cancelled", True)
    with pytest.raises(VendorValidationError, match="cannot be changed"):
        client.update_record(DELIVERY, order["orderId"], {"description": "for sent"})


def test_lists_page_by_index_from_zero_until_the_total(client, sandbox, customer):
    made = [new_order(client, customer)["orderId"] for _ in range(5)]
    sandbox.clear_log()
    listed = [r["orderId"] for r in client.list_records(DELIVERY, page_size=2)]
    assert listed == made
    queries = [r.query for r in sandbox.requests if r.path == "/salesorder/api/v3/SalesOrders"]
    assert queries == ["pageSize=2&pageIndex=0", "pageSize=2&pageIndex=1", "pageSize=2&pageIndex=2"]


def test_modified_since_asks_the_service_for_later_changes(client, sandbox, customer, clock):
    first = new_order(client, customer)
    clock.advance(1)
    cutoff = clock.now()
    clock.advance(60)
    second = new_order(client, customer)
    assert [r["orderId"] for r in client.list_records(DELIVERY, modified_since=cutoff)] == [second["orderId"]]
    assert first["orderId"] != second["orderId"]


def test_a_customer_with_an_order_has_activity(client, sandbox, customer):
    other = client.create_record(ORG, {"name": "Uten Ordre AS"})
    new_order(client, customer)
    assert client.has_activity(ORG, customer["number"]) is True
    assert client.has_activity(ORG, other["number"]) is False


def test_a_missing_order_is_not_found_in_the_services_words(client, sandbox):
    with pytest.raises(NotFoundError, match="was not found"):
        client.get_record(DELIVERY, "999999")


def test_order_notices_come_from_the_service(client, sandbox, customer, receiver):
    from integrations.systems.vismanet.webhooks import SIGNATURE_HEADER

    from .conftest import HOOKS_URL

    sandbox.subscribe(HOOKS_URL, secret="portal-key")
    order = new_order(client, customer)
    [call] = [c for c in receiver.calls if c["json"]["event"] == "OrderCreated"]
    headers = {k.lower(): v for k, v in call["headers"].items()}
    [event] = provider.parse_webhook(body=call["body"], headers=headers, query={}, secret="portal-key")
    assert (event.entity, event.external_id) == (DELIVERY, order["orderId"])
    assert SIGNATURE_HEADER in headers


# -- end to end: a webCRM delivery becomes a Visma.net sales order ----------------------------------------------
def test_a_ready_webcrm_delivery_becomes_a_sales_order_in_the_service(db, synkro, sandboxes):
    pair = make_pair("webcrm", "vismanet", sandboxes)
    EntitySync.objects.filter(integration=pair.integration, entity="delivery").update(direction="two_way")
    integration_webhooks_register(integration=pair.integration)
    pair.erp_client.create_record(ITEM, {"inventoryNumber": "1001", "description": "Arbeidsjakke"})
    org = pair.crm_client.create_record(ORG, {"OrganisationName": "Havbris Bygg AS", "OrganisationType": "Kunde"})
    drain()
    number = SyncLink.objects.get(entity="organisation").erp_id
    delivery = pair.crm_client.create_record(DELIVERY, {
        "DeliveryOrganisationId": org["OrganisationId"], "DeliveryDescription": "Tilbud 17",
        "DeliveryErpStatus": "ReadyForSynchronization", "lines": [
            {"QuotationLineData1": "1001", "QuotationLineData2": "Arbeidsjakke", "QuotationLineQuantity": 3,
             "QuotationLinePrice": "199.95", "QuotationLineVatPercentage": 25, "QuotationLineSortOrder": 1}]})
    drain()
    [order] = list(pair.erp_client.list_records(DELIVERY))
    assert order["customer.id"] == number
    assert [(line["inventory.id"], Decimal(str(line["quantity"])), Decimal(str(line["unitPrice"])))
            for line in order["lines"]] == [("1001", Decimal(3), Decimal("199.95"))]
    back = pair.crm_client.get_record(DELIVERY, str(delivery["DeliveryId"]))
    assert back["DeliveryErpId"] == order["orderId"]
    assert pair.erp.count(path_contains="/v1/salesorder") == 0
