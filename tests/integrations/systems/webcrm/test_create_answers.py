"""A create's answer as webCRM's API description gives it, and how the client learns the new id.

``POST /Organisations`` and ``POST /Users`` document "Success" without a body; the other creates the
client uses answer the new id as a bare number. Without an id in the answer the client finds the one new
record holding what it wrote, or asks a person; it never sends the create twice.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.systems.catalog import Entity
from integrations.systems.webcrm.client import CreatedRecordUnknown, _same_value
from integrations.systems.webcrm.sandbox import EMPTY_CREATE_ANSWER

from ..contract import response_schema, spec_source  # noqa: F401 - spec_source: digest and description
from .conftest import add_organisation

SPEC = "webcrm-swagger.json"
CREATES = ("/Organisations", "/Persons", "/Deliveries", "/QuotationLines", "/QuotationLines/LinkedData", "/Users")


def documented_answer(path: str) -> dict | None:
    try:
        return response_schema(SPEC, path, "post")
    except AssertionError:
        return None


def posts(mounted, path: str) -> list:
    return [e for e in mounted.exchanges if e.method == "POST" and e.path == path]


@pytest.mark.parametrize("path", CREATES)
def test_the_sandbox_answers_each_create_as_the_description_says(path):
    answer = documented_answer(path)
    if path.lstrip("/") in EMPTY_CREATE_ANSWER:
        assert answer is None
    else:
        assert answer == {"format": "int32", "type": "integer"}


def test_an_organisation_created_without_an_id_in_the_answer_is_found_by_what_was_written(client, mounted):
    add_organisation(mounted.app, "Kystens Handel A/S", OrganisationCity="Skagen")  # a namesake

    created = client.create_record(Entity.ORGANISATION, {"OrganisationName": "Kystens Handel A/S",
                                                         "OrganisationCity": "Hirtshals"})

    [post] = posts(mounted, "/Organisations")
    assert post.status == 200 and post.response_body is None
    assert created["OrganisationCity"] == "Hirtshals" and created["OrganisationId"] == 2


def test_a_user_is_found_even_when_the_first_lookup_comes_too_early(client, sandbox, mounted, clock):
    sandbox.store.index_lag = 1  # the new user is missing from the next query

    created = client.create_record(Entity.USER, {"UserName": "Freja Holm", "UserEmail": "freja@nordlys.dk"})

    assert len(posts(mounted, "/Users")) == 1
    assert created["UserName"] == "Freja Holm"
    assert clock.sleeps  # it waited before looking again
    with sandbox.lock:
        assert len(sandbox.store.tables["Users"].rows) == 1


def test_when_no_lookup_finds_it_a_person_is_asked_and_nothing_is_created_twice(client, sandbox, mounted):
    sandbox.store.index_lag = 10

    with pytest.raises(CreatedRecordUnknown, match="without saying which id") as caught:
        client.create_record(Entity.ORGANISATION, {"OrganisationName": "Bøgely Blomster ApS"})

    assert not caught.value.transient
    assert "check webCRM" in caught.value.message
    assert len(posts(mounted, "/Organisations")) == 1
    with sandbox.lock:
        assert [row["OrganisationName"] for row in sandbox.store.tables["Organisations"].rows.values()] == [
            "Bøgely Blomster ApS"]


def test_two_new_records_with_the_same_values_are_not_told_apart_by_guessing(client, sandbox, mounted):
    original = sandbox.store.create

    def create_twice(path, body, **kwargs):  # someone makes the same organisation at the same moment
        if path == "Organisations" and body.get("OrganisationName") == "Tvilling ApS":
            original(path, body, **kwargs)
        return original(path, body, **kwargs)

    sandbox.store.create = create_twice
    with pytest.raises(CreatedRecordUnknown, match="2 records"):
        client.create_record(Entity.ORGANISATION, {"OrganisationName": "Tvilling ApS"})
    assert len(posts(mounted, "/Organisations")) == 1


@pytest.mark.parametrize("answer", ["object", "location", "id"])
def test_an_id_in_the_answer_is_used_in_any_of_its_forms(client, sandbox, mounted, answer):
    sandbox.create_answer = answer

    created = client.create_record(Entity.ORGANISATION, {"OrganisationName": "Solbakken Handel"})

    assert created["OrganisationName"] == "Solbakken Handel"
    paths = [e.path for e in mounted.exchanges]
    after = paths[paths.index("/Organisations") + 1:]
    assert "/Queries" not in after  # no lookup was needed after the create


def test_a_documented_id_missing_from_the_answer_is_not_guessed(client, sandbox, mounted):
    organisation = add_organisation(sandbox, "Larsen VVS")
    sandbox.create_answer = "empty"

    with pytest.raises(CreatedRecordUnknown, match="did not say which id"):
        client.create_record(Entity.PERSON, {"PersonOrganisationId": organisation["OrganisationId"],
                                             "PersonFirstName": "Søren"})
    assert len(posts(mounted, "/Persons")) == 1


@pytest.mark.parametrize(("written", "stored", "same"), [
    ("2026-03-01 00:00:00", "2026-03-01T00:00:00", True), ("2026-03-01", "2026-03-02T00:00:00", False),
    (Decimal("1.50"), 1.5, True), (Decimal("1.50"), 1.51, False), ("Nordlys  Byg ", "Nordlys Byg", True),
    ("Nordlys Byg", "nordlys byg", False), (None, "", True), ("", "x", False), (True, False, False),
])
def test_a_written_value_is_compared_with_the_stored_one_by_meaning_not_by_spelling(written, stored, same):
    assert _same_value(written, stored) is same
