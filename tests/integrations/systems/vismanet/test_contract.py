"""What the client sends and the sandbox answers, checked against Visma.net's Swagger description.

The spec documents the legacy ``/controller/api/v1/...`` paths; the current API keeps the same
resources and DTOs under ``/v1/...``, so each exchange is checked against its legacy operation.
Sales orders go to the separate Sales Order service, checked against its digest (``ORDERS``).
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
from werkzeug.wrappers import Request

from integrations.systems import transport
from integrations.systems.catalog import Entity
from integrations.systems.vismanet import provider
from tests.integrations.systems.contract import (
    assert_path_documented,
    assert_query_matches,
    assert_request_matches,
    assert_response_matches,
    load_spec,
    request_schema,
    spec_source,  # noqa: F401 - runs each test against the digest and, when at hand, the description
)

from .conftest import BASE_URL, make_client

SPEC = "vismanet-legacy-swagger.json"
#: The Sales Order service's digest (docs/vendors/facts/vismanet-salesorders.json, recorded by hand with sources).
ORDERS = "vismanet-salesorders"
LEGACY_ID = {
    ("customer", "GET"): "customerCd", ("customer", "PUT"): "customerCd",
    ("contact", "GET"): "contactId", ("contact", "PUT"): "contactId",
    ("inventory", "GET"): "inventoryNumber", ("inventory", "PUT"): "inventoryCd",
    ("salesorder", "GET"): "orderNbr", ("salesorder", "PUT"): "salesOrderNumber",
    ("customerinvoice", "GET"): "invoiceNumber", ("customerinvoice", "PUT"): "invoiceNumber",
    ("employee", "GET"): "employeeCd",
}


@dataclass
class Recorder:
    """Wraps the sandbox and keeps every API exchange."""

    app: Any
    exchanges: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, environ, start_response):
        request = Request(environ)
        sent = request.get_data()
        environ["wsgi.input"] = io.BytesIO(sent)
        captured: dict[str, Any] = {}

        def record_start(status, headers, exc_info=None):
            captured["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info)

        chunks = b"".join(self.app(environ, record_start))
        self.exchanges.append({"method": request.method, "path": request.path, "status": captured["status"],
                               "query": dict(parse_qsl(request.query_string.decode(), keep_blank_values=True)),
                               "sent": json.loads(sent) if sent and request.path.startswith(("/v1/", "/salesorder/"))
                               else None,
                               "if_match": request.headers.get("If-Match"),
                               "answer": json.loads(chunks) if chunks and chunks[:1] in b"[{" else None})
        return [chunks]


def legacy_template(method: str, path: str) -> str:
    match = re.fullmatch(r"/v1/(\w+)(?:/([^/]+))?", path)
    assert match, path
    resource, record_id = match.groups()
    if record_id is None:
        return f"/controller/api/v1/{resource}"
    return f"/controller/api/v1/{resource}/{{{LEGACY_ID[(resource, method)]}}}"


@pytest.fixture(scope="module")
def recorded() -> list[dict[str, Any]]:
    app = provider.sandbox(rate_limit=(0, 0))
    app.seed_demo()
    recorder = Recorder(app)
    with transport.mounted(BASE_URL, recorder):
        client = make_client()
        customer = client.create_record(Entity.ORGANISATION, {
            "name": "Kontrakt A/S", "status": "Active", "currencyId": "DKK", "corporateId": "12345678",
            "vatZone.id": "01", "customerClass.id": "DK", "creditTerms.id": "30D", "creditLimit": 5000,
            "mainAddress.addressLine1": "Algade 1", "mainAddress.postalCode": "4000", "mainAddress.city": "Roskilde",
            "mainAddress.country.id": "DK", "mainContact.email": "info@kontrakt.dk", "mainContact.phone1": "12345678",
            "printInvoices": False})
        client.update_record(Entity.ORGANISATION, customer["number"], {"name": "Kontrakt ApS",
                                                                       "deliveryAddress.city": "Køge"})
        contact = client.create_record(Entity.PERSON, {
            "firstName": "Ida", "lastName": "Larsen", "email": "ida@kontrakt.dk", "title": "Ms",
            "businessAccount": customer["number"], "address.country.id": "DK"})
        client.delete_record(Entity.PERSON, str(contact["contactId"]))
        client.create_record(Entity.ITEM, {"inventoryNumber": "K-100", "description": "Kabel", "vatCode.id": "3",
                                           "itemClass.id": "GOODS", "defaultPrice": 19.95, "status": "Active"})
        client.update_record(Entity.ITEM, "K-100", {"defaultPrice": 21.5})
        order = client.create_record(Entity.DELIVERY, {
            "customer.id": customer["number"], "type": "SO", "description": "Web", "customer.order": "PO-7",
            "date": "2025-05-25T00:00:00", "lines": [
                {"inventory.id": "K-100", "quantity": 3, "unitPrice": 20, "description": "Kabel 3 m"},
                {"inventory.id": "1001", "quantity": 1}]})
        client.update_record(Entity.DELIVERY, order["orderId"], {"description": "Web, rettet", "lines": [
            {"lineId": 1, "inventory.id": "K-100", "quantity": 5}, {"inventory.id": "1001", "quantity": 2}]})
        client.delete_record(Entity.DELIVERY, order["orderId"])
        invoice = client.create_record(Entity.INVOICE, {
            "customer.number": customer["number"], "documentDate": "2025-05-25", "invoiceText": "Maj",
            "lines": [{"inventoryNumber": "K-100", "description": "Kabel", "quantity": 2, "unitPriceInCurrency": 20,
                       "vatCode.id": "3", "discountPercent": 5}]})
        client.update_record(Entity.INVOICE, invoice["referenceNumber"], {"hold": True})
        for entity in (Entity.ORGANISATION, Entity.PERSON, Entity.ITEM, Entity.DELIVERY, Entity.INVOICE, Entity.USER):
            first = next(iter(client.list_records(entity, page_size=50, modified_since="2000-01-01")))
            client.get_record(entity, client.record_id(entity, first))
    return recorder.exchanges


@pytest.fixture(scope="module")
def exchanges(recorded) -> list[dict[str, Any]]:
    """The finance API's exchanges (checked against its Swagger description)."""
    return [e for e in recorded if e["path"].startswith("/v1/")]


@pytest.fixture(scope="module")
def order_exchanges(recorded) -> list[dict[str, Any]]:
    """The Sales Order service's exchanges (checked against its hand-recorded digest, :data:`ORDERS`)."""
    return [e for e in recorded if e["path"].startswith("/salesorder/")]


def test_every_call_is_a_documented_operation(exchanges):
    for exchange in exchanges:
        assert_path_documented(SPEC, legacy_template(exchange["method"], exchange["path"]), exchange["method"])


def test_every_query_names_documented_parameters_with_their_types(exchanges):
    queried = [e for e in exchanges if e["query"]]
    assert {name for e in queried for name in e["query"]} >= {
        "pageNumber", "pageSize", "lastModifiedDateTime", "lastModifiedDateTimeCondition"}
    for exchange in queried:
        assert_query_matches(SPEC, legacy_template(exchange["method"], exchange["path"]), exchange["method"],
                             exchange["query"])


def test_every_request_body_matches_the_update_dtos(exchanges):
    bodies = [e for e in exchanges if e["sent"] is not None]
    assert {(e["method"], e["path"].split("/")[2]) for e in bodies} >= {
        ("POST", r) for r in ("customer", "contact", "inventory", "customerinvoice")}
    for exchange in bodies:
        assert_request_matches(SPEC, legacy_template(exchange["method"], exchange["path"]), exchange["method"],
                               exchange["sent"])


def test_every_answer_matches_the_read_dtos(exchanges):
    answered = [e for e in exchanges if e["method"] == "GET" and e["status"] == 200]
    assert {e["path"].split("/")[2] for e in answered} == {
        "customer", "contact", "inventory", "customerinvoice", "employee"}
    for exchange in answered:
        assert_response_matches(SPEC, legacy_template("GET", exchange["path"]), "GET", exchange["answer"])


def _assert_wrapped(schema: dict[str, Any], body: Any, where: str) -> None:
    """Swagger's DtoValue definitions do not say ``type: object``, so a bare value would pass the schema;
    check by hand that every DtoValue property arrives as ``{"value": ...}``, all the way down."""
    definitions = load_spec(SPEC)["definitions"]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name.startswith("DtoValue["):
            assert isinstance(body, dict) and set(body) == {"value"}, f"{where} is not wrapped: {body!r}"
            _assert_wrapped(definitions[name]["properties"]["value"], body["value"], where)
            return
        schema = definitions[name]
    if schema.get("type") == "array":
        for index, item in enumerate(body):
            _assert_wrapped(schema["items"], item, f"{where}[{index}]")
    elif "properties" in schema and isinstance(body, dict):
        for key, value in body.items():
            if key in schema["properties"]:
                _assert_wrapped(schema["properties"][key], value, f"{where}.{key}")


def test_every_value_sent_is_wrapped(exchanges):
    for exchange in (e for e in exchanges if e["sent"] is not None):
        template = legacy_template(exchange["method"], exchange["path"])
        _assert_wrapped(request_schema(SPEC, template, exchange["method"]), exchange["sent"], template)


def test_the_wrapping_check_catches_a_bare_value():
    schema = request_schema(SPEC, "/controller/api/v1/customer", "POST")
    with pytest.raises(AssertionError, match="not wrapped"):
        _assert_wrapped(schema, {"mainAddress": {"value": {"city": "Vejle"}}}, "customer")


def test_writes_answer_the_documented_statuses(exchanges):
    assert {e["status"] for e in exchanges if e["method"] == "POST"} == {201}
    assert {e["status"] for e in exchanges if e["method"] == "PUT"} == {204}


def test_values_are_wrapped_and_renamed_as_the_update_dto_wants(exchanges):
    customer_post = next(e for e in exchanges if e["method"] == "POST" and e["path"] == "/v1/customer")["sent"]
    assert customer_post["name"] == {"value": "Kontrakt A/S"}
    assert customer_post["vatZoneId"] == {"value": "01"}
    assert customer_post["mainAddress"]["value"]["countryId"] == {"value": "DK"}
    assert not [e for e in exchanges if "/salesorder" in e["path"]]  # orders left the finance API (end of life)


# -- the Sales Order service -----------------------------------------------------------------------------------
def order_template(path: str) -> str:
    match = re.fullmatch(r"/salesorder(/api/v3/SalesOrders)(?:/[^/]+/[^/]+(/lines)?)?", path)
    assert match, path
    base, lines = match.groups()
    if path.rstrip("/").endswith("/SalesOrders"):
        return base
    return f"{base}/{{type}}/{{orderId}}{lines or ''}"


def _order_operation(template: str, method: str) -> dict[str, Any]:
    """The Sales Order service's operation as its digest records it; AssertionError when it records none."""
    assert_path_documented(ORDERS, template, method)
    return load_spec(ORDERS)["paths"][template][method.lower()]


def _needs_if_match(operation: dict[str, Any]) -> bool:
    return any(p["in"] == "header" and p["name"] == "If-Match" and p.get("required")
               for p in operation.get("parameters", []))


def test_every_order_call_is_an_operation_of_the_sales_order_service(order_exchanges):
    made = {(e["method"], order_template(e["path"])) for e in order_exchanges}
    assert made >= {("POST", "/api/v3/SalesOrders"), ("GET", "/api/v3/SalesOrders/{type}/{orderId}"),
                    ("PATCH", "/api/v3/SalesOrders/{type}/{orderId}"), ("GET", "/api/v3/SalesOrders"),
                    ("PATCH", "/api/v3/SalesOrders/{type}/{orderId}/lines"),
                    ("POST", "/api/v3/SalesOrders/{type}/{orderId}/lines"),
                    ("DELETE", "/api/v3/SalesOrders/{type}/{orderId}/lines")}
    for exchange in order_exchanges:
        method, template = exchange["method"], order_template(exchange["path"])
        successes = [int(status) for status in _order_operation(template, method)["responses"]
                     if str(status).startswith("2")]
        assert successes == [exchange["status"]], (method, template, exchange["status"], successes)


def test_every_order_request_matches_the_commands_and_names_its_version(order_exchanges):
    versioned = set()
    for exchange in order_exchanges:
        method, template = exchange["method"], order_template(exchange["path"])
        operation = _order_operation(template, method)
        if "requestBody" in operation:
            assert_request_matches(ORDERS, template, method, exchange["sent"])
        else:
            assert exchange["sent"] is None, (method, template)
        assert_query_matches(ORDERS, template, method, exchange["query"])
        if _needs_if_match(operation):
            versioned.add((method, template))
            assert exchange["if_match"], f"{method} {template} was sent without If-Match"
    assert versioned == {("PATCH", "/api/v3/SalesOrders/{type}/{orderId}"),
                         ("PATCH", "/api/v3/SalesOrders/{type}/{orderId}/lines")}
    created = next(e for e in order_exchanges if e["method"] == "POST" and e["path"].endswith("/SalesOrders"))
    assert created["sent"]["customer"]["order"] == "PO-7" and created["sent"]["type"] == "SO"
    assert [line["inventoryId"] for line in created["sent"]["orderLines"]] == ["K-100", "1001"]
    cancelled = [e["sent"] for e in order_exchanges if e["method"] == "PATCH" and e["sent"].get("status")]
    assert cancelled == [{"status": "Cancelled"}]  # a status goes alone in its call


def test_every_order_answer_matches_the_read_dtos(order_exchanges):
    answered = [e for e in order_exchanges if e["method"] == "GET"]
    assert {order_template(e["path"]) for e in answered} == {
        "/api/v3/SalesOrders", "/api/v3/SalesOrders/{type}/{orderId}", "/api/v3/SalesOrders/{type}/{orderId}/lines"}
    for exchange in answered:
        assert_response_matches(ORDERS, order_template(exchange["path"]), "GET", exchange["answer"],
                                exchange["status"])


def test_the_digest_catches_a_finance_shaped_order():
    with pytest.raises(AssertionError, match="does not match"):
        assert_request_matches(ORDERS, "/api/v3/SalesOrders", "POST",
                               {"type": "SO", "customer": {"value": "10001"}, "orderNumber": {"value": "7"}})


def test_the_digest_catches_an_unknown_order_parameter():
    with pytest.raises(AssertionError, match="does not document"):
        assert_query_matches(ORDERS, "/api/v3/SalesOrders", "GET", {"pageNumber": "1"})
