"""Saved webCRM hook calls replayed through the parser, and what it must refuse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integrations.systems.base import WebhookAction
from integrations.systems.catalog import Entity
from integrations.systems.errors import WebhookRejected
from integrations.systems.webcrm import provider

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(body: bytes, *, query=None, headers=None, secret=None):
    return provider.parse_webhook(body=body, headers=headers or {}, query=query or {}, secret=secret)


def summary(events):
    return [(e.entity, e.action, e.external_id) for e in events]


def test_an_organisation_update():
    events = parse(fixture("organisation_updated.json"), query={"token": "t0k3n"})
    assert summary(events) == [(Entity.ORGANISATION, WebhookAction.UPDATED, "1043")]
    assert events[0].payload["HookId"] == 4


def test_a_person_creation():
    assert summary(parse(fixture("person_created.json"))) == [(Entity.PERSON, WebhookAction.CREATED, "5521")]


def test_a_deleted_quotation_line_also_changes_its_delivery():
    assert summary(parse(fixture("quotation_line_deleted.json"))) == [
        (Entity.DELIVERY_LINE, WebhookAction.DELETED, "880"),
        (Entity.DELIVERY, WebhookAction.UPDATED, "301"),
    ]


def test_a_bare_record_takes_entity_and_event_from_the_registered_url():
    body = fixture("organisation_bare_record.json")
    query = {"entity": "Organisation", "event": "Update"}
    assert summary(parse(body, query=query)) == [(Entity.ORGANISATION, WebhookAction.UPDATED, "1043")]
    assert summary(parse(body, query={**query, "event": "Delete"})) == [
        (Entity.ORGANISATION, WebhookAction.DELETED, "1043")]


def test_a_list_of_bare_lines_names_each_line_and_its_delivery():
    events = parse(fixture("quotation_lines_bare_records.json"), query={"entity": "QuotationLine", "event": "Create"})
    assert summary(events) == [
        (Entity.DELIVERY_LINE, WebhookAction.CREATED, "880"), (Entity.DELIVERY, WebhookAction.UPDATED, "301"),
        (Entity.DELIVERY_LINE, WebhookAction.CREATED, "881"), (Entity.DELIVERY, WebhookAction.UPDATED, "301")]


def test_a_notice_through_a_per_event_url_agrees_with_it():
    events = parse(fixture("person_created.json"), query={"entity": "Person", "event": "Create"})
    assert summary(events) == [(Entity.PERSON, WebhookAction.CREATED, "5521")]
    notice_without_names = json.dumps({"EntityId": 5521}).encode()
    assert summary(parse(notice_without_names, query={"entity": "Person", "event": "Update"})) == [
        (Entity.PERSON, WebhookAction.UPDATED, "5521")]


@pytest.mark.parametrize(("query", "reason"), [
    ({"entity": "Person", "event": "Update"}, "carries a 'Create' notice"),
    ({"entity": "Organisation", "event": "Create"}, "carries a notice about 'Person'"),
])
def test_a_notice_contradicting_the_hook_it_came_through_is_refused(query, reason):
    with pytest.raises(WebhookRejected, match=reason):
        parse(fixture("person_created.json"), query=query)


def test_a_record_naming_two_ids_is_refused():
    body = json.dumps({"EntityId": 5, "Data": {"OrganisationId": 6}}).encode()
    with pytest.raises(WebhookRejected, match="two organisation ids"):
        parse(body, query={"entity": "Organisation", "event": "Update"})


def test_a_product_is_not_an_item_so_its_record_is_refused():
    """``/Products`` belong to one organisation each; Synkro's items are the quotation-line register."""
    body = fixture("product_bare_record.json")
    with pytest.raises(WebhookRejected, match="does not say which entity"):
        parse(body, query={"event": "Update"})
    with pytest.raises(WebhookRejected, match="does not sync"):
        parse(body, query={"entity": "Product", "event": "Update"})


def test_a_batch_of_notifications():
    assert summary(parse(fixture("users_batch.json"))) == [
        (Entity.USER, WebhookAction.CREATED, "14"), (Entity.USER, WebhookAction.UPDATED, "9")]


def test_names_are_read_in_any_case_and_form():
    body = json.dumps({"entitytype": "organisations", "eventtype": "created", "entityid": "12"}).encode()
    assert summary(parse(body)) == [(Entity.ORGANISATION, WebhookAction.CREATED, "12")]


def test_webcrm_does_not_sign_so_a_secret_changes_nothing():
    assert parse(fixture("person_created.json"), secret="anything")[0].external_id == "5521"


@pytest.mark.parametrize(("body", "reason"), [
    (b"<xml/>", "not JSON"),
    (b"", "not JSON"),
    (b"[]", "empty"),
    (b'"Update"', "not an object"),
    (b'{"EntityType": "Activity", "EventType": "Update", "EntityId": 3}', "does not sync"),
    (b'{"EntityType": "Organisation", "EventType": "Archive", "EntityId": 3}', "Unknown webCRM hook event"),
    (b'{"EntityType": "Organisation", "EventType": "Update"}', "names no organisation id"),
    (b'{"EntityType": "Organisation", "EventType": "Update", "EntityId": "../3"}', "ids are numbers"),
    (b'{"OrganisationId": 77, "OrganisationName": "x"}', "does not say what happened"),
    (b'{"EventType": "Update", "Name": "x"}', "does not say which entity"),
])
def test_malformed_or_unknown_notifications_are_rejected(body, reason):
    with pytest.raises(WebhookRejected, match=reason) as caught:
        parse(body)
    assert caught.value.status == 400
