"""What the client sends and what the sandbox answers match the vendor's OpenAPI description."""

from __future__ import annotations

import io
import json
import re
from typing import Any
from urllib.parse import parse_qsl

import jsonschema
import pytest
from werkzeug.wrappers import Request

from integrations.systems import transport
from integrations.systems.catalog import Entity
from integrations.systems.customers1st import provider
from integrations.systems.customers1st.sandbox import DEMO_TOKEN
from tests.integrations.systems.contract import (
    assert_error_matches,
    assert_path_documented,
    assert_query_matches,
    assert_request_matches,
    assert_response_matches,
    load_spec,
    spec_source,  # noqa: F401 - runs each test against the digest and, when at hand, the description
)

from .conftest import API, BASE, make_client

SPEC = "customers1st-openapi.json"
AUTH = {"Authorization": f"Bearer {DEMO_TOKEN}"}
TEMPLATES = [
    (r"/customers/\d+", "/customers/{customerId}"), (r"/products/\d+", "/products/{productId}"),
    (r"/pospayments/\d+", "/pospayments/{paymentId}"), (r"/hooks/\d+", "/hooks/{hookId}"),
    (r"/registers/\d+", "/registers/{id}"), (r"/users/\d+", "/users/{id}"),
]


def template(path: str) -> str:
    path = path.removeprefix("/api")
    for pattern, name in TEMPLATES:
        if re.fullmatch(pattern, path):
            return name
    return path


class Recorder:
    """Keeps every request body the client sends, then lets the sandbox answer."""

    def __init__(self, app: Any):
        self.app = app
        self.sent: list[tuple[str, str, Any]] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        data = request.get_data()
        environ["wsgi.input"] = io.BytesIO(data)  # let the sandbox read it again
        if data:
            self.sent.append((request.method, template(request.path), json.loads(data)))
        return self.app(environ, start_response)


def assert_schema(name: str, body: Any) -> None:
    spec = load_spec(SPEC)
    jsonschema.Draft4Validator({"components": spec["components"], "$ref": f"#/components/schemas/{name}"}
                               ).validate(body)


@pytest.fixture
def seeded(sandbox):
    sandbox.seed_demo()
    return sandbox


def test_every_request_body_the_client_sends_is_documented(sandbox):
    recorder = Recorder(sandbox)
    with transport.mounted(BASE, recorder):
        client = make_client(recorder)
        customer = client.create_record(Entity.ORGANISATION, {"name": "Nordlys Byg A/S", "customerno": "10001",
                                                              "addr_country": "dk", "tags": []})
        client.update_record(Entity.ORGANISATION, str(customer["id"]), {"email": "info@nordlys.dk"})
        product = client.create_record(Entity.ITEM, {"title": "Arbejdsjakke", "productno": "1001", "price": 499.0,
                                                     "styleno": "ST100", "size": "M", "color": "Navy",
                                                     "customfield1": "stk"})
        client.update_record(Entity.ITEM, str(product["id"]), {"price": 449.0})
        sale = client.create_record(Entity.POS_SALE, {
            "customerid": customer["id"],
            "lines": [{"productid": product["id"], "title": "Arbejdsjakke", "price": 449.0, "quantity": 1,
                       "vat": 25, "discountToken": 0.1}],
            "paymenttypes": [{"title": "Kontant", "amount": 449.0, "cash": 1}], "invoice": 0})
        client.update_record(Entity.POS_SALE, str(sale["id"]), {"note": "Byttet størrelse"})
        client.create_record(Entity.USER, {"name": "Ida Hansen", "shopuser": 1})
        client.subscribe("customer.updated", "https://synkro.test/webhooks/abc")
    assert len(recorder.sent) == 8
    for method, path, body in recorder.sent:
        assert_request_matches(SPEC, path, method, body)


def test_paths_the_client_calls_are_documented(seeded):
    with transport.mounted(BASE, seeded):
        client = make_client(seeded)
        client.check_connection()
        for entity in (Entity.ORGANISATION, Entity.ITEM, Entity.POS_SALE, Entity.DAILY_REPORT, Entity.USER):
            next(iter(client.list_records(entity, page_size=2)))
        client.list_registers()
        client.list_hooks()
    assert any("paginationPageLength" in logged.query for logged in seeded.requests)
    for logged in seeded.requests:
        assert_path_documented(SPEC, template(logged.path), logged.method)
        assert_query_matches(SPEC, template(logged.path), logged.method,
                             dict(parse_qsl(logged.query, keep_blank_values=True)))


def test_hook_registration_sends_documented_bodies(sandbox):
    recorder = Recorder(sandbox)
    with transport.mounted(BASE, recorder):
        client = make_client(recorder)
        message = provider.register_webhooks(client=client, url="https://synkro.test/hooks/customers1st/abc/",
                                             entities=[Entity.ORGANISATION, Entity.ITEM, Entity.POS_SALE])
    hooks = [body for method, path, body in recorder.sent if (method, path) == ("POST", "/hooks")]
    assert message and len(hooks) >= 3
    assert all(set(body) == {"event", "url"} for body in hooks)
    for method, path, body in recorder.sent:
        assert_request_matches(SPEC, path, method, body)
    for logged in sandbox.requests:
        assert_path_documented(SPEC, template(logged.path), logged.method)
        assert_query_matches(SPEC, template(logged.path), logged.method,
                             dict(parse_qsl(logged.query, keep_blank_values=True)))


@pytest.mark.parametrize(("path", "operation"), [
    ("/customers?count=true&paginationPageLength=5", "/customers"),
    ("/customers/1", "/customers/{customerId}"),
    ("/products?paginationPageLength=5", "/products"),
    ("/products/1", "/products/{productId}"),
    ("/pospayments?extra=1&paginationPageLength=5", "/pospayments"),
    ("/pospayments/880001", "/pospayments/{paymentId}"),
    ("/posbalances?paginationPageLength=5", "/posbalances"),
    ("/registers", "/registers"),
    ("/registers/1", "/registers/{id}"),
    ("/users", "/users"),
    ("/hooks/events", "/hooks/events"),
    ("/settings/store", "/settings/store"),
])
def test_every_read_answer_matches(seeded, path, operation):
    with transport.mounted(BASE, seeded):
        response = transport.build_session().get(f"{API}{path}", headers=AUTH)
    assert response.status_code == 200
    assert_response_matches(SPEC, operation, "get", response.json())


def test_every_write_answer_matches(sandbox):
    with transport.mounted(BASE, sandbox):
        http = transport.build_session()
        post = http.post(f"{API}/customers", json={"content": {"name": "Havbrise VVS"}}, headers=AUTH)
        assert_response_matches(SPEC, "/customers", "post", post.json())
        customer_id = post.json()["content"]["id"]
        put = http.put(f"{API}/customers/{customer_id}", json={"content": {"name": "Havbrise VVS ApS"}},
                       headers=AUTH)
        assert_response_matches(SPEC, "/customers/{customerId}", "put", put.json())
        deleted = http.delete(f"{API}/customers/{customer_id}", headers=AUTH)
        assert_response_matches(SPEC, "/customers/{customerId}", "delete", deleted.json())
        product = http.post(f"{API}/products", json={"content": {"title": "Trælim", "price": 59.0}}, headers=AUTH)
        assert_response_matches(SPEC, "/products", "post", product.json())
        product_id = product.json()["content"]["id"]
        put = http.put(f"{API}/products/{product_id}", json={"content": {"title": "Trælim 1 l"}}, headers=AUTH)
        assert_response_matches(SPEC, "/products/{productId}", "put", put.json())
        sale = http.post(f"{API}/pospayments", json={"articles": [{"title": "Trælim 1 l", "price": 59.0,
                                                                  "quantity": 1, "vat": 25}]}, headers=AUTH)
        assert_response_matches(SPEC, "/pospayments", "post", sale.json())
        put = http.put(f"{API}/pospayments/{sale.json()['id']}", json={"content": {"note": "x"}}, headers=AUTH)
        assert_response_matches(SPEC, "/pospayments/{paymentId}", "put", put.json())
        deleted = http.delete(f"{API}/products/{product_id}", headers=AUTH)
        assert_response_matches(SPEC, "/products/{productId}", "delete", deleted.json())
        hook = http.post(f"{API}/hooks", json={"event": "product.created", "url": "https://x.test/h"}, headers=AUTH)
        assert hook.status_code == 201
        assert_response_matches(SPEC, "/hooks", "post", hook.json(), status=201)
        hook_id = hook.json()["id"]
        assert_response_matches(SPEC, "/hooks", "get", http.get(f"{API}/hooks", headers=AUTH).json())
        assert_response_matches(SPEC, "/hooks/{hookId}", "get", http.get(f"{API}/hooks/{hook_id}", headers=AUTH).json())
        updated = http.put(f"{API}/hooks/{hook_id}", json={"event": "product.updated", "url": "https://x.test/h"},
                           headers=AUTH)
        assert_response_matches(SPEC, "/hooks/{hookId}", "put", updated.json())
        gone = http.delete(f"{API}/hooks/{hook_id}", headers=AUTH)
        assert_response_matches(SPEC, "/hooks/{hookId}", "delete", gone.json())
        register = http.post(f"{API}/registers", json={"content": {"title": "Kasse 9"}}, headers=AUTH)
        assert_response_matches(SPEC, "/registers", "post", register.json(), status=201)
        user = http.post(f"{API}/users", json={"content": {"name": "Per Olsson"}}, headers=AUTH)
        assert_response_matches(SPEC, "/users", "post", user.json())


def test_error_bodies_have_the_vendors_shapes(sandbox):
    with transport.mounted(BASE, sandbox):
        http = transport.build_session()
        missing = http.get(f"{API}/customers/999", headers=AUTH)
        assert missing.status_code == 404
        assert_response_matches(SPEC, "/customers/{customerId}", "get", missing.json(), status=404)
        assert_schema("ErrorResponse", http.get(f"{API}/products/999", headers=AUTH).json())
        assert_schema("ErrorResponse", http.get(f"{API}/customers", headers={}).json())
        invalid = http.post(f"{API}/products", json={"content": {"title": 5, "colour": "x"}}, headers=AUTH)
        assert invalid.status_code == 400
        assert_schema("ValidationErrorResponse", invalid.json())
    throttled_sandbox = provider.sandbox(rate_limit=(1, 60.0))
    with transport.mounted(BASE, throttled_sandbox):
        http = transport.build_session()
        throttled = [http.get(f"{API}/registers", headers=AUTH) for _ in range(2)][-1]
    assert throttled.status_code == 429
    assert_error_matches(SPEC, 429, throttled.json())
    sandbox_500 = provider.sandbox(rate_limit=(0, 0), error_rate=1.0)
    with transport.mounted(BASE, sandbox_500):
        assert_schema("ErrorResponse", transport.build_session().get(f"{API}/registers", headers=AUTH).json())


def test_hook_bodies_carry_documented_objects(sandbox, receiver):
    sandbox.subscribe("https://receiver.test/in", "customer.created")
    sandbox.subscribe("https://receiver.test/in", "pospayment.created")
    sandbox.add_customer({"name": "Granhults Bygg AB", "addr_country": "se"})
    sandbox.add_payment({"articles": [{"title": "Kaffe", "price": 30.0, "quantity": 1, "vat": 25}]}, user_id=1)
    customer, payment = receiver.events()
    assert_schema("Customer", customer["content"])
    assert_schema("POSPayment", payment["content"])
