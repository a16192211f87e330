"""The webCRM sandbox on its own: handshake, limits, hooks, drills and demo data."""

from __future__ import annotations

import threading
import time

import pytest
from werkzeug.test import Client

from integrations.systems import transport
from integrations.systems.webcrm import provider
from integrations.systems.webcrm.sandbox import DEMO_API_KEY, WebcrmSandbox

from .conftest import HOOKS_URL, add_organisation


def login(http: Client) -> dict[str, str]:
    response = http.post("/Auth/ApiLogin", data={"authCode": DEMO_API_KEY})
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.get_json()['AccessToken']}"}


@pytest.fixture
def http(sandbox) -> Client:
    return Client(sandbox)


@pytest.fixture
def auth(http) -> dict[str, str]:
    return login(http)


def subscribe(http, auth, resource: str, event: str, **extra) -> int:
    response = http.post(f"/{resource}/Hooks", headers=auth, json={
        "Id": 0, "TargetUrl": f"{HOOKS_URL}/webcrm?token=t0k3n", "EventType": event, "Filter": ["All"],
        "IsEnabled": True, **extra})
    assert response.status_code == 200
    return response.get_json()


# -- handshake -------------------------------------------------------------------------------
def test_demo_credentials_are_accepted_and_others_refused(http):
    assert provider.extras["demo_credentials"] == {"api_key": DEMO_API_KEY}
    login(http)
    refused = http.post("/Auth/ApiLogin", data={"authCode": "guess"})
    assert refused.status_code == 401
    assert refused.get_json() == {"Error": "invalid_grant", "ErrorDescription": "The authentication code is invalid",
                                  "IsError": True}


def test_calls_without_a_valid_token_get_the_bearer_challenge(http, auth, sandbox):
    missing = http.get("/Organisations")
    assert missing.status_code == 401 and missing.data == b""
    assert 'error="invalid_token"' in missing.headers["WWW-Authenticate"]

    sandbox.expire_tokens()
    expired = http.get("/Organisations", headers=auth)
    assert expired.status_code == 401
    assert 'error_description="The token is expired"' in expired.headers["WWW-Authenticate"]


def test_a_refresh_token_is_good_for_one_renewal(http):
    tokens = http.post("/Auth/ApiLogin", data={"authCode": DEMO_API_KEY}).get_json()
    renewed = http.post("/Auth/ApiRefresh", headers={"refreshToken": tokens["RefreshToken"]})
    assert renewed.status_code == 200 and renewed.get_json()["AccessToken"] != tokens["AccessToken"]
    again = http.post("/Auth/ApiRefresh", headers={"refreshToken": tokens["RefreshToken"]})
    assert again.status_code == 401


# -- paging and errors -----------------------------------------------------------------------
def test_paging_bounds_and_the_empty_last_page(http, auth, sandbox):
    for number in range(3):
        add_organisation(sandbox, f"Højby Revision {number}")
    assert len(http.get("/Organisations?Page=2&Size=2", headers=auth).get_json()) == 1
    assert http.get("/Organisations?Page=3&Size=2", headers=auth).get_json() == []
    too_big = http.get("/Organisations?Page=1&Size=1001", headers=auth)
    assert too_big.status_code == 400 and too_big.get_json()["Type"] == "BadRequestException"


def test_unknown_paths_and_records_answer_webcrms_404(http, auth):
    assert http.get("/Organisations/77", headers=auth).get_json() == {
        "Message": "Organisation with id 77 was not found", "Type": "NotFoundException"}
    assert http.get("/Nowhere", headers=auth).status_code == 404
    # the API cannot delete organisations: no such route
    assert http.delete("/Organisations/1", headers=auth).status_code in (404, 405)


def test_queries_refuse_what_they_cannot_read(http, auth):
    response = http.get("/Queries", headers=auth, query_string={"script": "DROP TABLE Organisation"})
    assert response.status_code == 400
    assert response.get_json()["Message"].startswith("The script could not be parsed")
    unknown = http.get("/Queries", headers=auth, query_string={"script": "SELECT * FROM Budget"})
    assert unknown.get_json()["Message"] == "Unknown table 'Budget'"


def test_queries_filter_with_and_and_order(http, auth, sandbox):
    add_organisation(sandbox, "Aarslev Handel", OrganisationType="Kunde", OrganisationXInt1=3)
    add_organisation(sandbox, "Bøgely Handel", OrganisationType="Prospekt", OrganisationXInt1=5)
    add_organisation(sandbox, "Solbakken Handel", OrganisationType="Kunde", OrganisationXInt1=9)
    script = ("SELECT * FROM organisation o WHERE o.OrganisationType = 'Kunde' AND OrganisationXInt1 > 2 "
              "ORDER BY OrganisationName DESC")
    rows = http.get("/Queries", headers=auth, query_string={"script": script, "Page": 1, "Size": 10}).get_json()
    assert [r["OrganisationName"] for r in rows] == ["Solbakken Handel", "Aarslev Handel"]


def test_the_default_limit_is_webcrms_250_a_minute(http, sandbox, clock):
    sandbox.knobs.rate_limit = None
    assert sandbox.default_rate_limit == (250, 60.0)
    statuses = [http.post("/Auth/ApiLogin", data={"authCode": "x"}).status_code for _ in range(251)]
    assert statuses[:250] == [401] * 250
    limited = http.get("/Organisations")
    assert limited.status_code == 429
    assert limited.get_json()["Type"] == "TooManyRequestsException"
    assert limited.headers["Retry-After"] == str(limited.get_json()["RetryAfterSeconds"]) == "60"
    clock.now += 61
    assert http.get("/Organisations").status_code == 401  # through again, refused for want of a token


# -- hooks -------------------------------------------------------------------------------------
def test_hooks_can_be_listed_changed_and_removed(http, auth):
    hook_id = subscribe(http, auth, "Organisations", "Update")
    assert [h["Id"] for h in http.get("/Organisations/Hooks", headers=auth).get_json()] == [hook_id]
    hook = http.get(f"/Organisations/Hooks/{hook_id}", headers=auth).get_json()
    disabled = http.put(f"/Organisations/Hooks/{hook_id}", headers=auth, json={**hook, "IsEnabled": False})
    assert disabled.status_code == 200
    assert http.get(f"/Organisations/Hooks/{hook_id}", headers=auth).get_json()["IsEnabled"] is False
    assert http.delete(f"/Organisations/Hooks/{hook_id}", headers=auth).status_code == 200
    assert http.get("/Organisations/Hooks", headers=auth).get_json() == []
    bad = http.post("/Organisations/Hooks", headers=auth, json={"TargetUrl": "x", "EventType": "Create"})
    assert bad.status_code == 400


def test_changes_call_the_hooks_of_their_event(http, auth, receiver, sandbox):
    organisation = add_organisation(sandbox, "Kystens Handel")
    for event in ("Create", "Update"):
        subscribe(http, auth, "Deliveries", event)
    delivery = {"DeliveryId": 0, "DeliveryOrganisationId": organisation["OrganisationId"], "DeliveryNumber": "D1"}
    delivery_id = http.post("/Deliveries", headers=auth, json=delivery).get_json()
    http.put(f"/Deliveries/{delivery_id}", headers=auth, json={**delivery, "DeliveryId": delivery_id,
                                                               "DeliveryNumber": "D1-b"})

    notifications = [call["json"] for call in receiver.calls]
    assert [(n["EventType"], n["EntityType"], n["EntityId"]) for n in notifications] == [
        ("Create", "Delivery", delivery_id), ("Update", "Delivery", delivery_id)]
    assert notifications[1]["Data"]["DeliveryNumber"] == "D1-b"
    assert {call["query"]["token"] for call in receiver.calls} == {"t0k3n"}


@pytest.mark.parametrize("shape", ["notice", "record", "notices", "records"])
def test_each_hook_body_shape_parses_into_the_same_event(http, auth, receiver, sandbox, shape):
    sandbox.hook_body = shape
    http.post("/Organisations/Hooks", headers=auth, json={
        "Id": 0, "TargetUrl": f"{HOOKS_URL}/webcrm?entity=Organisation&event=Update", "EventType": "Update",
        "Filter": ["All"], "IsEnabled": True})
    organisation = add_organisation(sandbox, "Vestjysk Maskinstation")
    sandbox.change_in_webcrm("Organisations", organisation["OrganisationId"], OrganisationCity="Esbjerg")

    [call] = receiver.calls
    assert isinstance(call["json"], list) == shape.endswith("s")
    events = provider.parse_webhook(body=call["body"], headers={}, query=call["query"])
    assert [(e.entity, e.action, e.external_id) for e in events] == [
        ("organisation", "updated", str(organisation["OrganisationId"]))]


@pytest.mark.parametrize(("missing", "value"), [("Filter", None), ("Id", None), ("IsEnabled", None),
                                                ("TargetUrl", None), ("Filter", ["Responsible"])])
def test_a_hook_without_what_the_api_requires_is_refused(http, auth, missing, value):
    hook = {"Id": 0, "TargetUrl": f"{HOOKS_URL}/in", "EventType": "Update", "Filter": ["All"], "IsEnabled": True}
    hook[missing] = value
    refused = http.post("/Organisations/Hooks", headers=auth, json={k: v for k, v in hook.items() if v is not None})
    assert refused.status_code == 400 and refused.get_json()["Type"] == "BadRequestException"
    assert http.get("/Organisations/Hooks", headers=auth).get_json() == []


def test_creates_answer_as_the_api_description_says(http, auth, sandbox):
    created = http.post("/Organisations", headers=auth, json={"OrganisationId": 0, "OrganisationName": "Ny A/S"})
    assert created.status_code == 200 and created.data == b""
    assert http.post("/Users", headers=auth, json={"UserId": 0, "UserName": "Ny Sælger"}).data == b""
    organisation_id = max(int(key) for key in sandbox.store.tables["Organisations"].rows)
    person = http.post("/Persons", headers=auth, json={"PersonId": 0, "PersonOrganisationId": organisation_id})
    assert person.get_json() == max(int(key) for key in sandbox.store.tables["Persons"].rows)


def test_the_item_register_refuses_empty_data_columns_and_has_no_paging(http, auth):
    item = {"QuotationLineLinkedDataItemId": 0, **{f"QuotationLineLinkedDataItemData{n}": "-" for n in range(1, 10)},
            "QuotationLineLinkedDataItemData1": "1001", "QuotationLineLinkedDataItemPrice": 160.2}
    refused = http.post("/QuotationLines/LinkedData", headers=auth,
                        json={**item, "QuotationLineLinkedDataItemData4": " "})
    assert refused.status_code == 400 and "Data4 must not be empty" in refused.get_json()["Message"]
    ids = [http.post("/QuotationLines/LinkedData", headers=auth, json=item).get_json() for _ in range(3)]
    listed = http.get("/QuotationLines/LinkedData", headers=auth, query_string={"Page": 2, "Size": 1}).get_json()
    assert [row["QuotationLineLinkedDataItemId"] for row in listed] == ids
    script = "SELECT * FROM LinkedData WHERE LinkedDataItemEntityType = 0 AND LinkedDataItemData1 = '1001'"
    rows = http.get("/Queries", headers=auth, query_string={"script": script, "Page": 1, "Size": 10}).get_json()
    assert [row["LinkedDataItemId"] for row in rows] == ids  # kind not given: webCRM's enum default, Undefined


def test_disabled_hooks_and_other_events_stay_quiet(http, auth, receiver, sandbox):
    subscribe(http, auth, "Organisations", "Create", IsEnabled=False)
    subscribe(http, auth, "Organisations", "Delete")
    organisation = add_organisation(sandbox, "Stille Handel")
    sandbox.change_in_webcrm("Organisations", organisation["OrganisationId"], OrganisationCity="Aalborg")
    http.post("/Organisations", headers=auth, json={"OrganisationId": 0, "OrganisationName": "Ny Handel"})
    assert receiver.calls == []

    sandbox.delete_in_webcrm("Organisations", organisation["OrganisationId"])
    assert [c["json"]["EventType"] for c in receiver.calls] == ["Delete"]


def test_sandbox_notifications_parse_into_the_events_they_describe(http, auth, receiver, sandbox):
    subscribe(http, auth, "Organisations", "Update")
    organisation = add_organisation(sandbox, "Vestjysk Maskinstation")
    sandbox.change_in_webcrm("Organisations", organisation["OrganisationId"], OrganisationType="Kunde")

    call = receiver.calls[0]
    events = provider.parse_webhook(body=call["body"], headers={}, query=call["query"])

    assert [(e.entity, e.action, e.external_id) for e in events] == [
        ("organisation", "updated", str(organisation["OrganisationId"]))]


def test_the_drop_knob_loses_all_or_some_notifications(receiver):
    for rate, seed in ((1.0, None), (0.5, 11)):
        receiver.calls.clear()
        sandbox = WebcrmSandbox(rate_limit=(0, 0), webhook_drop_rate=rate, seed=seed)
        http = Client(sandbox)
        headers = login(http)
        subscribe(http, headers, "Users", "Create")
        for number in range(20):
            http.post("/Users", headers=headers, json={"UserId": 0, "UserName": f"Sælger {number}"})
        dropped = sum(1 for delivery in sandbox.webhooks if delivery.dropped)
        assert len(sandbox.webhooks) == 20
        assert len(receiver.calls) == 20 - dropped
        if rate == 1.0:
            assert dropped == 20
        else:
            assert 0 < dropped < 20


def test_asynchronous_delivery_arrives_from_another_thread(receiver):
    sandbox = WebcrmSandbox(rate_limit=(0, 0), webhook_async=True)
    http = Client(sandbox)
    headers = login(http)
    subscribe(http, headers, "Users", "Create")
    http.post("/Users", headers=headers, json={"UserId": 0, "UserName": "Freja Holm"})
    deadline = time.monotonic() + 5
    while not receiver.calls and time.monotonic() < deadline:
        time.sleep(0.01)
    assert receiver.calls and receiver.calls[0]["json"]["EntityType"] == "User"


# -- drills, threads and the demo -------------------------------------------------------------
def test_latency_knob_slows_every_answer():
    sandbox = WebcrmSandbox(rate_limit=(0, 0), latency_ms=30)
    started = time.monotonic()
    Client(sandbox).post("/Auth/ApiLogin", data={"authCode": DEMO_API_KEY})
    assert time.monotonic() - started >= 0.03


def test_concurrent_creates_get_distinct_ids(sandbox):
    with transport.mounted("https://webcrm.threads", sandbox):
        http = Client(sandbox)
        headers = login(http)

        def create(worker: int) -> None:
            for number in range(10):
                Client(sandbox).post("/Organisations", headers=headers, json={
                    "OrganisationId": 0, "OrganisationName": f"Tråd {worker}-{number}"})

        threads = [threading.Thread(target=create, args=(worker,)) for worker in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    with sandbox.lock:
        ids = [row["OrganisationId"] for row in sandbox.store.tables["Organisations"].rows.values()]
    assert len(ids) == len(set(ids)) == 60


def test_the_demo_database_is_realistic():
    sandbox = provider.sandbox()
    sandbox.seed_demo()
    tables = sandbox.store.tables
    assert len(tables["Organisations"].rows) == 340  # 300 Danish, 40 Swedish (the Fortnox side of the demo)
    assert len(tables["Persons"].rows) >= 300
    assert len(tables["Users"].rows) == 8 and len(tables["QuotationLines/LinkedData"].rows) >= 40
    deliveries = list(tables["Deliveries"].rows.values())
    assert len(deliveries) >= 30
    assert {d["DeliveryErpStatus"] for d in deliveries} == {
        "NotReadyForSynchronization", "ReadyForSynchronization", "Synchronized"}
    lines = list(tables["QuotationLines"].rows.values())
    assert {line["QuotationLineOpportunityId"] for line in lines} == {d["DeliveryId"] for d in deliveries}
    register = tables["QuotationLines/LinkedData"].rows
    for line in lines:  # every line points at its item and carries its number, as one picked in webCRM does
        item = register[str(line["QuotationLineLinkedDataId"])]
        assert line["QuotationLineData1"] == item["QuotationLineLinkedDataItemData1"]
    organisations = list(tables["Organisations"].rows.values())
    assert any(o["OrganisationExtraCustom1"] for o in organisations)
    assert any(not o["OrganisationExtraCustom1"] for o in organisations)
    assert {o["OrganisationCountry"] for o in organisations} == {"Danmark", "Sverige"}
    swedish = [o for o in organisations if o["OrganisationCountry"] == "Sverige"]
    assert {o["OrganisationType"] for o in swedish} == {"Kund – Företag", "Kund – Privat"}
    assert not any(o["OrganisationExtraCustom1"] for o in swedish)  # no number to collide with the Danish ERPs'
    offered = set(sandbox.field_options["Organisation"]["OrganisationType"])
    assert {o["OrganisationType"] for o in organisations} <= offered
