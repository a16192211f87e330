"""Replaying saved Customers 1st REST hook bodies through the parser, signed and unsigned."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest

from integrations.systems.base import WebhookAction
from integrations.systems.catalog import Entity
from integrations.systems.customers1st import provider
from integrations.systems.customers1st.webhooks import SIGNATURE_HEADER, parse_webhook
from integrations.systems.errors import WebhookRejected

FIXTURES = Path(__file__).parent / "fixtures"
#: The example secret of the vendor's own validation snippet.
SECRET = "resthook_super_secret_1337"


def body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signature(raw: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


@pytest.mark.parametrize(("fixture", "entity", "action", "external_id"), [
    ("customer_created.json", Entity.ORGANISATION, WebhookAction.CREATED, "1841"),
    ("customer_deleted.json", Entity.ORGANISATION, WebhookAction.DELETED, "1841"),
    ("product_updated.json", Entity.ITEM, WebhookAction.UPDATED, "7987676"),
    ("pospayment_created.json", Entity.POS_SALE, WebhookAction.CREATED, "16593923"),
])
def test_a_signed_hook_says_what_changed(fixture, entity, action, external_id):
    raw = body(fixture)
    [event] = provider.parse_webhook(body=raw, headers={SIGNATURE_HEADER: signature(raw)}, query={}, secret=SECRET)
    assert (event.entity, event.action, event.external_id) == (entity, action, external_id)
    assert event.payload is not None and event.payload["resthookid"] > 0


def test_the_signature_header_is_found_whatever_its_case():
    raw = body("customer_created.json")
    events = parse_webhook(body=raw, headers={"x-c1st-webhook-signature": signature(raw)}, query={}, secret=SECRET)
    assert events[0].external_id == "1841"


def test_without_a_secret_the_signature_is_not_checked():
    assert parse_webhook(body=body("product_updated.json"), headers={}, query={})[0].entity == Entity.ITEM


@pytest.mark.parametrize("headers", [
    {},
    {SIGNATURE_HEADER: ""},
    {SIGNATURE_HEADER: "bm90IHRoZSBzaWduYXR1cmU="},
])
def test_a_missing_or_wrong_signature_is_rejected(headers):
    with pytest.raises(WebhookRejected) as caught:
        parse_webhook(body=body("customer_created.json"), headers=headers, query={}, secret=SECRET)
    assert caught.value.status == 401


def test_a_body_changed_after_signing_is_rejected():
    raw = body("customer_created.json")
    tampered = raw.replace(b'"id":1841', b'"id":1842')
    with pytest.raises(WebhookRejected):
        parse_webhook(body=tampered, headers={SIGNATURE_HEADER: signature(raw)}, query={}, secret=SECRET)


def test_signed_with_another_secret_is_rejected():
    raw = body("customer_created.json")
    with pytest.raises(WebhookRejected):
        parse_webhook(body=raw, headers={SIGNATURE_HEADER: signature(raw, "other")}, query={}, secret=SECRET)


@pytest.mark.parametrize("raw", [
    b"", b"not json", b"[1, 2]", b'"customer.created"',
    b'{"event": "customer.created"}',
    b'{"event": "customer.created", "content": {"name": "no id"}}',
    b'{"event": "customer.merged", "content": {"id": 1}}',
    b'{"event": "giftcard.created", "content": {"id": 1}}',
    b'{"content": {"id": 1}}',
])
def test_malformed_or_unknown_hooks_are_rejected(raw):
    with pytest.raises(WebhookRejected):
        parse_webhook(body=raw, headers={SIGNATURE_HEADER: signature(raw)}, query={}, secret=SECRET)


def test_an_event_we_do_not_sync_is_rejected():
    raw = body("salesorder_created.json")
    with pytest.raises(WebhookRejected, match=r"salesorder\.created"):
        parse_webhook(body=raw, headers={SIGNATURE_HEADER: signature(raw)}, query={}, secret=SECRET)
