"""The Fortnox sandbox speaks Fortnox: token handshake, checks, error bodies, limits and event feed."""

from __future__ import annotations

import base64
import datetime as dt
import threading
import time

import pytest
import requests

from integrations.systems import transport
from integrations.systems.catalog import Entity
from integrations.systems.fortnox import provider
from integrations.systems.fortnox.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, FortnoxSandbox

from .conftest import BASE, make_client, put_customers


def basic(client_id: str = DEMO_CLIENT_ID, secret: str = DEMO_CLIENT_SECRET) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.fixture
def http(mounted: FortnoxSandbox) -> requests.Session:
    """A session logged in with the demo app, as a bare HTTP caller."""
    session = transport.build_session()
    answer = session.post(f"{BASE}/oauth-v1/token", headers=basic(),
                          data={"grant_type": "refresh_token", "refresh_token": DEMO_REFRESH_TOKEN})
    session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return session


# -- OAuth2 ----------------------------------------------------------------------------------------
def test_token_endpoint_answers_like_fortnox(mounted):
    answer = requests_post_token(mounted.issue_refresh_token())

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "refresh_token", "scope", "expires_in", "token_type"}
    assert body["expires_in"] == 3600 and body["token_type"] == "bearer"


@pytest.mark.parametrize(("headers", "form", "status", "error"), [
    (basic(secret="wrong"), {"grant_type": "refresh_token", "refresh_token": DEMO_REFRESH_TOKEN}, 401,
     "invalid_client"),
    ({}, {"grant_type": "refresh_token", "refresh_token": DEMO_REFRESH_TOKEN}, 401, "invalid_client"),
    (basic(), {"grant_type": "refresh_token", "refresh_token": "unknown"}, 400, "invalid_grant"),
    (basic(), {"grant_type": "password"}, 400, "unsupported_grant_type"),
])
def test_token_endpoint_refuses_bad_requests(mounted, headers, form, status, error):
    answer = transport.build_session().post(f"{BASE}/oauth-v1/token", headers=headers, data=form)

    assert (answer.status_code, answer.json()["error"]) == (status, error)


def requests_post_token(refresh_token: str) -> requests.Response:
    return transport.build_session().post(f"{BASE}/oauth-v1/token", headers=basic(),
                                          data={"grant_type": "refresh_token", "refresh_token": refresh_token})


@pytest.mark.parametrize("authorization", [None, "Bearer nonsense", "Basic abc"])
def test_api_refuses_missing_or_unknown_tokens_with_fortnox_body(mounted, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    answer = transport.build_session().get(f"{BASE}/3/customers", headers=headers)

    assert answer.status_code == 401
    assert answer.json() == {"ErrorInformation": {"error": 1, "message": "Ogiltig inloggning", "code": 2000310}}


def test_expired_token_is_refused(http, mounted):
    mounted.expire_access_tokens()

    assert http.get(f"{BASE}/3/customers").status_code == 401


# -- resources -------------------------------------------------------------------------------------
def test_list_meta_information_and_limit_cap(http, mounted):
    put_customers(mounted, 3)

    body = http.get(f"{BASE}/3/customers", params={"limit": 2, "page": 2}).json()
    capped = http.get(f"{BASE}/3/customers", params={"limit": 9000}).json()

    assert body["MetaInformation"] == {"@TotalResources": 3, "@TotalPages": 2, "@CurrentPage": 2}
    assert [c["CustomerNumber"] for c in body["Customers"]] == ["3"]
    assert body["Customers"][0]["@url"] == f"{BASE}/3/customers/3"
    assert capped["MetaInformation"]["@TotalPages"] == 1


def test_lastmodified_filters_and_bad_values_are_refused(http, mounted):
    put_customers(mounted, 2, modified=dt.datetime(2024, 1, 1, 12, 0))
    put_customers(mounted, 1, modified=dt.datetime(2024, 1, 2, 12, 0), start=5)

    recent = http.get(f"{BASE}/3/customers", params={"lastmodified": "2024-01-02 00:00"}).json()
    refused = http.get(f"{BASE}/3/customers", params={"lastmodified": "yesterday"})

    assert [c["CustomerNumber"] for c in recent["Customers"]] == ["5"]
    assert refused.status_code == 400
    assert refused.json()["ErrorInformation"]["code"] == 2000588


@pytest.mark.parametrize(("body", "code"), [
    ({"Customer": {"Name": "A", "Colour": "blå"}}, 2001399),
    ({"Customer": {"Name": "A", "InvoiceDiscount": "tio"}}, 2000108),
    ({"Customer": {"Name": "A", "Active": "ja"}}, 2000134),
    ({"Customer": {"Name": "A", "CustomerNumber": "K 1"}}, 2000359),
    ({"Kund": {"Name": "A"}}, 2001392),
])
def test_writes_are_checked_like_fortnox(http, body, code):
    answer = http.post(f"{BASE}/3/customers", json=body)

    assert answer.status_code == 400
    assert answer.json()["ErrorInformation"]["code"] == code


def test_broken_json_and_wrong_content_type_are_refused(http):
    broken = http.post(f"{BASE}/3/customers", data=b"{", headers={"Content-Type": "application/json"})
    as_form = http.post(f"{BASE}/3/customers", data={"Name": "A"})

    assert broken.json()["ErrorInformation"]["code"] == 2002115
    assert as_form.json()["ErrorInformation"]["code"] == 1000031


def test_required_name_and_read_only_fields(http):
    missing = http.post(f"{BASE}/3/customers", json={"Customer": {"City": "Umeå"}})
    created = http.post(f"{BASE}/3/articles", json={"Article": {"Description": "Skruv", "SalesPrice": 9,
                                                                "PurchasePrice": 4}})

    assert missing.status_code == 400
    assert created.status_code == 201
    assert "SalesPrice" not in created.json()["Article"]  # read-only: set through price lists
    assert created.json()["Article"]["PurchasePrice"] == 4.0


def test_booked_invoice_is_locked_and_cancelled_cannot_be_booked(http, mounted):
    put_customers(mounted, 1)
    number = http.post(f"{BASE}/3/invoices", json={"Invoice": {"CustomerNumber": "1"}}).json()["Invoice"][
        "DocumentNumber"]
    other = http.post(f"{BASE}/3/invoices", json={"Invoice": {"CustomerNumber": "1"}}).json()["Invoice"][
        "DocumentNumber"]

    assert http.put(f"{BASE}/3/invoices/{number}/bookkeep").json()["Invoice"]["Booked"] is True
    assert http.put(f"{BASE}/3/invoices/{number}", json={"Invoice": {"Remarks": "x"}}).status_code == 400
    assert http.put(f"{BASE}/3/invoices/{number}/cancel").status_code == 400
    assert http.put(f"{BASE}/3/invoices/{other}/cancel").json()["Invoice"]["Cancelled"] is True
    assert http.put(f"{BASE}/3/invoices/{other}/bookkeep").status_code == 400


def test_unknown_paths_and_records_answer_404_in_fortnox_shape(http):
    assert http.get(f"{BASE}/3/contacts").json()["ErrorInformation"]["message"] == "Resursen finns inte."
    assert http.get(f"{BASE}/3/articles/nope").json()["ErrorInformation"]["message"] == "Kan inte hitta artikeln."
    assert http.delete(f"{BASE}/3/invoices/1").status_code == 404  # invoices are cancelled, never deleted


# -- limits and knobs ------------------------------------------------------------------------------
def test_default_rate_limit_is_25_requests_per_5_seconds(clock):
    sandbox = FortnoxSandbox()
    sandbox.clock = clock
    with transport.mounted(BASE, sandbox):
        session = transport.build_session()
        answers = [session.get(f"{BASE}/3/customers").status_code for _ in range(26)]
        limited = session.get(f"{BASE}/3/customers")
        clock.now += 5
        after_window = session.get(f"{BASE}/3/customers")

    assert answers[:25] == [401] * 25 and answers[25] == 429
    assert "Retry-After" not in limited.headers  # Fortnox documents the 429, not a wait
    assert limited.json()["ErrorInformation"]["message"] == "Too Many Requests"
    assert after_window.status_code == 401


def test_error_knob_answers_fortnox_system_exception():
    sandbox = FortnoxSandbox(error_rate=1.0, rate_limit=(0, 0))
    with transport.mounted(BASE, sandbox):
        answer = transport.build_session().get(f"{BASE}/3/customers")

    assert answer.status_code == 500
    assert answer.json()["ErrorInformation"]["code"] == 1000003


def test_latency_knob_slows_answers():
    sandbox = FortnoxSandbox(latency_ms=30, rate_limit=(0, 0))
    with transport.mounted(BASE, sandbox):
        started = time.perf_counter()
        transport.build_session().get(f"{BASE}/3/customers")

    assert time.perf_counter() - started >= 0.03


# -- event feed (Fortnox's WebSocket topics) -------------------------------------------------------
def test_changes_are_published_on_the_topic_in_fortnox_event_shape(mounted, client):
    created = client.create_record(Entity.ORGANISATION, {"Name": "Händelse AB"})
    client.update_record(Entity.ORGANISATION, created["CustomerNumber"], {"City": "Luleå"})
    client.delete_record(Entity.ORGANISATION, created["CustomerNumber"])
    client.create_record(Entity.USER, {"FirstName": "Per", "LastName": "Ek", "Email": "per@example.se"})

    events = mounted.events("customers")

    assert [e["type"] for e in events] == ["customer-created-v1", "customer-updated-v1", "customer-deleted-v1"]
    assert [e["offset"] for e in events] == ["1", "2", "3"]
    assert {e["entityId"] for e in events} == {created["CustomerNumber"]}
    assert set(events[0]) == {"topic", "offset", "type", "tenantId", "entityId", "timestamp"}
    assert mounted.events("customers", after="2") == events[2:]
    assert all(not feed for topic, feed in mounted.company.topics.items() if topic != "customers")


def test_invoice_bookkeeping_and_order_cancelling_are_events(mounted, client):
    put_customers(mounted, 1)
    invoice = client.create_record(Entity.INVOICE, {"CustomerNumber": "1"})
    client.invoice_bookkeep(invoice["DocumentNumber"])
    order = client.create_record(Entity.DELIVERY, {"CustomerNumber": "1"})
    client.delete_record(Entity.DELIVERY, order["DocumentNumber"])

    assert [e["type"] for e in mounted.events("invoices")] == ["invoice-created-v1", "invoice-bookkeep-v1"]
    assert [e["type"] for e in mounted.events("orders")] == ["order-created-v1", "order-cancelled-v1"]


@pytest.mark.parametrize(("rate", "expect"), [(1.0, "none"), (0.5, "some"), (0.0, "all")])
def test_drop_knob_loses_a_share_of_events(credentials, clock, rate, expect):
    sandbox = FortnoxSandbox(rate_limit=(0, 0), webhook_drop_rate=rate, seed=3)
    credentials = {**credentials, "refresh_token": sandbox.issue_refresh_token()}
    with transport.mounted(BASE, sandbox):
        client = make_client(credentials, clock)
        for index in range(20):
            client.create_record(Entity.ITEM, {"Description": f"Artikel {index}"})

    kept = len(sandbox.events("articles"))
    assert {"none": kept == 0, "some": 0 < kept < 20, "all": kept == 20}[expect]
    assert len(sandbox.company.records[Entity.ITEM]) == 20  # the writes themselves never drop


def test_concurrent_creates_get_distinct_numbers(mounted, credentials, clock):
    client = make_client(credentials, clock)
    client.check_connection()
    numbers: list[str] = []

    def create_five() -> None:
        for _ in range(5):
            numbers.append(client.create_record(Entity.ORGANISATION, {"Name": "Parallell AB"})["CustomerNumber"])

    threads = [threading.Thread(target=create_five) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(numbers)) == 20
    assert len(mounted.events("customers")) == 20


# -- demo ------------------------------------------------------------------------------------------
def test_seed_demo_fills_a_realistic_company_and_accepts_the_demo_credentials(clock):
    sandbox = provider.sandbox(rate_limit=(0, 0))
    sandbox.seed_demo()
    records = sandbox.company.records
    invoices = records[Entity.INVOICE].values()

    assert len(records[Entity.ORGANISATION]) >= 200 and len(records[Entity.ITEM]) >= 100
    assert len(records[Entity.USER]) >= 10 and all(o["OrderRows"] for o in records[Entity.DELIVERY].values())
    assert {(i["Booked"], i["Cancelled"]) for i in invoices} == {(False, False), (True, False), (False, True)}
    assert any(i["Booked"] and i["Balance"] == 0 for i in invoices)
    assert not any(sandbox.company.topics.values())  # seeding is history, not news
    with transport.mounted(BASE, sandbox):
        demo = dict(provider.extras["demo_credentials"])
        client = provider.client(base_url=BASE, credentials=demo, sleep=clock.sleep)
        assert client.check_connection() == f"Connected to Fortnox: {len(records[Entity.ORGANISATION])} customers"
        again = provider.client(base_url=BASE, credentials=dict(provider.extras["demo_credentials"]))
        assert again.get_record(Entity.INVOICE, "1")["lines"]


def test_demo_mount_under_the_web_app_serves_token_and_api(clock):
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    sandbox = FortnoxSandbox(rate_limit=(0, 0))
    put_customers(sandbox, 1)
    site = DispatcherMiddleware(lambda environ, start_response: [], {"/sandbox/fortnox": sandbox})
    with transport.mounted("https://demo.test", site):
        client = provider.client(base_url="https://demo.test/sandbox/fortnox",
                                 credentials=dict(provider.extras["demo_credentials"]), sleep=clock.sleep)
        record = client.get_record(Entity.ORGANISATION, "1")

    assert client.token_url == "https://demo.test/sandbox/fortnox/oauth-v1/token"
    assert record["@url"] == "https://demo.test/sandbox/fortnox/3/customers/1"
