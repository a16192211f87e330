"""Replaying saved Visma.net webhook bodies through the parser, signed and tampered with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integrations.systems.base import WebhookAction
from integrations.systems.catalog import Entity
from integrations.systems.errors import WebhookRejected
from integrations.systems.vismanet import provider
from integrations.systems.vismanet.webhooks import SIGNATURE_HEADER, signature

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "whsec-portal-generated"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(body: bytes, headers: dict[str, str] | None = None, secret: str | None = None):
    return provider.parse_webhook(body=body, headers=headers or {}, query={}, secret=secret)


def signed(body: bytes) -> dict[str, str]:
    return {SIGNATURE_HEADER: signature(body, SECRET), "x-vwd-tenant-id": "demo-tenant"}


@pytest.mark.parametrize(("name", "entity", "action", "external_id"), [
    ("customer_created.json", Entity.ORGANISATION, WebhookAction.CREATED, "10221"),
    ("customer_updated.json", Entity.ORGANISATION, WebhookAction.UPDATED, "10001"),
    ("inventory_item_created.json", Entity.ITEM, WebhookAction.CREATED, "1121"),
    ("sales_order_changed.json", Entity.DELIVERY, WebhookAction.UPDATED, "000151"),
    ("ar_invoice_status_changed.json", Entity.INVOICE, WebhookAction.UPDATED, "100201"),
    ("employee_changed.json", Entity.USER, WebhookAction.UPDATED, "003"),
])
def test_saved_notifications_become_events(name, entity, action, external_id):
    body = fixture(name)
    [event] = parse(body, signed(body), secret=SECRET)
    assert (event.entity, event.action, event.external_id) == (entity, action, external_id)
    assert event.payload == json.loads(body)


def test_a_batch_gives_one_event_per_notification():
    body = fixture("batch.json")
    events = parse(body, signed(body), secret=SECRET)
    assert [(e.entity, e.external_id) for e in events] == [(Entity.ORGANISATION, "10002"), (Entity.ITEM, "1001")]


def test_header_names_are_case_insensitive():
    body = fixture("customer_updated.json")
    headers = {SIGNATURE_HEADER.upper(): signature(body, SECRET)}
    assert parse(body, headers, secret=SECRET)[0].external_id == "10001"


def test_without_a_secret_the_signature_is_not_needed():
    assert parse(fixture("customer_updated.json"))[0].entity == Entity.ORGANISATION


def test_a_tampered_body_is_rejected():
    body = fixture("customer_updated.json")
    headers = signed(body)
    with pytest.raises(WebhookRejected) as caught:
        parse(body.replace(b"10001", b"10002"), headers, secret=SECRET)
    assert caught.value.status == 401


def test_a_missing_signature_is_rejected():
    with pytest.raises(WebhookRejected, match=SIGNATURE_HEADER):
        parse(fixture("customer_updated.json"), {}, secret=SECRET)


def test_a_signature_made_with_another_secret_is_rejected():
    body = fixture("customer_updated.json")
    with pytest.raises(WebhookRejected):
        parse(body, {SIGNATURE_HEADER: signature(body, "other")}, secret=SECRET)


def test_an_unknown_event_is_rejected():
    with pytest.raises(WebhookRejected, match="SupplierChanged"):
        parse(fixture("supplier_changed.json"))


@pytest.mark.parametrize("body", [
    b"not json", b"", b"[]", b"42", b'"CustomerUpdated"', b'{"entityId": "1"}', b'{"event": "", "entityId": "1"}',
    b'{"event": "CustomerUpdated"}', b'{"event": "CustomerUpdated", "entityId": ""}',
    b'{"event": "CustomerUpdated", "entityId": {"id": 1}}', b'[{"event": "CustomerUpdated", "entityId": "1"}, 7]',
])
def test_malformed_bodies_are_rejected(body):
    with pytest.raises(WebhookRejected) as caught:
        parse(body)
    assert caught.value.status == 400
