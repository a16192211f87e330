"""The webCRM client against the sandbox: handshake, paging, changes, documents, errors and retries."""

from __future__ import annotations

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
from integrations.systems.webcrm import provider
from integrations.systems.webcrm.catalog import LINKED

from .conftest import BASE_URL, CREDENTIALS, add_organisation


def logins(recorder) -> int:
    return sum(1 for e in recorder.exchanges if e.path == "/Auth/ApiLogin")


# -- auth ----------------------------------------------------------------------------------------
def test_logs_in_once_and_shares_the_token_through_the_store(mounted, clock):
    store = MemoryTokenStore()
    first = provider.client(base_url=BASE_URL, credentials=CREDENTIALS, token_store=store, sleep=clock.sleep)
    second = provider.client(base_url=BASE_URL, credentials=CREDENTIALS, token_store=store, sleep=clock.sleep)

    assert first.check_connection().startswith("Connected to webCRM")
    second.check_connection()

    assert logins(mounted) == 1
    tokens = store.get(first.token_key())
    assert tokens["AccessToken"] and tokens["RefreshToken"]
    login = next(e for e in mounted.exchanges if e.path == "/Auth/ApiLogin")
    assert login.status == 200 and login.response_body["TokenType"] == "Bearer"


def test_an_expired_token_is_renewed_with_the_refresh_token(client, sandbox, mounted):
    add_organisation(sandbox, "Skovly VVS ApS")
    client.check_connection()
    sandbox.expire_tokens()

    records = list(client.list_records(Entity.ORGANISATION))

    assert [r["OrganisationName"] for r in records] == ["Skovly VVS ApS"]
    refreshes = [e for e in mounted.exchanges if e.path == "/Auth/ApiRefresh"]
    assert [e.status for e in refreshes] == [200]
    assert logins(mounted) == 1
    assert next(e.status for e in mounted.exchanges if e.path == "/Organisations") == 401


def test_a_refused_refresh_falls_back_to_a_new_login(client, sandbox, mounted):
    client.check_connection()
    sandbox.expire_tokens()
    sandbox.refresh_tokens.clear()  # webCRM forgot the refresh token

    client.check_connection()

    assert [e.status for e in mounted.exchanges if e.path == "/Auth/ApiRefresh"] == [401]
    assert logins(mounted) == 2


def test_a_revoked_application_token_is_an_auth_error_with_webcrms_words(client, sandbox):
    client.check_connection()
    sandbox.expire_tokens()
    sandbox.revoke(CREDENTIALS["api_key"])

    with pytest.raises(AuthError) as caught:
        client.check_connection()
    assert caught.value.vendor_message == "The authentication code is invalid"


def test_a_wrong_api_key_is_refused_at_login(mounted, clock):
    webcrm = provider.client(base_url=BASE_URL, credentials={"api_key": "not-a-token"}, sleep=clock.sleep)
    with pytest.raises(AuthError) as caught:
        webcrm.check_connection()
    assert caught.value.status == 401
    assert "authentication code is invalid" in str(caught.value)


# -- reading -------------------------------------------------------------------------------------
def test_lists_every_organisation_across_pages(client, sandbox, mounted):
    for number in range(25):
        add_organisation(sandbox, f"Havbrise Handel {number} A/S")

    records = list(client.list_records(Entity.ORGANISATION, page_size=10))

    assert len(records) == 25
    assert len({r["OrganisationId"] for r in records}) == 25
    pages = [e.query for e in mounted.exchanges if e.path == "/Organisations" and e.status == 200]
    assert [p["Page"] for p in pages] == ["1", "2", "3", "4"]  # the fourth, empty page ends the list
    assert {p["Size"] for p in pages} == {"10"}


def test_list_is_a_generator_that_reads_page_by_page(client, sandbox, mounted):
    for number in range(5):
        add_organisation(sandbox, f"Egholm Byg {number}")
    records = client.list_records(Entity.ORGANISATION, page_size=2)
    next(records)
    assert sum(1 for e in mounted.exchanges if e.path == "/Organisations") == 1


def test_page_size_is_capped_at_webcrms_maximum(client, sandbox, mounted):
    add_organisation(sandbox, "Fjordens Catering I/S")
    list(client.list_records(Entity.ORGANISATION, page_size=5000))
    assert {e.query["Size"] for e in mounted.exchanges if e.path == "/Organisations"} == {"1000"}


def test_organisations_changed_since_come_from_find_by_update_dates(client, sandbox, wall, mounted):
    add_organisation(sandbox, "Old Nordlys A/S")
    since = wall.advance(hours=1)
    wall.advance(minutes=5)
    add_organisation(sandbox, "New Solbakken ApS")

    records = list(client.list_records(Entity.ORGANISATION, modified_since=since))

    assert [r["OrganisationName"] for r in records] == ["New Solbakken ApS"]
    assert any(e.path.startswith("/Organisations/FindByUpdateDates/2026-03-01T09:00:00/")
               for e in mounted.exchanges)


def test_persons_changed_since_come_from_a_query(client, sandbox, wall, mounted):
    organisation = add_organisation(sandbox, "Kystens El-service")
    with sandbox.lock:
        old = sandbox.store.create("Persons", {"PersonOrganisationId": organisation["OrganisationId"],
                                               "PersonFirstName": "Lars", "PersonLastName": "Jensen"})
    since = wall.advance(days=1)
    wall.advance(minutes=1)
    sandbox.change_in_webcrm("Persons", old["PersonId"], PersonTitle="Direktør")
    with sandbox.lock:
        sandbox.store.create("Persons", {"PersonOrganisationId": organisation["OrganisationId"],
                                         "PersonFirstName": "Ida", "PersonLastName": "Madsen"})

    records = list(client.list_records(Entity.PERSON, modified_since=since.isoformat() + "Z"))

    assert [r["PersonName"] for r in records] == ["Lars Jensen", "Ida Madsen"]
    query = next(e for e in mounted.exchanges if e.path == "/Queries")
    assert query.query["script"] == ("SELECT * FROM Person WHERE PersonUpdatedAt >= '2026-03-02T08:00:00' "
                                     "ORDER BY PersonUpdatedAt ASC")


def test_finds_records_by_a_field_on_the_server(client, sandbox, mounted):
    add_organisation(sandbox, "Møllers & Søn", OrganisationExtraCustom1="10077")
    add_organisation(sandbox, "Ole's Handel AND Co", OrganisationExtraCustom1="10078")
    add_organisation(sandbox, "Anden Handel", OrganisationExtraCustom1="100770")

    assert [r["OrganisationName"] for r in client.find_records(Entity.ORGANISATION, "OrganisationExtraCustom1",
                                                               " 10077 ")] == ["Møllers & Søn"]
    assert [r["OrganisationExtraCustom1"] for r in client.find_records(
        Entity.ORGANISATION, "OrganisationName", "ole's handel and co")] == ["10078"]
    assert client.find_records(Entity.ORGANISATION, "OrganisationExtraCustom1", "") == []
    assert client.find_records(Entity.ORGANISATION, "NoSuchField", "x") == []
    scripts = [e.query["script"] for e in mounted.exchanges if e.path == "/Queries"]
    assert "SELECT * FROM Organisation WHERE OrganisationName = 'ole''s handel and co'" in scripts
    assert not any(e.path == "/Organisations" for e in mounted.exchanges)  # no paging through everything


# -- writing -------------------------------------------------------------------------------------
def test_creates_and_updates_an_organisation_without_losing_other_fields(client, sandbox):
    created = client.create_record(Entity.ORGANISATION, {
        "OrganisationName": "Lindegaard Tømrer ApS", "OrganisationCity": "Vejle",
        "OrganisationExtraCustom1": "10077", "OrganisationId": 999, "OrganisationCreatedAt": "2000-01-01"})
    organisation_id = client.record_id(Entity.ORGANISATION, created)

    updated = client.update_record(Entity.ORGANISATION, organisation_id, {"OrganisationWww": "www.lindegaard.dk"})

    assert organisation_id != "999"  # webCRM assigns ids
    assert updated["OrganisationCity"] == "Vejle"
    assert updated["OrganisationExtraCustom1"] == "10077"
    assert updated["OrganisationWww"] == "www.lindegaard.dk"
    assert updated["OrganisationCreatedAt"] != "2000-01-01T00:00:00"


def test_a_delivery_is_written_and_read_with_its_quotation_lines(client, sandbox):
    organisation = add_organisation(sandbox, "Møllers Transport A/S")
    delivery = client.create_record(Entity.DELIVERY, {
        "DeliveryOrganisationId": organisation["OrganisationId"], "DeliveryDescription": "Ordre",
        "lines": [
            {"QuotationLineData1": "1001", "QuotationLineQuantity": 2, "QuotationLinePrice": 100.0},
            {"QuotationLineData1": "1002", "QuotationLineQuantity": 1, "QuotationLinePrice": 50.5},
        ]})

    assert [line["QuotationLineData1"] for line in delivery["lines"]] == ["1001", "1002"]
    assert {line["QuotationLineOrganisationId"] for line in delivery["lines"]} == {organisation["OrganisationId"]}

    first, second = delivery["lines"]
    updated = client.update_record(Entity.DELIVERY, str(delivery["DeliveryId"]), {"lines": [
        {**first, "QuotationLineQuantity": 5},
        {"QuotationLineData1": "1003", "QuotationLineQuantity": 1, "QuotationLinePrice": 10.0},
    ]})

    assert [(line["QuotationLineData1"], line["QuotationLineQuantity"]) for line in updated["lines"]] == [
        ("1001", 5.0), ("1003", 1.0)]
    assert updated["lines"][0]["QuotationLineId"] == first["QuotationLineId"]
    with sandbox.lock:
        assert str(second["QuotationLineId"]) not in sandbox.store.tables["QuotationLines"].rows

    listed = next(client.list_records(Entity.DELIVERY))
    assert len(listed["lines"]) == 2


def test_items_can_be_deleted_but_organisations_cannot(client, sandbox, mounted):
    item = client.create_record(Entity.ITEM, {f"{LINKED}Data1": "1001", f"{LINKED}Data2": "Arbejdsjakke",
                                              f"{LINKED}Price": 399})
    client.delete_record(Entity.ITEM, str(item[f"{LINKED}Id"]))
    with pytest.raises(NotFoundError):
        client.get_record(Entity.ITEM, str(item[f"{LINKED}Id"]))

    organisation = add_organisation(sandbox, "Bøgely Blomster")
    before = len(mounted.exchanges)
    with pytest.raises(VendorValidationError, match="cannot delete organisations"):
        client.delete_record(Entity.ORGANISATION, str(organisation["OrganisationId"]))
    assert len(mounted.exchanges) == before


# -- errors --------------------------------------------------------------------------------------
def test_a_missing_record_is_not_found_with_webcrms_message(client):
    with pytest.raises(NotFoundError) as caught:
        client.get_record(Entity.PERSON, "4711")
    assert caught.value.status == 404
    assert caught.value.vendor_message == "Person with id 4711 was not found"


def test_refused_data_is_a_validation_error_with_webcrms_message(client, sandbox):
    with pytest.raises(VendorValidationError) as caught:
        client.create_record(Entity.ORGANISATION, {"OrganisationCity": "Odense"})
    assert caught.value.status == 400
    assert caught.value.vendor_message == "OrganisationName is required"

    with pytest.raises(VendorValidationError) as caught:
        client.create_record(Entity.ORGANISATION, {"OrganisationName": "X", "OrganisationExtraCustom2": "9" * 51})
    assert caught.value.vendor_message == "OrganisationExtraCustom2 must be at most 50 characters"


def test_over_the_limit_is_rate_limited_with_retry_after(mounted, sandbox, clock):
    sandbox.knobs.rate_limit = (3, 60.0)
    webcrm = provider.client(base_url=BASE_URL, credentials=CREDENTIALS, sleep=clock.sleep, max_attempts=1)
    webcrm.check_connection()  # login + one call
    clock.now += 10
    webcrm.check_connection()

    with pytest.raises(RateLimitedError) as caught:
        webcrm.check_connection()
    assert caught.value.retry_after == 50  # the login, 10 s ago, leaves the 60 s window in 50 s
    assert "limit of 250 requests per minute" in caught.value.vendor_message


def test_a_429_is_retried_after_the_retry_after_it_names(mounted, sandbox, clock):
    sandbox.knobs.rate_limit = (2, 60.0)
    webcrm = provider.client(base_url=BASE_URL, credentials=CREDENTIALS, sleep=clock.sleep)
    webcrm.check_connection()  # uses both requests of the window

    assert webcrm.check_connection().startswith("Connected")

    assert clock.sleeps and clock.sleeps[0] >= 60
    assert [e.status for e in mounted.exchanges][-2:] == [429, 200]


def test_5xx_is_retried_until_it_succeeds(client, sandbox, mounted):
    client.check_connection()
    sandbox.knobs.error_rate = 0.6
    client.max_attempts = 20

    client.check_connection()

    statuses = [e.status for e in mounted.exchanges if e.path == "/Users"]
    assert 503 in statuses and statuses[-1] == 200


def test_5xx_gives_up_after_max_attempts(client, sandbox, mounted):
    client.check_connection()
    sandbox.knobs.error_rate = 1.0
    client.max_attempts = 3
    before = client.calls

    with pytest.raises(TransientError) as caught:
        client.check_connection()

    assert client.calls - before == 3
    assert caught.value.vendor_message == "An error has occurred."


def test_a_create_is_not_repeated_after_a_5xx(client, sandbox, mounted):
    organisation = add_organisation(sandbox, "Larsen VVS")
    client.check_connection()
    sandbox.knobs.error_rate = 1.0
    with pytest.raises(TransientError):
        client.create_record(Entity.PERSON, {"PersonOrganisationId": organisation["OrganisationId"],
                                             "PersonFirstName": "Søren"})
    assert sum(1 for e in mounted.exchanges if e.method == "POST" and e.path == "/Persons") == 1


def test_a_dropped_connection_is_transient(clock):
    def hang_up(environ, start_response):
        raise requests.ConnectionError("connection reset by peer")

    with transport.mounted("https://down.test", hang_up):
        webcrm = provider.client(base_url="https://down.test", credentials=CREDENTIALS, sleep=clock.sleep,
                                 max_attempts=2)
        with pytest.raises(TransientError, match="Could not reach webCRM"):
            webcrm.check_connection()
    assert webcrm.calls == 2  # each of the two attempts of the read first tried to log in
