"""What the client sends and the sandbox answers, checked against Visma.net's Swagger description.

The spec documents the legacy ``/controller/api/v1/...`` paths; the current API keeps the same
resources and DTOs under ``/v1/...``, so each exchange is checked against its legacy operation.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from werkzeug.wrappers import Request

from integrations.systems import transport
from integrations.systems.catalog import Entity
from integrations.systems.vismanet import provider
from tests.integrations.systems.contract import (
    assert_path_documented,
    assert_request_matches,
    assert_response_matches,
    load_spec,
    request_schema,
)

from .conftest import BASE_URL, make_client

SPEC = "vismanet-legacy-swagger.json"
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
                               "sent": json.loads(sent) if sent and request.path.startswith("/v1/") else None,
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
def exchanges() -> list[dict[str, Any]]:
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
            "customer.number": customer["number"], "orderType": "SO", "description": "Web", "hold": False,
            "date": "2025-05-25T00:00:00", "lines": [
                {"inventory.number": "K-100", "quantity": 3, "unitPrice": 20, "lineDescription": "Kabel 3 m"},
                {"inventory.number": "1001", "quantity": 1}]})
        client.update_record(Entity.DELIVERY, order["orderNo"], {"lines": [
            {"lineNbr": 1, "inventory.number": "K-100", "quantity": 5}]})
        invoice = client.create_record(Entity.INVOICE, {
            "customer.number": customer["number"], "documentDate": "2025-05-25", "invoiceText": "Maj",
            "lines": [{"inventoryNumber": "K-100", "description": "Kabel", "quantity": 2, "unitPriceInCurrency": 20,
                       "vatCode.id": "3", "discountPercent": 5}]})
        client.update_record(Entity.INVOICE, invoice["referenceNumber"], {"hold": True})
        for entity in (Entity.ORGANISATION, Entity.PERSON, Entity.ITEM, Entity.DELIVERY, Entity.INVOICE, Entity.USER):
            first = next(iter(client.list_records(entity, page_size=50, modified_since="2000-01-01")))
            client.get_record(entity, client.record_id(entity, first))
    return [e for e in recorder.exchanges if e["path"].startswith("/v1/")]


def test_every_call_is_a_documented_operation(exchanges):
    for exchange in exchanges:
        assert_path_documented(SPEC, legacy_template(exchange["method"], exchange["path"]), exchange["method"])


def test_every_request_body_matches_the_update_dtos(exchanges):
    bodies = [e for e in exchanges if e["sent"] is not None]
    assert {(e["method"], e["path"].split("/")[2]) for e in bodies} >= {
        ("POST", r) for r in ("customer", "contact", "inventory", "salesorder", "customerinvoice")}
    for exchange in bodies:
        assert_request_matches(SPEC, legacy_template(exchange["method"], exchange["path"]), exchange["method"],
                               exchange["sent"])


def test_every_answer_matches_the_read_dtos(exchanges):
    answered = [e for e in exchanges if e["method"] == "GET" and e["status"] == 200]
    assert {e["path"].split("/")[2] for e in answered} == {
        "customer", "contact", "inventory", "salesorder", "customerinvoice", "employee"}
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
    order_put = next(e for e in exchanges if e["method"] == "PUT" and "/salesorder/" in e["path"])["sent"]
    assert [line["operation"] for line in order_put["lines"]] == ["Update", "Delete"]
