"""Every body the client sends and every answer the sandbox gives matches Fortnox's OpenAPI description."""

from __future__ import annotations

import itertools

import pytest

from integrations.systems import transport
from integrations.systems.catalog import Entity
from integrations.systems.errors import ExternalSystemError
from integrations.systems.fortnox.sandbox import FortnoxSandbox

from ..contract import (
    assert_path_documented,
    assert_query_matches,
    assert_request_matches,
    assert_response_matches,
    spec_source,  # noqa: F401 - runs each test against the digest and, when at hand, the description
)
from ..recording import Exchange, Recorder
from .conftest import BASE, make_client, put_customers

SPEC = "fortnox-openapi.json"
ID_PARAMETERS = {"customers": "CustomerNumber", "articles": "ArticleNumber", "orders": "DocumentNumber",
                 "invoices": "DocumentNumber", "employees": "EmployeeId"}


def template(path: str) -> str:
    """The description's path template for a concrete API path."""
    parts = path.strip("/").split("/")
    if len(parts) >= 3:
        parts[2] = "{" + ID_PARAMETERS[parts[1]] + "}"
    return "/" + "/".join(parts)


def check(exchanges: list[Exchange]) -> int:
    """Validate every API exchange; returns how many bodies were checked."""
    checked = 0
    for exchange in exchanges:
        if not exchange.path.startswith("/3/"):
            continue  # the token endpoint lives on apps.fortnox.se, outside the description
        path = template(exchange.path)
        assert_path_documented(SPEC, path, exchange.method)
        assert_query_matches(SPEC, path, exchange.method, exchange.query)
        if exchange.request_body is not None:
            assert_request_matches(SPEC, path, exchange.method, exchange.request_body)
            checked += 1
        if exchange.response_body is not None:
            status = exchange.status if exchange.status < 400 else "default"
            assert_response_matches(SPEC, path, exchange.method, exchange.response_body, status=status)
            checked += 1
    return checked


@pytest.fixture
def recorder(sandbox: FortnoxSandbox):
    recording = Recorder(sandbox)
    with transport.mounted(BASE, recording):
        yield recording


def test_customer_and_article_round_trips_match_the_description(recorder, sandbox, credentials, clock):
    client = make_client(credentials, clock)
    customer = client.create_record(Entity.ORGANISATION, {
        "Name": "Kontrakt AB", "OrganisationNumber": "556677-8899", "VATType": "SEVAT", "Type": "COMPANY",
        "DefaultDeliveryTypes.Invoice": "EMAIL", "InvoiceDiscount": "2.5", "Active": True, "Country": "Sverige"})
    client.update_record(Entity.ORGANISATION, customer["CustomerNumber"], {"City": "Lund", "WWW": "kontrakt.se"})
    client.get_record(Entity.ORGANISATION, customer["CustomerNumber"])
    list(client.list_records(Entity.ORGANISATION))
    article = client.create_record(Entity.ITEM, {"Description": "Skruv 5x50", "PurchasePrice": "1.20",
                                                  "SalesAccount": "3001", "EAN": "5701234567892"})
    client.update_record(Entity.ITEM, article["ArticleNumber"], {"Unit": "pk", "StockGoods": True})
    list(client.list_records(Entity.ITEM))
    client.delete_record(Entity.ITEM, article["ArticleNumber"])
    with pytest.raises(ExternalSystemError):
        client.get_record(Entity.ITEM, article["ArticleNumber"])

    assert check(recorder.exchanges) >= 10


def test_order_invoice_and_employee_round_trips_match_the_description(recorder, sandbox, credentials, clock):
    put_customers(sandbox, 1)
    client = make_client(credentials, clock)
    order = client.create_record(Entity.DELIVERY, {
        "CustomerNumber": "1", "OrderDate": "2024-05-02", "YourReference": "Anna",
        "lines": [{"ArticleNumber": "A1", "Description": "Jacka", "OrderedQuantity": 2, "DeliveredQuantity": 2,
                   "Price": "499.00", "Discount": 10, "DiscountType": "PERCENT", "VAT": 25, "RowId": 9}]})
    client.update_record(Entity.DELIVERY, order["DocumentNumber"], {"Remarks": "Ring innan leverans"})
    client.delete_record(Entity.DELIVERY, order["DocumentNumber"])
    invoice = client.create_record(Entity.INVOICE, {
        "CustomerNumber": "1", "InvoiceDate": "2024-05-02", "Balance": 1,
        "lines": [{"ArticleNumber": "A1", "DeliveredQuantity": "1.5", "Price": 100, "VAT": "25"}]})
    client.invoice_bookkeep(invoice["DocumentNumber"])
    with pytest.raises(ExternalSystemError):
        client.update_record(Entity.INVOICE, invoice["DocumentNumber"], {"Remarks": "för sent"})
    employee = client.create_record(Entity.USER, {"FirstName": "Karin", "LastName": "Lind", "Email": "k@lind.se",
                                                  "EmploymentForm": "TV", "FullTimeEquivalent": "100"})
    client.update_record(Entity.USER, employee["EmployeeId"], {"JobTitle": "Säljare"})
    for entity in (Entity.DELIVERY, Entity.INVOICE, Entity.USER):
        list(client.list_records(entity))

    assert check(recorder.exchanges) >= 15


def test_demo_company_answers_match_the_description(credentials, clock):
    sandbox = FortnoxSandbox(rate_limit=(0, 0))
    sandbox.seed_demo()
    recording = Recorder(sandbox)
    with transport.mounted(BASE, recording):
        client = make_client({**credentials, "refresh_token": sandbox.issue_refresh_token()}, clock)
        for entity in (Entity.ORGANISATION, Entity.ITEM, Entity.DELIVERY, Entity.INVOICE, Entity.USER):
            for record in itertools.islice(client.list_records(entity, page_size=200), 0, None, 37):
                client.get_record(entity, client.record_id(entity, record))

    assert check(recording.exchanges) >= 25
