"""Fortnox WebSocket events, replayed from saved payloads, and the sandbox's feed parsed back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integrations.systems.base import WebhookAction
from integrations.systems.catalog import Entity
from integrations.systems.errors import WebhookRejected
from integrations.systems.fortnox import provider
from integrations.systems.fortnox.webhooks import parse_topic_event

FIXTURES = Path(__file__).parent / "fixtures"


def replay(name: str, *, tenant: str | None = None):
    return parse_topic_event(body=(FIXTURES / name).read_bytes(), headers={}, query={}, secret=tenant)


@pytest.mark.parametrize(("fixture", "entity", "action", "external_id"), [
    ("customer_updated.json", Entity.ORGANISATION, WebhookAction.UPDATED, "1042"),
    ("article_created.json", Entity.ITEM, WebhookAction.CREATED, "A-100"),
    ("order_deleted.json", Entity.DELIVERY, WebhookAction.DELETED, "77"),
    ("invoice_bookkeep.json", Entity.INVOICE, WebhookAction.UPDATED, "3817"),
])
def test_saved_events_become_synkro_events(fixture, entity, action, external_id):
    (event,) = replay(fixture, tenant="29302")

    assert (event.entity, event.action, event.external_id) == (entity, action, external_id)
    assert event.payload == json.loads((FIXTURES / fixture).read_text())


def test_a_batch_of_events_is_parsed_in_order():
    events = replay("batch.json")

    assert [(e.entity, e.action, e.external_id) for e in events] == [
        (Entity.ORGANISATION, WebhookAction.CREATED, "1043"), (Entity.INVOICE, WebhookAction.UPDATED, "3818")]


@pytest.mark.parametrize(("fixture", "reason"), [
    ("invoicepayment_bookkeep.json", "event type"),  # a payment's id, not an invoice's
    ("supplier_updated.json", "not synced"),
    ("missing_entity_id.json", "entityId"),
])
def test_unknown_or_incomplete_events_are_rejected(fixture, reason):
    with pytest.raises(WebhookRejected, match=reason):
        replay(fixture)


def test_another_tenants_event_is_rejected():
    with pytest.raises(WebhookRejected) as caught:
        replay("customer_updated.json", tenant="1")

    assert caught.value.status == 403


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'"customers"', b"[1]"])
def test_malformed_bodies_are_rejected(body):
    with pytest.raises(WebhookRejected):
        parse_topic_event(body=body, headers={}, query={})


def test_fortnox_is_polled_so_the_provider_takes_no_http_webhooks():
    assert provider.has_webhooks is False
    assert provider.webhook_parser is None
    assert provider.extras["event_parser"] is parse_topic_event
    with pytest.raises(NotImplementedError):
        provider.parse_webhook(body=b"{}", headers={}, query={})


def test_the_sandbox_feed_parses_back_to_the_changed_records(mounted, client):
    created = client.create_record(Entity.ORGANISATION, {"Name": "Flöde AB"})
    client.update_record(Entity.ORGANISATION, created["CustomerNumber"], {"City": "Visby"})

    body = json.dumps(mounted.events("customers")).encode()
    events = parse_topic_event(body=body, secret=str(mounted.company.tenant_id))

    assert [(e.action, e.external_id) for e in events] == [
        (WebhookAction.CREATED, created["CustomerNumber"]), (WebhookAction.UPDATED, created["CustomerNumber"])]
