"""The sandbox behaves like Customers 1st: paths, auth, bucket, PUT semantics and signed REST hooks."""

from __future__ import annotations

import threading
import time

import pytest

from integrations.systems import transport
from integrations.systems.customers1st import provider
from integrations.systems.customers1st.sandbox import DEMO_SIGNING_SECRET, DEMO_TOKEN
from integrations.systems.customers1st.webhooks import parse_webhook

from .conftest import API, BASE, HOOKS

AUTH = {"Authorization": f"Bearer {DEMO_TOKEN}"}


@pytest.fixture
def http(sandbox):
    with transport.mounted(BASE, sandbox):
        session = transport.build_session()
        yield session
        session.close()


def test_paths_answer_with_and_without_the_api_prefix(http):
    assert http.get(f"{API}/settings/store", headers=AUTH).status_code == 200
    assert http.get(f"{BASE}/settings/store", headers=AUTH).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": DEMO_TOKEN}])
def test_bad_credentials_get_the_vendors_401(http, headers):
    response = http.get(f"{API}/customers", headers=headers)
    assert response.status_code == 401
    assert response.json()["errorcode"] == "UNAUHTORIZED"


def test_unknown_query_parameters_are_refused_like_the_vendors_validator(http):
    response = http.get(f"{API}/customers", params={"page": 2}, headers=AUTH)
    assert response.status_code == 400
    assert response.json() == {"message": "Request validation failed",
                               "errors": [{"name": "page", "code": "error_additional", "in": "query"}]}


def test_put_replaces_the_whole_customer(sandbox, http):
    customer = sandbox.add_customer({"name": "Højby El-service", "phone": "+4522334455", "city": "Hillerød"})
    response = http.put(f"{API}/customers/{customer['id']}", json={"content": {"name": "Højby El-service"}},
                        headers=AUTH)
    assert response.status_code == 200
    assert (response.json()["content"]["phone"], response.json()["content"]["city"]) == (None, None)


def test_the_bucket_empties_and_refills():
    sandbox = provider.sandbox(rate_limit=(3, 3.0))
    clock = {"now": 100.0}
    sandbox.clock = lambda: clock["now"]
    with transport.mounted(BASE, sandbox):
        session = transport.build_session()
        statuses = [session.get(f"{API}/registers", headers=AUTH).status_code for _ in range(4)]
        limited = session.get(f"{API}/registers", headers=AUTH)
        clock["now"] += 1.0  # one request's worth at 1 per second
        refilled = session.get(f"{API}/registers", headers=AUTH).status_code
        again = session.get(f"{API}/registers", headers=AUTH).status_code
    assert statuses == [200, 200, 200, 429]
    assert limited.json() == {"error": "API Resource limit reached.", "bucket_size": "3", "bucket_regen": "1"}
    assert "Retry-After" not in limited.headers  # customers1st-general.md documents the body only
    assert (refilled, again) == (200, 429)


def test_the_default_bucket_is_the_vendors_80():
    sandbox = provider.sandbox()
    sandbox.clock = lambda: 0.0
    with transport.mounted(BASE, sandbox):
        session = transport.build_session()
        statuses = [session.get(f"{API}/registers", headers=AUTH).status_code for _ in range(81)]
    assert statuses.count(200) == 80 and statuses[-1] == 429
    assert session.get(f"{API}/registers", headers=AUTH).json()["bucket_regen"] == "8"


def test_hooks_fire_on_create_update_and_delete_signed(sandbox, http, receiver):
    for event in ("customer.created", "customer.updated", "customer.deleted"):
        sandbox.subscribe(f"{HOOKS}/in/token", event)
    created = http.post(f"{API}/customers", json={"content": {"name": "Solbakken Blomster"}}, headers=AUTH).json()
    customer_id = created["content"]["id"]
    http.put(f"{API}/customers/{customer_id}", json={"content": {"name": "Solbakken Blomster ApS"}}, headers=AUTH)
    http.delete(f"{API}/customers/{customer_id}", headers=AUTH)
    assert [e["event"] for e in receiver.events()] == ["customer.created", "customer.updated", "customer.deleted"]
    assert {e["content"]["id"] for e in receiver.events()} == {customer_id}
    assert receiver.events()[1]["content"]["name"] == "Solbakken Blomster ApS"
    for call in receiver.calls:
        assert call["path"] == "/in/token"
        [event] = parse_webhook(body=call["body"], headers=call["headers"], query={}, secret=DEMO_SIGNING_SECRET)
        assert event.external_id == str(customer_id)
    assert set(receiver.events()[0]) == {"content", "event", "logid", "resthookid", "storeid", "initiated",
                                         "metadata"}


def test_products_and_sales_raise_their_hooks(sandbox, http, receiver):
    for event in ("product.created", "product.updated", "product.deleted", "pospayment.created"):
        sandbox.subscribe(f"{HOOKS}/in", event)
    product = http.post(f"{API}/products", json={"content": {"title": "Høreværn"}}, headers=AUTH).json()["content"]
    http.put(f"{API}/products/{product['id']}", json={"content": {"title": "Høreværn Pro"}}, headers=AUTH)
    http.post(f"{API}/pospayments", json={"articles": [{"title": "Høreværn Pro", "price": 99.0, "quantity": 1,
                                                        "vat": 25, "productid": product["id"]}]}, headers=AUTH)
    http.delete(f"{API}/products/{product['id']}", headers=AUTH)
    assert [e["event"] for e in receiver.events()] == [
        "product.created", "product.updated", "pospayment.created", "product.deleted"]
    assert receiver.events()[2]["content"]["articles"][0]["title"] == "Høreværn Pro"


def test_suppress_hooks_header_keeps_hooks_quiet(sandbox, http, receiver):
    sandbox.subscribe(f"{HOOKS}/in", "customer.created")
    http.post(f"{API}/customers", json={"content": {"name": "Aarslev Maskinstation"}},
              headers={**AUTH, "X-Suppress-Hooks": ""})
    assert receiver.calls == []


def test_answering_410_unsubscribes(sandbox, http, receiver):
    sandbox.subscribe(f"{HOOKS}/in", "customer.created")
    receiver.status = 410
    http.post(f"{API}/customers", json={"content": {"name": "Bøgely Catering"}}, headers=AUTH)
    http.post(f"{API}/customers", json={"content": {"name": "Bøgely Catering 2"}}, headers=AUTH)
    assert len(receiver.calls) == 1
    assert sandbox.hooks == {}


def test_a_failed_delivery_is_recorded_not_raised(sandbox, http):
    sandbox.subscribe("https://nobody-listens.invalid/in", "customer.created")
    assert http.post(f"{API}/customers", json={"content": {"name": "Vestjysk Handel"}}, headers=AUTH).ok
    assert sandbox.webhooks[0].error


def test_the_drop_knob_loses_every_hook_at_one(receiver):
    sandbox = provider.sandbox(rate_limit=(0, 0), webhook_drop_rate=1.0)
    sandbox.subscribe(f"{HOOKS}/in", "customer.created")
    for n in range(5):
        sandbox.add_customer({"name": f"Kunde {n}"})
    assert receiver.calls == []
    assert len(sandbox.webhooks) == 5 and all(d.dropped for d in sandbox.webhooks)


def test_the_drop_knob_at_half_loses_some(receiver):
    sandbox = provider.sandbox(rate_limit=(0, 0), webhook_drop_rate=0.5, seed=11)
    sandbox.subscribe(f"{HOOKS}/in", "customer.created")
    for n in range(30):
        sandbox.add_customer({"name": f"Kunde {n}"})
    dropped = sum(d.dropped for d in sandbox.webhooks)
    assert 0 < dropped < 30
    assert len(receiver.calls) == 30 - dropped


def test_latency_knob_slows_answers():
    sandbox = provider.sandbox(rate_limit=(0, 0), latency_ms=40)
    with transport.mounted(BASE, sandbox):
        started = time.perf_counter()
        transport.build_session().get(f"{API}/registers", headers=AUTH)
    assert time.perf_counter() - started >= 0.04


def test_concurrent_writes_get_distinct_ids(sandbox):
    def create(n: int) -> None:
        for m in range(20):
            sandbox.add_customer({"name": f"Kunde {n}-{m}"})

    threads = [threading.Thread(target=create, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sandbox.customers) == 120
    assert sorted(sandbox.customers) == list(range(1, 121))


def test_seed_demo_fills_a_realistic_store():
    sandbox = provider.sandbox(rate_limit=(0, 0))
    sandbox.seed_demo()
    assert len(sandbox.customers) >= 300
    styles: dict[str, set[tuple[str, str]]] = {}
    for product in sandbox.products.values():
        styles.setdefault(product["styleno"], set()).add((product["size"], product["color"]))
    assert len(styles) >= 10 and all(len(variants) == 4 for variants in styles.values())
    assert len(sandbox.registers) == 3
    payments = list(sandbox.payments.values())
    assert len(payments) > 100
    assert any(p["invoice"] == 1 and p["customerid"] for p in payments)
    assert any(p["paidwithcash"] > 0 for p in payments)
    assert any(p["discountsum"] > 0 for p in payments)
    assert len(sandbox.balances) == 3 * 7
    assert any(b["cashdifference"] < 0 for b in sandbox.balances.values())
    assert sandbox.webhooks == []


def test_the_demo_connection_credentials_work():
    credentials = provider.extras["demo_credentials"]
    sandbox = provider.sandbox()
    sandbox.seed_demo()
    with transport.mounted(BASE, sandbox):
        client = provider.client(base_url=BASE, credentials=credentials, sleep=lambda s: None)
        assert client.check_connection()
    assert credentials["signing_secret"] == sandbox.signing_secret
