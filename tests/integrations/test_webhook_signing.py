"""Signed webhooks: every system that signs its notices has each one verified before anything is stored.

Visma.net signs with ``x-vwd-signature-v1`` (base64 HMAC-SHA256 of the body with the subscription's signature key),
Customers 1st with ``X-C1st-Webhook-Signature`` (the same construction with the store's signing secret). A valid
notice is stored; an unsigned one, a wrongly signed one, or one for a connection without a secret gets a 401 and
leaves nothing. webCRM and Uniconta sign nothing (their notices carry no signature to check).
"""

from __future__ import annotations

import json

import pytest

from integrations.models import Connection, InboundEvent
from integrations.services import integration_webhooks_register
from integrations.systems.catalog import Entity
from integrations.systems.customers1st.webhooks import SIGNING_SECRET_CONFIG, ensure_signing_secret
from integrations.systems.customers1st.webhooks import sign as c1st_signature
from integrations.systems.registry import get_system
from integrations.systems.vismanet.webhooks import signature as visma_signature
from mappings.models import WebhookToggle
from tests.factories import ConnectionFactory, IntegrationFactory
from tests.harness import drain, make_pair

SECRET = "the-shared-signing-secret"
HEADERS = {"vismanet": "HTTP_X_VWD_SIGNATURE_V1", "customers1st": "HTTP_X_C1ST_WEBHOOK_SIGNATURE"}
SIGNERS = {"vismanet": visma_signature, "customers1st": c1st_signature}


def _notice(system: str) -> bytes:
    if system == "vismanet":
        return json.dumps({"tenantId": "t", "event": "CustomerChanged", "entityId": "10042"}).encode()
    return json.dumps({"event": "customer.updated", "content": {"id": 1042, "name": "Nordlys"}}).encode()


def _hook_url(world, system: str, credentials: dict[str, str]) -> str:
    connection = ConnectionFactory(tenant=world.tenant, system=system, credentials=credentials)
    side = {"erp_connection": connection} if system == "vismanet" else {"crm_connection": connection}
    integration = IntegrationFactory(tenant=world.tenant, **side)
    WebhookToggle.objects.update_or_create(
        tenant=world.tenant, integration=integration, system=system, entity="organisation", action="updated",
        defaults={"enabled": True})
    return f"/hooks/{system}/{integration.webhook_token}/"


def _post(client, url: str, body: bytes, **headers):
    return client.post(url, data=body, content_type="application/json", secure=True, **headers)


@pytest.mark.parametrize("system", ["vismanet", "customers1st"])
def test_a_correctly_signed_notice_is_stored(client, world, system):
    url = _hook_url(world, system, {"signing_secret": SECRET})
    body = _notice(system)
    response = _post(client, url, body, **{HEADERS[system]: SIGNERS[system](body, SECRET)})
    assert response.status_code == 200, response.content
    assert InboundEvent.objects.filter(system=system).count() == 1


@pytest.mark.parametrize("system", ["vismanet", "customers1st"])
def test_an_unsigned_notice_is_401_and_stores_nothing(client, world, system):
    url = _hook_url(world, system, {"signing_secret": SECRET})
    response = _post(client, url, _notice(system))
    assert response.status_code == 401
    assert "signature" in response.json()["error"].lower() or "Missing" in response.json()["error"]
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("system", ["vismanet", "customers1st"])
def test_a_wrongly_signed_notice_is_401_and_stores_nothing(client, world, system):
    url = _hook_url(world, system, {"signing_secret": SECRET})
    body = _notice(system)
    forged = SIGNERS[system](body, "someone-elses-secret")
    tampered = SIGNERS[system](body, SECRET)
    assert _post(client, url, body, **{HEADERS[system]: forged}).status_code == 401
    changed = body[:-1] + b', "extra": 1}'  # the body changed after signing
    assert _post(client, url, changed, **{HEADERS[system]: tampered}).status_code == 401
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("system", ["vismanet", "customers1st"])
def test_without_a_secret_on_the_connection_even_a_signed_notice_is_refused(client, world, system):
    url = _hook_url(world, system, {})
    body = _notice(system)
    response = _post(client, url, body, **{HEADERS[system]: SIGNERS[system](body, SECRET)})
    assert response.status_code == 401
    assert "no webhook signing secret" in response.json()["error"]
    assert not InboundEvent.objects.exists()


def test_only_the_systems_that_sign_are_held_to_a_signature():
    signing = {key for key in ("webcrm", "uniconta", "fortnox", "vismanet", "customers1st")
               if get_system(key).signs_webhooks}
    assert signing == {"vismanet", "customers1st"}
    for key in signing:  # where the secret is kept: a secret credential, never shown back
        field = next(f for f in get_system(key).credential_fields if f.name == "signing_secret")
        assert field.secret


# -- the secret is set up when Synkro registers its hooks ---------------------------------------------------
def test_registering_with_visma_sets_up_a_signature_key_and_its_notices_pass(db, synkro, sandboxes):
    pair = make_pair("webcrm", "vismanet", sandboxes)
    connection = pair.integration.erp_connection
    assert not connection.credentials.get("signing_secret")
    integration_webhooks_register(integration=pair.integration)
    secret = Connection.objects.get(pk=connection.pk).credentials["signing_secret"]
    assert len(secret) >= 32
    assert {s.secret for s in pair.erp.subscriptions.values()} == {secret}
    pair.erp_client.create_record(Entity.ORGANISATION, {"name": "Signert Kunde AS"})
    assert [d.status for d in pair.erp.webhooks] == [200]
    drain()


def test_registering_again_keeps_the_key_and_the_subscription(db, synkro, sandboxes):
    pair = make_pair("webcrm", "vismanet", sandboxes)
    integration_webhooks_register(integration=pair.integration)
    first = Connection.objects.get(pk=pair.integration.erp_connection.pk).credentials["signing_secret"]
    subscriptions = set(pair.erp.subscriptions)
    pair.integration.erp_connection.refresh_from_db()
    integration_webhooks_register(integration=pair.integration)
    assert Connection.objects.get(pk=pair.integration.erp_connection.pk).credentials["signing_secret"] == first
    assert set(pair.erp.subscriptions) == subscriptions


def test_a_visma_notice_signed_with_another_key_is_refused_end_to_end(db, synkro, sandboxes):
    pair = make_pair("webcrm", "vismanet", sandboxes)
    integration_webhooks_register(integration=pair.integration)
    for subscription in pair.erp.subscriptions.values():
        subscription.secret = "not-the-connections-key"
    pair.erp_client.create_record(Entity.ORGANISATION, {"name": "Falsk Kunde AS"})
    assert [d.status for d in pair.erp.webhooks] == [401]
    assert not InboundEvent.objects.filter(system="vismanet").exists()


def test_customers1st_registration_adopts_the_stores_secret_and_changes_nothing_there(db, synkro, sandboxes):
    pair = make_pair("customers1st", "uniconta", sandboxes)
    connection = pair.integration.crm_connection
    connection.credentials = {k: v for k, v in connection.credentials.items() if k != "signing_secret"}
    connection.save()
    store_secret = pair.crm.signing_secret
    integration_webhooks_register(integration=pair.integration)
    assert Connection.objects.get(pk=connection.pk).credentials["signing_secret"] == store_secret
    assert pair.crm.signing_secret == store_secret
    assert not [r for r in pair.crm.requests if r.method == "PUT" and "configs" in r.path]


def test_customers1st_registration_sets_a_secret_on_a_store_without_one(db, synkro, sandboxes):
    pair = make_pair("customers1st", "uniconta", sandboxes)
    pair.crm.signing_secret = ""
    client = get_system("customers1st").client(base_url="https://c1st.test", credentials={"api_token": "x"})
    client.credentials = dict(pair.crm_client.credentials, signing_secret="")
    kept: list[dict[str, str]] = []
    client.credentials_changed = kept.append
    secret = ensure_signing_secret(client)
    assert len(secret) >= 32 and pair.crm.signing_secret == secret
    assert kept[-1]["signing_secret"] == secret
    assert client.store_configs()[SIGNING_SECRET_CONFIG] == secret
