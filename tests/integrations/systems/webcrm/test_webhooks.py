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


def test_a_bare_record_takes_its_event_from_the_registered_url():
    body = fixture("product_bare_record.json")
    assert summary(parse(body, query={"event": "Update"})) == [(Entity.ITEM, WebhookAction.UPDATED, "77")]
    assert summary(parse(body, headers={"EventType": "Delete"})) == [(Entity.ITEM, WebhookAction.DELETED, "77")]


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
    (b'{"ProductId": 77, "ProductCombined": "x"}', "does not say what happened"),
    (b'{"EventType": "Update", "Name": "x"}', "does not say which entity"),
])
def test_malformed_or_unknown_notifications_are_rejected(body, reason):
    with pytest.raises(WebhookRejected, match=reason) as caught:
        parse(body)
    assert caught.value.status == 400
