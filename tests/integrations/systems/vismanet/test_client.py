"""The Visma.net client against its sandbox: auth, paging, filters, errors, retries."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from integrations.systems import transport
from integrations.systems.catalog import Entity
from integrations.systems.errors import (
    AuthError,
    NotFoundError,
    RateLimitedError,
    TransientError,
    VendorValidationError,
)
from integrations.systems.vismanet import provider
from integrations.systems.vismanet.client import VISMA_CONNECT_TOKEN_URL, token_url_for

from .conftest import BASE_URL, CREDENTIALS, FakeClock, make_client


def add_customers(client, count: int) -> list[dict]:
    return [client.create_record(Entity.ORGANISATION, {"name": f"Kunde {i} ApS"}) for i in range(count)]


# -- auth -------------------------------------------------------------------------------------------
def test_token_url_follows_the_base_url():
    assert token_url_for("https://api.finance.visma.net") == VISMA_CONNECT_TOKEN_URL
    assert token_url_for("https://integration.visma.net/API") == VISMA_CONNECT_TOKEN_URL
    assert token_url_for("http://localhost:8000/sandbox/vismanet") == \
        "http://localhost:8000/sandbox/vismanet/connect/token"


def test_logs_in_once_and_caches_the_token(client, sandbox):
    client.get_record(Entity.ORGANISATION, add_customers(client, 1)[0]["number"])
    client.check_connection()
    assert sandbox.count("POST", "/connect/token") == 1
    assert client.token_store.get(client.token_key()) in sandbox.tokens


def test_a_second_client_reuses_the_cached_token(client, sandbox):
    client.check_connection()
    other = make_client(token_store=client.token_store)
    other.check_connection()
    assert sandbox.count("POST", "/connect/token") == 1


def test_expired_token_is_replaced_once(client, sandbox):
    client.check_connection()
    sandbox.expire_tokens()
    assert "connected" in client.check_connection()
    assert sandbox.count("POST", "/connect/token") == 2
    assert [r.status for r in sandbox.requests if r.path == "/v1/customer"] == [200, 401, 200]


def test_revoked_token_is_replaced(client, sandbox):
    client.check_connection()
    sandbox.revoke_token(client.token_store.get(client.token_key()))
    client.check_connection()
    assert sandbox.count("POST", "/connect/token") == 2


def test_wrong_secret_is_an_auth_error_with_visma_connects_words(sandbox):
    bad = make_client(credentials={**CREDENTIALS, "client_secret": "nope"})
    with pytest.raises(AuthError) as caught:
        bad.check_connection()
    assert caught.value.vendor_message == "invalid_client"
    assert sandbox.count(path_contains="/v1/") == 0


def test_wrong_tenant_is_an_auth_error(sandbox):
    bad = make_client(credentials={**CREDENTIALS, "tenant_id": "someone-else"})
    with pytest.raises(AuthError, match="someone-else"):
        bad.check_connection()


def test_api_refuses_calls_without_a_token(sandbox):
    response = transport.build_session().get(f"{BASE_URL}/v1/customer")
    assert response.status_code == 401
    assert response.json() == {"Message": "Authorization has been denied for this request."}


# -- reading ----------------------------------------------------------------------------------------
def test_lists_every_page(client, sandbox):
    add_customers(client, 7)
    sandbox.clear_log()
    names = [r["name"] for r in client.list_records(Entity.ORGANISATION, page_size=3)]
    assert names == [f"Kunde {i} ApS" for i in range(7)]
    assert [r.query for r in sandbox.requests if r.path == "/v1/customer"] == [
        "pageSize=3&pageNumber=1", "pageSize=3&pageNumber=2", "pageSize=3&pageNumber=3"]


def test_listing_is_a_generator(client, sandbox):
    add_customers(client, 4)
    sandbox.clear_log()
    records = client.list_records(Entity.ORGANISATION, page_size=2)
    assert sandbox.count("GET", "/v1/customer") == 0
    next(records)
    assert sandbox.count("GET", "/v1/customer") == 1


def test_an_exact_multiple_ends_when_the_total_count_came(client, sandbox):
    add_customers(client, 4)
    sandbox.clear_log()
    assert len(list(client.list_records(Entity.ORGANISATION, page_size=2))) == 4
    assert sandbox.count("GET", "/v1/customer") == 2


def test_modified_since_asks_visma_for_later_changes(client, sandbox, clock: FakeClock):
    first, second, third = add_customers(client, 3)
    cutoff = clock.now()
    clock.advance(60)
    client.update_record(Entity.ORGANISATION, second["number"], {"mainContact.phone1": "+45 11 22 33 44"})
    changed = list(client.list_records(Entity.ORGANISATION, modified_since=cutoff))
    assert [r["number"] for r in changed] == [second["number"]]
    assert "lastModifiedDateTimeCondition=%3E" in sandbox.requests[-1].query
    everything = list(client.list_records(Entity.ORGANISATION, modified_since=cutoff - timedelta(seconds=1)))
    assert {r["number"] for r in everything} == {first["number"], second["number"], third["number"]}


def test_records_are_flat_with_dotted_names(client):
    created = client.create_record(Entity.ORGANISATION, {
        "name": "Fjordens Byg A/S", "mainAddress.addressLine1": "Havnevej 3", "mainAddress.postalCode": "8000",
        "mainAddress.city": "Aarhus C", "mainAddress.country.id": "DK", "vatZone.id": "01",
        "mainContact.email": "info@fjordens.dk"})
    assert created["mainAddress.country.id"] == "DK"
    assert created["vatZone.id"] == "01"
    assert created["mainContact.email"] == "info@fjordens.dk"
    assert isinstance(created["internalId"], int)
    assert client.record_id(Entity.ORGANISATION, created) == created["number"]


def test_create_reads_the_record_back_from_location(client, sandbox):
    sandbox.clear_log()
    created = client.create_record(Entity.ITEM, {"inventoryNumber": "X-1", "description": "Skruer", "defaultPrice": 12})
    assert created["defaultPrice"] == 12.0
    assert [(r.method, r.path, r.status) for r in sandbox.requests if r.path.startswith("/v1/")] == [
        ("POST", "/v1/inventory", 201), ("GET", "/v1/inventory/X-1", 200)]


def test_contacts_belong_to_a_customer(client):
    customer = add_customers(client, 1)[0]
    person = client.create_record(Entity.PERSON, {"firstName": "Mette", "lastName": "Nielsen",
                                                  "email": "mette@kunde.dk", "businessAccount": customer["number"]})
    assert person["displayName"] == "Mette Nielsen"
    assert client.get_record(Entity.PERSON, str(person["contactId"]))["email"] == "mette@kunde.dk"


def test_sales_order_lines_are_inserted_updated_and_deleted(client):
    customer = add_customers(client, 1)[0]
    for number in ("A1", "A2", "A3"):
        client.create_record(Entity.ITEM, {"inventoryNumber": number, "description": number, "defaultPrice": 100})
    order = client.create_record(Entity.DELIVERY, {"customer.id": customer["number"], "lines": [
        {"inventory.id": "A1", "quantity": 2, "unitPrice": 50, "discountPercent": 10},
        {"inventory.id": "A2", "quantity": 1}]})
    assert order["type"] == "SO" and order["status.description"] == "Open"
    assert [line["extendedPrice"] for line in order["lines"]] == [90.0, 100.0]
    assert order["totals.orderTotal"] == 237.5
    updated = client.update_record(Entity.DELIVERY, order["orderId"], {"lines": [
        {"lineId": 1, "inventory.id": "A1", "quantity": 4},
        {"inventory.id": "A3", "quantity": 1}]})
    assert [(line["lineId"], line["inventory.id"], line["quantity"]) for line in updated["lines"]] == [
        (1, "A1", 4.0), (3, "A3", 1.0)]


def test_invoices_carry_their_lines(client):
    customer = add_customers(client, 1)[0]
    invoice = client.create_record(Entity.INVOICE, {"customer.number": customer["number"], "lines": [
        {"description": "Konsulenttime", "quantity": 3, "unitPriceInCurrency": 800}]})
    assert invoice["status"] == "Balanced"
    assert invoice["lines"][0]["amount"] == 2400.0
    assert invoice["amount"] == 3000.0


def test_employees_are_read_only(client, sandbox):
    sandbox.clear_log()
    with pytest.raises(VendorValidationError):
        client.create_record(Entity.USER, {"employeeName": "Lars"})
    assert sandbox.requests == []


def test_delete_deactivates_what_visma_cannot_delete(client):
    customer = add_customers(client, 1)[0]
    client.delete_record(Entity.ORGANISATION, customer["number"])
    assert client.get_record(Entity.ORGANISATION, customer["number"])["status"] == "Inactive"
    with pytest.raises(VendorValidationError):
        client.delete_record(Entity.INVOICE, "100001")


def test_unknown_fields_are_refused_before_sending(client):
    with pytest.raises(VendorValidationError, match="vatZone"):
        client.create_record(Entity.ORGANISATION, {"name": "X", "vatZone": "01"})


# -- errors -----------------------------------------------------------------------------------------
def test_missing_record_is_not_found_with_vismas_message(client):
    with pytest.raises(NotFoundError) as caught:
        client.get_record(Entity.ORGANISATION, "99999")
    assert caught.value.vendor_message == "Customer 99999 not found. (fault code 12001)"


def test_refused_data_is_a_validation_error_with_vismas_message(client):
    with pytest.raises(VendorValidationError) as caught:
        client.create_record(Entity.ORGANISATION, {"currencyId": "DKK"})
    assert caught.value.status == 400
    assert caught.value.vendor_message.startswith("Error: 'Name' cannot be empty.")


def test_released_invoice_cannot_change(client, sandbox):
    customer = add_customers(client, 1)[0]
    invoice = client.create_record(Entity.INVOICE, {"customer.number": customer["number"], "lines": [
        {"description": "Timer", "quantity": 1, "unitPriceInCurrency": 100}]})
    sandbox.release_invoice(invoice["referenceNumber"])
    with pytest.raises(VendorValidationError, match="released"):
        client.update_record(Entity.INVOICE, invoice["referenceNumber"], {"invoiceText": "changed"})


def test_over_the_limit_is_rate_limited_with_retry_after(clock: FakeClock):
    app = provider.sandbox(rate_limit=(2, 60))
    app.clock = clock.monotonic
    with transport.mounted(BASE_URL, app):
        client = make_client(max_attempts=1)
        client.check_connection()
        clock.advance(10)
        client.check_connection()
        with pytest.raises(RateLimitedError) as caught:
            client.check_connection()
    assert caught.value.retry_after == 50


def test_waits_out_the_rate_limit_window(clock: FakeClock):
    app = provider.sandbox(rate_limit=(2, 60))
    app.clock = clock.monotonic
    with transport.mounted(BASE_URL, app):
        client = make_client(sleep=clock.sleep, max_attempts=3)
        for _ in range(3):
            client.check_connection()
    assert clock.slept and clock.slept[0] >= 60


def test_retries_a_429_honouring_retry_after(client, sandbox):
    sleeps: list[float] = []
    client.sleep = sleeps.append
    customer = add_customers(client, 1)[0]
    sandbox.fail_next(2, status=429, retry_after=7)
    assert client.get_record(Entity.ORGANISATION, customer["number"])["name"] == "Kunde 0 ApS"
    assert len(sleeps) == 2 and all(s >= 7 for s in sleeps)


def test_retries_server_errors_with_backoff(client, sandbox):
    sleeps: list[float] = []
    client.sleep = sleeps.append
    sandbox.fail_next(2, status=503)
    assert "connected" in client.check_connection()
    assert len(sleeps) == 2
    assert 0 < sleeps[0] <= client.backoff_max


def test_gives_up_on_server_errors_after_max_attempts(client, sandbox):
    client.check_connection()
    sandbox.clear_log()
    sandbox.fail_next(10, status=502)
    with pytest.raises(TransientError) as caught:
        client.check_connection()
    assert caught.value.status == 502
    assert caught.value.vendor_message == "An error has occurred. (fault code 10000)"
    assert sandbox.count("GET", "/v1/customer") == 3


def test_gives_up_when_always_throttled():
    app = provider.sandbox(rate_limit=(0, 0), throttle_rate=1.0)
    with transport.mounted(BASE_URL, app):
        client = make_client(max_attempts=4)
        with pytest.raises(RateLimitedError) as caught:
            client.check_connection()
    assert caught.value.retry_after == 1
    assert app.count("GET", "/v1/customer") == 4


def test_creates_are_not_repeated_after_a_server_error(client, sandbox):
    client.check_connection()
    sandbox.fail_next(1, status=500)
    with pytest.raises(TransientError):
        client.create_record(Entity.ORGANISATION, {"name": "Kun én gang"})
    assert sandbox.count("POST", "/v1/customer") == 1


def test_latency_knob_slows_answers():
    app = provider.sandbox(rate_limit=(0, 0), latency_ms=30)
    with transport.mounted(BASE_URL, app):
        client = make_client()
        client.check_connection()
        started = time.perf_counter()
        client.check_connection()
    assert time.perf_counter() - started >= 0.03
