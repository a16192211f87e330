"""The Fortnox client against the Fortnox sandbox: auth, paging, polling, errors and retries."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs

import pytest
import requests

from integrations.systems import transport
from integrations.systems.base import MemoryTokenStore
from integrations.systems.catalog import Entity
from integrations.systems.errors import (
    AuthError,
    NotFoundError,
    RateLimitedError,
    TransientError,
    VendorValidationError,
)
from integrations.systems.fortnox import provider
from integrations.systems.fortnox.client import FORTNOX_TOKEN_URL, api_base_url, token_url_for
from integrations.systems.fortnox.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, FortnoxSandbox

from .conftest import BASE, Flaky, make_client, put_customers

UTC = dt.UTC


def own_credentials(sandbox: FortnoxSandbox) -> dict[str, str]:
    return {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET,
            "refresh_token": sandbox.issue_refresh_token()}


def token_calls(sandbox: FortnoxSandbox) -> int:
    return sandbox.count("POST", "/oauth-v1/token")


# -- auth ------------------------------------------------------------------------------------------
def test_login_trades_the_refresh_token_and_keeps_the_rotated_one(mounted, credentials, clock):
    stored: list[dict[str, str]] = []
    client = make_client(credentials, clock, credentials_changed=stored.append)
    first_refresh_token = credentials["refresh_token"]

    assert client.check_connection() == "Connected to Fortnox: 0 customers"

    assert token_calls(mounted) == 1
    assert stored and stored[-1]["refresh_token"] != first_refresh_token
    assert client.credentials["refresh_token"] == stored[-1]["refresh_token"]
    assert first_refresh_token not in mounted.refresh_grants  # single use, as at Fortnox
    assert client.token_store.get(client.token_key()) in mounted.access_tokens


def test_access_token_is_cached_and_shared_with_clients_holding_the_old_refresh_token(mounted, credentials, clock):
    store = MemoryTokenStore()
    client = make_client(dict(credentials), clock, token_store=store)
    client.check_connection()
    client.check_connection()
    stale = make_client(dict(credentials), clock, token_store=store)  # built before the rotation was saved
    stale.check_connection()

    assert token_calls(mounted) == 1
    assert mounted.count("GET", "/3/customers") == 3


def test_expired_access_token_is_refreshed_once_and_the_call_recovers(mounted, client):
    put_customers(mounted, 2)
    client.check_connection()
    refresh_token = client.credentials["refresh_token"]

    mounted.expire_access_tokens()
    record = client.get_record(Entity.ORGANISATION, "1")

    assert record["Name"] == "Kund 1 AB"
    assert token_calls(mounted) == 2
    assert client.credentials["refresh_token"] != refresh_token
    statuses = [r.status for r in mounted.requests if r.path == "/3/customers/1"]
    assert statuses == [401, 200]


def test_revoked_access_token_is_replaced(mounted, client):
    client.check_connection()
    mounted.revoke_access_token(client.token_store.get(client.token_key()))

    assert client.check_connection().startswith("Connected")
    assert token_calls(mounted) == 2


def test_wrong_client_secret_is_an_auth_error_with_fortnox_words(mounted, credentials, clock):
    client = make_client({**credentials, "client_secret": "wrong"}, clock)

    with pytest.raises(AuthError) as caught:
        client.check_connection()

    assert caught.value.vendor_message == "Invalid client credentials"
    assert mounted.count("GET", "/3/") == 0


def test_used_refresh_token_is_refused(mounted, credentials, clock):
    make_client(dict(credentials), clock).check_connection()  # uses and rotates it

    with pytest.raises(AuthError, match="Invalid refresh token"):
        make_client(dict(credentials), clock).check_connection()


def test_demo_refresh_token_survives_restarts(mounted, clock):
    demo = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET, "refresh_token": DEMO_REFRESH_TOKEN}
    for _ in range(3):  # each a fresh process with the stored demo credentials
        assert make_client(dict(demo), clock).check_connection().startswith("Connected")
    assert DEMO_REFRESH_TOKEN in mounted.refresh_grants


def test_base_url_without_api_version_gets_it_and_token_url_follows_the_host(mounted, credentials, clock):
    client = provider.client(base_url=f"{BASE}/", credentials=credentials, sleep=clock.sleep)

    assert client.base_url == f"{BASE}/3"
    assert client.token_url == f"{BASE}/oauth-v1/token"
    assert client.check_connection().startswith("Connected")
    assert api_base_url("https://api.fortnox.se/3/") == "https://api.fortnox.se/3"
    assert token_url_for("https://api.fortnox.se/3") == FORTNOX_TOKEN_URL
    assert token_url_for("http://localhost:8000/sandbox/fortnox/3") == "http://localhost:8000/sandbox/fortnox/oauth-v1/token"


# -- reading ---------------------------------------------------------------------------------------
def test_list_pages_through_every_customer(mounted, client):
    put_customers(mounted, 7)

    numbers = [record["CustomerNumber"] for record in client.list_records(Entity.ORGANISATION, page_size=3)]

    assert numbers == [str(n) for n in range(1, 8)]
    pages = [parse_qs(r.query) for r in mounted.requests if r.path == "/3/customers"]
    assert [(p["page"], p["limit"]) for p in pages] == [(["1"], ["3"]), (["2"], ["3"]), (["3"], ["3"])]


def test_list_is_a_generator_that_reads_pages_lazily(mounted, client):
    put_customers(mounted, 6)
    records = client.list_records(Entity.ORGANISATION, page_size=2)

    next(records)

    assert mounted.count("GET", "/3/customers") == 1


def test_page_size_is_capped_at_fortnox_maximum(mounted, client):
    list(client.list_records(Entity.ITEM, page_size=5000))

    assert parse_qs(mounted.requests[-1].query)["limit"] == ["500"]


def test_modified_since_becomes_lastmodified_in_swedish_time(mounted, client):
    put_customers(mounted, 3, modified=dt.datetime(2024, 5, 1, 9, 0))
    put_customers(mounted, 2, modified=dt.datetime(2024, 5, 1, 10, 30), start=10)

    since = dt.datetime(2024, 5, 1, 8, 15, tzinfo=UTC)  # 10:15 in Stockholm (summer time)
    changed = [r["CustomerNumber"] for r in client.list_records(Entity.ORGANISATION, modified_since=since)]

    assert changed == ["10", "11"]
    assert parse_qs(mounted.requests[-1].query)["lastmodified"] == ["2024-05-01 10:15"]


def test_employees_cannot_be_filtered_by_change_so_all_are_listed(mounted, client):
    client.create_record(Entity.USER, {"FirstName": "Anna", "LastName": "Berg", "Email": "anna@example.se"})

    listed = list(client.list_records(Entity.USER, modified_since=dt.datetime(2099, 1, 1)))

    assert [e["Email"] for e in listed] == ["anna@example.se"]
    assert "lastmodified" not in mounted.requests[-1].query


def test_list_gives_the_reduced_item_and_get_the_full_customer(mounted, client):
    put_customers(mounted, 1)

    listed = next(client.list_records(Entity.ORGANISATION))
    full = client.get_record(Entity.ORGANISATION, "1")

    assert listed["Phone1"] == "08-000001"  # the list calls it Phone
    assert "VATNumber" not in listed
    assert full["VATNumber"] == "SE550000000101"
    assert client.record_id(Entity.ORGANISATION, full) == "1"


# -- writing ---------------------------------------------------------------------------------------
def test_create_and_update_an_order_with_its_rows(mounted, client):
    put_customers(mounted, 1)
    order = client.create_record(Entity.DELIVERY, {
        "CustomerNumber": "1", "Total": 999,  # read-only: left out of the request
        "lines": [{"ArticleNumber": "A1", "OrderedQuantity": 3, "Price": "100.00", "VAT": 25}],
    })

    assert order["Total"] == 375.0
    assert order["lines"][0]["OrderedQuantity"] == "3"
    updated = client.update_record(Entity.DELIVERY, order["DocumentNumber"], {"Remarks": "Levereras fredag"})
    assert updated["Remarks"] == "Levereras fredag"
    assert len(updated["lines"]) == 1


def test_deleting_documents_cancels_them_and_customers_are_deleted(mounted, client):
    put_customers(mounted, 1)
    order = client.create_record(Entity.DELIVERY, {"CustomerNumber": "1"})

    client.delete_record(Entity.DELIVERY, order["DocumentNumber"])
    client.delete_record(Entity.ORGANISATION, "1")

    assert client.get_record(Entity.DELIVERY, order["DocumentNumber"])["Cancelled"] is True
    with pytest.raises(NotFoundError):
        client.get_record(Entity.ORGANISATION, "1")
    with pytest.raises(VendorValidationError):
        client.delete_record(Entity.USER, "1")


# -- errors ----------------------------------------------------------------------------------------
def test_missing_customer_is_not_found_with_fortnox_message(mounted, client):
    with pytest.raises(NotFoundError) as caught:
        client.get_record(Entity.ORGANISATION, "404")

    assert caught.value.vendor_message == "Kan inte hitta kunden. (code 2000433)"


def test_taken_customer_number_is_a_validation_error_with_fortnox_message(mounted, client):
    put_customers(mounted, 1)

    with pytest.raises(VendorValidationError) as caught:
        client.create_record(Entity.ORGANISATION, {"CustomerNumber": "1", "Name": "Dubblett AB"})

    assert caught.value.status == 400
    assert caught.value.vendor_message.startswith("Kundnummer 1 används redan")
    assert "2000637" in caught.value.vendor_message


def test_booked_invoice_cannot_be_changed(mounted, client):
    put_customers(mounted, 1)
    invoice = client.create_record(Entity.INVOICE, {"CustomerNumber": "1", "lines": [
        {"ArticleNumber": "A1", "DeliveredQuantity": "2", "Price": 50, "VAT": 25}]})
    booked = client.invoice_bookkeep(invoice["DocumentNumber"])

    assert booked["Booked"] is True
    with pytest.raises(VendorValidationError, match="bokförd"):
        client.update_record(Entity.INVOICE, invoice["DocumentNumber"], {"Remarks": "ändrad"})


def test_vendor_message_reads_both_casings_of_error_information():
    client = provider.client(credentials={})
    response = requests.Response()
    response.status_code = 400
    response._content = json.dumps({"ErrorInformation": {"Error": 1, "Message": "Felaktigt fältnamn",
                                                         "Code": 2001399}}).encode()

    assert client.vendor_message(response) == "Felaktigt fältnamn (code 2001399)"


# -- rate limits and retries -----------------------------------------------------------------------
def test_client_waits_out_fortnox_rate_limit_without_a_retry_after(clock):
    sandbox = FortnoxSandbox(seed=1)  # Fortnox's own limit: 25 requests per 5 seconds
    sandbox.clock = clock
    credentials = own_credentials(sandbox)
    put_customers(sandbox, 1)
    with transport.mounted(BASE, sandbox):
        client = make_client(credentials, clock)
        for _ in range(30):
            client.get_record(Entity.ORGANISATION, "1")

    limited = [r for r in sandbox.requests if r.status == 429]
    assert limited, "the 26th request in five seconds must be refused"
    # Fortnox names no wait: the client backs off from 1 s, doubling, never hammering the 5-second window.
    assert clock.sleeps and min(clock.sleeps) >= 1.0
    assert all(later >= earlier for earlier, later in zip(clock.sleeps, clock.sleeps[1:], strict=False))
    assert sum(1 for r in sandbox.requests if r.status == 200 and r.path == "/3/customers/1") == 30


def test_rate_limited_error_names_no_wait_when_fortnox_gives_none(clock):
    sandbox = FortnoxSandbox(rate_limit=(2, 60.0))
    sandbox.clock = clock
    credentials = own_credentials(sandbox)
    with transport.mounted(BASE, sandbox):
        client = make_client(credentials, clock, max_attempts=1)
        client.check_connection()  # token + one call fill the window
        with pytest.raises(RateLimitedError) as caught:
            client.check_connection()

    assert caught.value.retry_after is None  # Fortnox sends no Retry-After: the engine's own backoff decides
    assert "Too Many Requests" in caught.value.vendor_message


def test_retry_after_from_a_429_is_honoured(sandbox, credentials, clock):
    flaky = Flaky(sandbox, times=1, status=429, headers={"Retry-After": "7"})
    with transport.mounted(BASE, flaky):
        assert make_client(credentials, clock).check_connection().startswith("Connected")

    assert clock.sleeps[0] >= 7


def test_server_errors_are_retried_then_succeed(sandbox, credentials, clock):
    flaky = Flaky(sandbox, times=2, status=500)
    with transport.mounted(BASE, flaky):
        assert make_client(credentials, clock).check_connection().startswith("Connected")

    assert len(clock.sleeps) == 2


def test_server_errors_give_up_after_max_attempts(sandbox, credentials, clock):
    flaky = Flaky(sandbox, times=99, status=503)
    with transport.mounted(BASE, flaky), pytest.raises(TransientError) as caught:
        make_client(credentials, clock, max_attempts=3).check_connection()

    assert flaky.failed == 3
    assert caught.value.vendor_message == "System exception (code 1000003)"


def test_a_create_is_not_repeated_after_a_server_error(sandbox, credentials, clock):
    flaky = Flaky(sandbox, times=1, status=500)
    with transport.mounted(BASE, flaky), pytest.raises(TransientError):
        make_client(credentials, clock).create_record(Entity.ORGANISATION, {"Name": "Ny AB"})

    assert flaky.failed == 1
    assert sandbox.company.records[Entity.ORGANISATION] == {}
