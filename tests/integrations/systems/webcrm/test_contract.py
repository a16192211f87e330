"""What the client sends and the sandbox answers, checked against webCRM's Swagger file.

A sync scenario runs through the client with every exchange recorded; each one is then matched to
the operation of the API description it exercises. ``/Queries`` is missing from that copy of the
file (it exists in the live API), so its rows are checked against the entity's own record schema.
"""

from __future__ import annotations

import re

import pytest
from werkzeug.test import Client

from integrations.systems.catalog import Entity
from integrations.systems.errors import NotFoundError, RateLimitedError, TransientError, VendorValidationError
from integrations.systems.webcrm import provider
from integrations.systems.webcrm.catalog import LINKED

from ..contract import (
    assert_error_matches,
    assert_path_documented,
    assert_query_matches,
    assert_request_matches,
    assert_response_matches,
    response_schema,
    spec_source,  # noqa: F401 - runs each test against the digest and, when at hand, the description
)
from ..recording import Exchange
from .conftest import HOOKS_URL, add_organisation

SPEC = "webcrm-swagger.json"
TEMPLATES = [
    (r"/Auth/ApiLogin", "/Auth/ApiLogin"),
    (r"/Auth/ApiRefresh", "/Auth/ApiRefresh"),
    (r"/Organisations/FindByUpdateDates/[^/]+/[^/]+", "/Organisations/FindByUpdateDates/{startDate}/{endDate}"),
    (r"/Deliveries/\d+/QuotationLines", "/Deliveries/{id}/QuotationLines"),
    (r"/QuotationLines/LinkedData/\d+", "/QuotationLines/LinkedData/{id}"),
    (r"/QuotationLines/LinkedData", "/QuotationLines/LinkedData"),
    (r"/(\w+)/Hooks/\d+", "/{0}/Hooks/{{id}}"),
    (r"/(\w+)/Hooks", "/{0}/Hooks"),
    (r"/(\w+)/\d+", "/{0}/{{id}}"),
    (r"/(\w+)", "/{0}"),
]
#: ``/Queries`` table → a documented list of the same rows (``LinkedData`` rows are ``LinkedDataItemDto``s, as
#: erp ``GetProductByField`` maps them; ``GET /Organisations/LinkedData`` lists that DTO).
QUERY_TABLES = {"Organisation": "/Organisations", "Person": "/Persons", "LinkedData": "/Organisations/LinkedData",
                "Delivery": "/Deliveries", "QuotationLine": "/QuotationLines", "User": "/Users"}


def documents_answer_body(template: str, method: str) -> bool:
    try:
        response_schema(SPEC, template, method)
    except AssertionError:
        return False
    return True


def template_of(path: str) -> str:
    for pattern, template in TEMPLATES:
        match = re.fullmatch(pattern, path)
        if match:
            return template.format(*match.groups()) if match.groups() else template
    raise AssertionError(f"no template for {path}")


def check(exchange: Exchange) -> None:
    method = exchange.method.lower()
    if exchange.path == "/Queries":
        table = re.search(r"FROM (\w+)", exchange.query["script"]).group(1)
        assert_query_matches(SPEC, "/Queries", "get", exchange.query)  # recorded beside the description
        if exchange.status == 200:
            assert_response_matches(SPEC, QUERY_TABLES[table], "get", exchange.response_body)
        return
    template = template_of(exchange.path)
    assert_path_documented(SPEC, template, method)
    assert_query_matches(SPEC, template, method, exchange.query)
    if exchange.request_body is not None:
        assert_request_matches(SPEC, template, method, exchange.request_body)
    if exchange.status == 200 and not documents_answer_body(template, method):
        assert exchange.response_body is None, exchange  # "Success" without a body: none comes
    elif exchange.status == 200:
        assert exchange.response_body is not None or method != "post", exchange
        if exchange.response_body is not None:
            assert_response_matches(SPEC, template, method, exchange.response_body)
    elif exchange.status == 401 and exchange.path.startswith("/Auth/"):
        assert_response_matches(SPEC, template, method, exchange.response_body)  # a TokenResponseDto
    elif exchange.status in (400, 404, 429, 503):
        assert set(exchange.response_body) >= {"Message", "Type"}
        if exchange.status == 429:
            assert_error_matches(SPEC, 429, exchange.response_body)
        assert exchange.response_body["Type"].endswith("Exception")


def run_sync_scenario(client, sandbox, wall) -> None:
    """Reads, changes, documents, token renewal and failures: everything the client does."""
    organisation = add_organisation(sandbox, "Nordlys Byg A/S", OrganisationExtraCustom1="10001")
    client.check_connection()
    person = client.create_record(Entity.PERSON, {
        "PersonOrganisationId": organisation["OrganisationId"], "PersonFirstName": "Mette",
        "PersonLastName": "Nielsen", "PersonEmail": "mette@nordlys.dk", "PersonCheckMark1": True,
        "PersonBirthday": "1980-05-01T00:00:00"})
    client.update_record(Entity.PERSON, str(person["PersonId"]), {"PersonTitle": "Indkøbschef"})
    client.update_record(Entity.ORGANISATION, str(organisation["OrganisationId"]), {
        "OrganisationExtraCustom3": "Netto 8 dage", "OrganisationXDate1": "2026-03-01T00:00:00"})
    delivery = client.create_record(Entity.DELIVERY, {
        "DeliveryOrganisationId": organisation["OrganisationId"], "DeliveryStatus": "Planned",
        "DeliveryOrderDate": "2026-03-01T00:00:00", "DeliveryOrderValue": 250.0,
        "lines": [{"QuotationLineData1": "1001", "QuotationLineQuantity": 2.0, "QuotationLinePrice": 125.0}]})
    client.update_record(Entity.DELIVERY, str(delivery["DeliveryId"]), {
        "DeliveryErpStatus": "Synchronized", "lines": [
            {"QuotationLineData1": "1002", "QuotationLineQuantity": 1.0, "QuotationLinePrice": 99.5}]})
    item = client.create_record(Entity.ITEM, {f"{LINKED}Data1": "1001", f"{LINKED}Data2": "Arbejdsjakke",
                                              f"{LINKED}Price": 399.0})
    client.update_record(Entity.ITEM, str(item[f"{LINKED}Id"]), {f"{LINKED}CostPrice": 200.0})
    client.find_records(Entity.ITEM, f"{LINKED}Data1", "1001")
    client.create_record(Entity.DELIVERY, {  # its line points at the item in the register
        "DeliveryOrganisationId": organisation["OrganisationId"],
        "lines": [{"QuotationLineData1": "1001", "QuotationLineQuantity": 1.0}]})
    client.create_record(Entity.USER, {"UserName": "Lars Hansen", "UserEmail": "lars@nordlys-demo.dk"})
    client.create_record(Entity.ORGANISATION, {"OrganisationName": "Kystens Handel A/S"})
    for entity in (Entity.ORGANISATION, Entity.PERSON, Entity.ITEM, Entity.DELIVERY, Entity.USER):
        list(client.list_records(entity, page_size=2))
        list(client.list_records(entity, modified_since=wall.moment.replace(hour=0)))
    client.delete_record(Entity.ITEM, str(item[f"{LINKED}Id"]))
    sandbox.expire_tokens()
    client.get_record(Entity.DELIVERY, str(delivery["DeliveryId"]))
    with pytest.raises(VendorValidationError):
        client.create_record(Entity.PERSON, {"PersonOrganisationId": 4242, "PersonFirstName": "X"})
    with pytest.raises(NotFoundError):
        client.get_record(Entity.ORGANISATION, "999999")


def test_every_request_and_answer_of_a_sync_matches_the_api_description(client, sandbox, wall, mounted):
    run_sync_scenario(client, sandbox, wall)

    statuses = {e.status for e in mounted.exchanges}
    paths = {template_of(e.path) for e in mounted.exchanges if e.path != "/Queries"}
    assert {200, 400, 401, 404} <= statuses
    assert {"/Auth/ApiLogin", "/Auth/ApiRefresh", "/Deliveries/{id}/QuotationLines", "/QuotationLines",
            "/QuotationLines/{id}", "/Organisations/FindByUpdateDates/{startDate}/{endDate}"} <= paths
    assert any(e.path == "/Queries" for e in mounted.exchanges)
    for exchange in mounted.exchanges:
        check(exchange)


def test_throttled_and_failed_answers_have_webcrms_shape(client, sandbox, mounted):
    client.check_connection()
    sandbox.knobs.error_rate = 1.0
    client.max_attempts = 1
    with pytest.raises(TransientError):
        client.check_connection()
    sandbox.knobs.error_rate = 0.0
    sandbox.knobs.rate_limit = (1, 60.0)
    client.check_connection()
    with pytest.raises(RateLimitedError):
        client.check_connection()
    assert {e.status for e in mounted.exchanges} >= {429, 503}
    for exchange in mounted.exchanges:
        check(exchange)
    throttled = next(e for e in mounted.exchanges if e.status == 429)
    assert throttled.response_body["Type"] == "TooManyRequestsException"
    assert isinstance(throttled.response_body["RetryAfterSeconds"], int)


def test_hook_subscriptions_match_the_api_description(sandbox, mounted):
    http = Client(mounted)
    token = http.post("/Auth/ApiLogin", data={"authCode": "6f1c2d3e-4b5a-4c6d-8e7f-90a1b2c3d4e5"}).get_json()
    headers = {"Authorization": f"Bearer {token['AccessToken']}"}
    for resource in ("Organisations", "Persons", "Deliveries", "QuotationLines", "Users"):
        hook = {"Id": 0, "TargetUrl": f"{HOOKS_URL}/in", "EventType": "Update", "Filter": ["All"], "IsEnabled": True}
        hook_id = http.post(f"/{resource}/Hooks", headers=headers, json=hook).get_json()
        http.get(f"/{resource}/Hooks", headers=headers)
        http.get(f"/{resource}/Hooks/{hook_id}", headers=headers)
        http.put(f"/{resource}/Hooks/{hook_id}", headers=headers, json={**hook, "Id": hook_id, "IsEnabled": False})
        http.delete(f"/{resource}/Hooks/{hook_id}", headers=headers)
    assert {e.status for e in mounted.exchanges} == {200}
    for exchange in mounted.exchanges:
        check(exchange)


def test_hook_registration_sends_what_the_api_description_requires(client, sandbox, mounted):
    """The bodies Synkro's registration posts to ``/{Entity}/Hooks`` are whole Hook objects."""
    entities = [Entity.ORGANISATION, Entity.PERSON, Entity.DELIVERY, Entity.USER]
    message = provider.register_webhooks(client=client, url=f"{HOOKS_URL}/in", entities=entities)

    posts = [e for e in mounted.exchanges if e.method == "POST" and e.path.endswith("/Hooks")]
    assert message and len(posts) >= len(entities)
    assert {e.path for e in posts} == {"/Organisations/Hooks", "/Persons/Hooks", "/Deliveries/Hooks", "/Users/Hooks"}
    for exchange in mounted.exchanges:
        check(exchange)
    for exchange in posts:
        assert_request_matches(SPEC, template_of(exchange.path), "post", exchange.request_body)


def test_the_query_check_refuses_unknown_names_and_wrong_types():
    assert_query_matches(SPEC, "/Organisations", "get", {"Page": "2", "Size": "50"})
    with pytest.raises(AssertionError, match="does not document"):
        assert_query_matches(SPEC, "/Organisations", "get", {"page": "2"})
    with pytest.raises(AssertionError, match="not an integer"):
        assert_query_matches(SPEC, "/Organisations", "get", {"Size": "many"})
    with pytest.raises(AssertionError, match="does not match"):
        assert_query_matches(SPEC, "/Organisations", "get", {"Size": "5000"})  # webCRM pages hold at most 1000
    with pytest.raises(AssertionError, match="lacks required"):
        assert_query_matches(SPEC, "/Queries", "get", {"Page": "1"})
