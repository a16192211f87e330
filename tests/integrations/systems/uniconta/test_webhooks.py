"""Uniconta Change URL calls, replayed from saved payloads, and the ones that must be refused."""

from __future__ import annotations

import json

import pytest

from integrations.systems.base import WebhookAction
from integrations.systems.catalog import Entity
from integrations.systems.errors import WebhookRejected
from integrations.systems.uniconta import provider
from integrations.systems.uniconta.webhooks import parse_change_notification

ACCEPTED = ["debtor_update_post.json", "debtor_insert_get.json", "contact_insert_post.json",
            "invitem_delete_post.json", "debtororder_update_post.json", "employee_update_get.json"]


def _parse(payload: dict, *, secret: str | None = None):
    body = json.dumps(payload["body"]).encode() if payload["body"] is not None else b""
    return provider.parse_webhook(body=body, headers=payload["headers"], query=payload["query"], secret=secret)


@pytest.mark.parametrize("name", ACCEPTED)
def test_saved_notifications_become_one_event_each(fixture_payload, name):
    payload = fixture_payload(name)
    [event] = _parse(payload)
    expected = payload["expected"]
    assert (event.entity, event.action, event.external_id) == (
        Entity(expected["entity"]), WebhookAction(expected["action"]), expected["external_id"])
    assert event.payload["RowId"] == int(payload["query"].get("RowId") or payload["query"]["rowid"])
    assert event.payload["record"] == payload["body"]


def test_a_table_synkro_does_not_sync_is_rejected(fixture_payload):
    with pytest.raises(WebhookRejected, match="Creditor"):
        _parse(fixture_payload("creditor_update_get.json"))


@pytest.mark.parametrize("change, message", [
    ({"Operation": "Rename"}, "Unknown Uniconta operation"),
    ({"RowId": "abc"}, "not a number"),
    ({"Table": ""}, "needs Table"),
    ({"RowId": ""}, "needs Table"),
])
def test_malformed_query_strings_are_rejected(fixture_payload, change, message):
    payload = fixture_payload("debtor_insert_get.json")
    payload["query"].update(change)
    with pytest.raises(WebhookRejected, match=message):
        _parse(payload)


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"Debtor"'])
def test_a_body_that_is_not_a_record_is_rejected(fixture_payload, body):
    query = fixture_payload("debtor_update_post.json")["query"]
    with pytest.raises(WebhookRejected):
        parse_change_notification(body=body, headers={}, query=query)


def test_a_keyed_table_without_key_takes_it_from_the_posted_record(fixture_payload):
    payload = fixture_payload("debtor_update_post.json")
    payload["query"]["Key"] = ""
    [event] = _parse(payload)
    assert event.external_id == "10001"


def test_a_keyed_table_without_any_key_is_rejected(fixture_payload):
    payload = fixture_payload("debtor_insert_get.json")
    payload["query"]["Key"] = ""
    with pytest.raises(WebhookRejected, match="no key"):
        _parse(payload)


def test_with_a_secret_the_argument_must_match(fixture_payload):
    payload = fixture_payload("debtororder_update_post.json")
    assert _parse(payload, secret="synkro")[0].external_id == "5"
    with pytest.raises(WebhookRejected) as refused:
        _parse(payload, secret="another")
    assert refused.value.status == 403
    del payload["query"]["Argument"]
    with pytest.raises(WebhookRejected):
        _parse(payload, secret="synkro")


def test_without_a_secret_nothing_is_verified_because_uniconta_signs_nothing(fixture_payload):
    assert provider.signs_webhooks is False
    assert _parse(fixture_payload("debtor_insert_get.json"))[0].action == WebhookAction.CREATED
