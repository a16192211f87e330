"""The Visma.net sandbox on its own: webhooks, the drop knob, limits, Visma Connect, demo data."""

from __future__ import annotations

import threading

import pytest

from integrations.systems import transport
from integrations.systems.catalog import Entity
from integrations.systems.vismanet import provider
from integrations.systems.vismanet.sandbox import VismaNetSandbox
from integrations.systems.vismanet.webhooks import SIGNATURE_HEADER

from .conftest import BASE_URL, CREDENTIALS, HOOKS_URL, make_client

SECRET = "portal-secret"


def token(session) -> str:
    form = {"grant_type": "client_credentials", **CREDENTIALS, "scope": "vismanet_erp_service_api:read"}
    return session.post(f"{BASE_URL}/connect/token", data=form).json()["access_token"]


# -- webhooks ---------------------------------------------------------------------------------------
def test_create_update_and_delete_call_the_subscriber(sandbox, client, receiver):
    sandbox.subscribe(HOOKS_URL, secret=SECRET)
    customer = client.create_record(Entity.ORGANISATION, {"name": "Havbrise Handel ApS"})
    client.update_record(Entity.ORGANISATION, customer["number"], {"mainAddress.city": "Vejle"})
    client.delete_record(Entity.ORGANISATION, customer["number"])
    assert receiver.events() == ["CustomerCreated", "CustomerUpdated", "CustomerUpdated"]
    hook = receiver.calls[0]
    assert set(hook["json"]) == {"tenantId", "event", "entityId", "timestamp"}
    assert hook["json"]["entityId"] == customer["number"]
    assert hook["json"]["tenantId"] == "demo-tenant"
    assert {"X-Vwd-Event-Id", "X-Vwd-Tenant-Id", "X-Vwd-Subscription-Id", "X-Vwd-Notification-Timestamp"} <= \
        set(hook["headers"])


def test_the_sandboxs_webhooks_pass_the_parser(sandbox, client, receiver):
    sandbox.subscribe(HOOKS_URL, secret=SECRET)
    item = client.create_record(Entity.ITEM, {"inventoryNumber": "K-9", "description": "Kaffe"})
    hook = receiver.calls[0]
    headers = {k.lower(): v for k, v in hook["headers"].items()}
    [event] = provider.parse_webhook(body=hook["body"], headers=headers, query={}, secret=SECRET)
    assert (event.entity, event.external_id) == (Entity.ITEM, item["inventoryNumber"])
    assert SIGNATURE_HEADER in headers


def test_documents_announce_status_changes(sandbox, client, receiver):
    customer = client.create_record(Entity.ORGANISATION, {"name": "Skovly Catering I/S"})
    sandbox.subscribe(HOOKS_URL)
    invoice = client.create_record(Entity.INVOICE, {"customer.number": customer["number"], "lines": [
        {"description": "Frokost", "quantity": 10, "unitPriceInCurrency": 95}]})
    client.update_record(Entity.INVOICE, invoice["referenceNumber"], {"hold": True})
    sandbox.release_invoice(invoice["referenceNumber"])
    assert receiver.events() == ["ArInvoiceChanged", "ArInvoiceChanged", "ArInvoiceStatusChanged",
                                 "ArInvoiceStatusChanged"]


def test_a_subscription_gets_only_its_events(sandbox, client, receiver):
    sandbox.subscribe(HOOKS_URL, events=["InventoryItemUpdated"])
    client.create_record(Entity.ITEM, {"inventoryNumber": "S-1", "description": "Sko"})
    client.update_record(Entity.ITEM, "S-1", {"description": "Sikkerhedssko"})
    client.create_record(Entity.ORGANISATION, {"name": "Ikke med"})
    assert receiver.events() == ["InventoryItemUpdated"]


def test_contacts_raise_no_webhook(sandbox, client, receiver):
    sandbox.subscribe(HOOKS_URL)
    customer = client.create_record(Entity.ORGANISATION, {"name": "Egholm El-service A/S"})
    client.create_record(Entity.PERSON, {"lastName": "Hansen", "businessAccount": customer["number"]})
    assert receiver.events() == ["CustomerCreated"]


def test_drop_rate_one_drops_every_webhook(receiver):
    app = provider.sandbox(rate_limit=(0, 0), webhook_drop_rate=1.0)
    app.subscribe(HOOKS_URL)
    with transport.mounted(BASE_URL, app):
        client = make_client()
        for index in range(5):
            client.create_record(Entity.ORGANISATION, {"name": f"Tabt {index}"})
    assert receiver.calls == []
    assert len(app.webhooks) == 5 and all(d.dropped for d in app.webhooks)


def test_drop_rate_half_drops_some(receiver):
    app = provider.sandbox(rate_limit=(0, 0), webhook_drop_rate=0.5, seed=3)
    app.subscribe(HOOKS_URL)
    with transport.mounted(BASE_URL, app):
        client = make_client()
        for index in range(20):
            client.create_record(Entity.ORGANISATION, {"name": f"Måske {index}"})
    dropped = sum(d.dropped for d in app.webhooks)
    assert 0 < dropped < 20
    assert len(receiver.calls) == 20 - dropped


def test_admin_endpoint_manages_subscriptions(sandbox):
    session = transport.build_session()
    created = session.post(f"{BASE_URL}/sandbox-admin/subscriptions",
                           json={"url": HOOKS_URL, "secret": SECRET, "events": ["CustomerUpdated"]})
    assert created.status_code == 201
    listed = session.get(f"{BASE_URL}/sandbox-admin/subscriptions").json()
    assert listed == [{"id": created.json()["id"], "url": HOOKS_URL, "events": ["CustomerUpdated"]}]
    assert session.delete(f"{BASE_URL}/sandbox-admin/subscriptions/{created.json()['id']}").status_code == 204
    assert sandbox.subscriptions == {}


# -- API behaviour ----------------------------------------------------------------------------------
def test_429_carries_vismas_body_and_headers():
    app = provider.sandbox(rate_limit=(1, 3600))
    with transport.mounted(BASE_URL, app):
        session = transport.build_session()
        headers = {"Authorization": f"Bearer {token(session)}"}
        first = session.get(f"{BASE_URL}/v1/customer", headers=headers)
        second = session.get(f"{BASE_URL}/v1/customer", headers=headers)
    assert first.status_code == 200 and first.headers["X-RateLimit-Limit"] == "1"
    assert first.headers["X-RateLimit-Remaining"] == "0"
    assert second.status_code == 429
    assert "Retry-After" not in second.headers
    assert int(second.headers["X-RateLimit-Reset"]) > 3500 and second.headers["X-RateLimit-Remaining"] == "0"
    assert second.json()["ExceptionType"] == "IPPException"
    assert second.json()["ExceptionFaultCode"] == "429"


def test_default_limit_is_vismas_hourly_allowance():
    app = VismaNetSandbox()
    assert app.default_rate_limit == (15000, 3600.0) == provider.rate_limit


def test_token_endpoint_speaks_oauth(sandbox):
    session = transport.build_session()
    url = f"{BASE_URL}/connect/token"
    assert session.post(url, data={"grant_type": "password", **CREDENTIALS}).json() == {
        "error": "unsupported_grant_type"}
    assert session.post(url, data={"grant_type": "client_credentials", **CREDENTIALS, "scope": "admin"}).json() == {
        "error": "invalid_scope"}
    granted = session.post(url, data={"grant_type": "client_credentials", **CREDENTIALS,
                                      "scope": "vismanet_erp_service_api:read"}).json()
    assert granted["token_type"] == "Bearer" and granted["expires_in"] == 3600


def test_a_read_only_token_cannot_write(sandbox):
    session = transport.build_session()
    headers = {"Authorization": f"Bearer {token(session)}"}
    answer = session.post(f"{BASE_URL}/v1/customer", json={"name": {"value": "X"}}, headers=headers)
    assert answer.status_code == 403
    assert answer.json()["ExceptionType"] == "IPPException"


def test_bad_paging_is_refused(sandbox):
    session = transport.build_session()
    headers = {"Authorization": f"Bearer {token(session)}"}
    answer = session.get(f"{BASE_URL}/v1/customer?pageNumber=0&pageSize=10", headers=headers)
    assert answer.status_code == 400
    assert "pageNumber" in answer.json()["ExceptionMessage"]


def test_pages_carry_metadata(sandbox, client):
    for index in range(3):
        client.create_record(Entity.ORGANISATION, {"name": f"Meta {index}"})
    session = transport.build_session()
    headers = {"Authorization": f"Bearer {token(session)}"}
    page = session.get(f"{BASE_URL}/v1/customer?pageNumber=1&pageSize=2", headers=headers).json()
    assert [row["metadata"] for row in page] == [{"totalCount": 3, "maxPageSize": 1000}] * 2


def test_concurrent_creates_get_distinct_numbers(sandbox):
    numbers: list[str] = []

    def create_some() -> None:
        client = make_client()
        for index in range(5):
            numbers.append(client.create_record(Entity.ORGANISATION, {"name": f"Tråd {index}"})["number"])

    threads = [threading.Thread(target=create_some) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(numbers) == 30 == len(set(numbers))


@pytest.fixture(scope="module")
def demo() -> VismaNetSandbox:
    app = provider.sandbox(rate_limit=(0, 0))
    app.seed_demo()
    return app


def test_demo_seed_fills_the_company(demo):
    ledgers = demo.store.ledgers
    assert len(ledgers[Entity.ORGANISATION].rows) == 300
    assert len(ledgers[Entity.PERSON].rows) >= 300
    assert len(ledgers[Entity.ITEM].rows) == 120
    assert len(ledgers[Entity.USER].rows) == 8
    orders = list(ledgers[Entity.DELIVERY].rows.values())
    assert len(orders) == 150 and all(order["lines"] for order in orders)
    statuses = {invoice["status"] for invoice in ledgers[Entity.INVOICE].rows.values()}
    assert {"Hold", "Balanced", "Open", "Closed"} <= statuses


def test_demo_credentials_open_the_demo_company(demo):
    with transport.mounted(BASE_URL, demo):
        assert make_client().check_connection() == "Visma.net tenant demo-tenant: connected, 300 customers"
