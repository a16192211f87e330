"""Hostile webhook bodies: each is answered 4xx with a plain reason and leaves nothing stored.

Every call goes through the real endpoint and each system's own parser. Each hostile call has a
well-formed twin that is stored, so a refusal is the hostile part's doing, not the fixture's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from integrations.engine.intake import MAX_PAYLOAD_DEPTH, webhook_events_check
from integrations.models import InboundEvent, Integration, WebhookStat
from integrations.systems.base import WebhookAction, WebhookEvent
from integrations.systems.catalog import Entity
from integrations.systems.customers1st.webhooks import sign as c1st_signature
from integrations.systems.errors import WebhookRejected
from integrations.systems.vismanet.webhooks import signature as visma_signature
from mappings.models import WebhookToggle
from tests.factories import ConnectionFactory, IntegrationFactory

LONG_ID = "9" * 5000
#: The systems that sign their notices, and the secret each test connection checks them with.
SIGNING_SECRETS = {"vismanet": "visma-signature-key", "customers1st": "c1st-signing-secret"}
DEEP = 100_000


@dataclass
class Hook:
    """One system's webhook URL of an integration, and how that system words an organisation notice."""

    integration: Integration
    system: str

    def url(self, query: str = "") -> str:
        return f"/hooks/{self.system}/{self.integration.webhook_token}/{query}"


@pytest.fixture
def hooks(world) -> dict[str, Hook]:
    """A hook per system that takes HTTP webhooks, each with organisation updates switched on."""
    visma = IntegrationFactory(tenant=world.tenant, erp_connection=ConnectionFactory(
        tenant=world.tenant, system="vismanet",
        credentials={"client_id": "c", "client_secret": "s", "signing_secret": SIGNING_SECRETS["vismanet"]}))
    pos = IntegrationFactory(tenant=world.tenant, crm_connection=ConnectionFactory(
        tenant=world.tenant, system="customers1st",
        credentials={"api_key": "k", "signing_secret": SIGNING_SECRETS["customers1st"]}))
    found = {"webcrm": Hook(world.integration, "webcrm"), "uniconta": Hook(world.integration, "uniconta"),
             "vismanet": Hook(visma, "vismanet"), "customers1st": Hook(pos, "customers1st")}
    for hook in found.values():
        WebhookToggle.objects.update_or_create(
            tenant=world.tenant, integration=hook.integration, system=hook.system, entity="organisation",
            action="updated", defaults={"enabled": True})
    return found


def organisation_notice(system: str, record_id, name="Nordlys Handel A/S") -> tuple[object, str]:
    """A notice of an updated organisation as ``system`` sends it: (JSON body, query string)."""
    if system == "webcrm":
        return {"EventType": "Update", "EntityType": "Organisation", "EntityId": record_id,
                "Data": {"OrganisationId": record_id, "OrganisationName": name}}, ""
    if system == "uniconta":
        return {"Account": record_id, "Name": name}, f"?Table=Debtor&RowId=7&Key={record_id}&Operation=Update"
    if system == "vismanet":
        return {"event": "CustomerChanged", "entityId": record_id, "name": name}, ""
    return {"event": "customer.updated", "content": {"id": record_id, "name": name}}, ""


def send(client, hook: Hook, body, query: str = "", **extra):
    """Post ``body`` to the hook, signed the way its system signs (so only the hostile part can be refused)."""
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    raw = data.encode() if isinstance(data, str) else data
    if hook.system == "vismanet":
        extra.setdefault("HTTP_X_VWD_SIGNATURE_V1", visma_signature(raw, SIGNING_SECRETS["vismanet"]))
    if hook.system == "customers1st":
        extra.setdefault("HTTP_X_C1ST_WEBHOOK_SIGNATURE", c1st_signature(raw, SIGNING_SECRETS["customers1st"]))
    return client.post(hook.url(query), data=data, content_type="application/json", secure=True, **extra)


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


SYSTEMS = ["webcrm", "uniconta", "vismanet", "customers1st"]


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_well_formed_notice_of_every_system_is_stored(client, hooks, system):
    body, query = organisation_notice(system, "1042" if system != "customers1st" else 1042,
                                      name="Nordlys\tHandel\nA/S")
    response = send(client, hooks[system], body, query)
    assert response.status_code == 200, response.content
    assert InboundEvent.objects.get().external_id == "1042"


@pytest.mark.parametrize("system", SYSTEMS)
def test_json_nested_beyond_the_stack_is_400_and_stores_nothing(client, hooks, system):
    query = organisation_notice(system, "1042")[1]
    response = send(client, hooks[system], "[" * DEEP + "]" * DEEP, query)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_notice_nested_deeper_than_the_bound_is_400_and_stores_nothing(client, hooks, system):
    body, query = organisation_notice(system, "1042" if system != "customers1st" else 1042)
    text = json.dumps(body)
    hostile = text[:-1] + f', "extra": {nested(MAX_PAYLOAD_DEPTH + 5)}' + "}"
    response = send(client, hooks[system], hostile, query)
    assert response.status_code == 400
    assert "levels deep" in response.json()["error"]
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_nul_in_the_text_of_a_notice_is_400_and_stores_nothing(client, hooks, system):
    body, query = organisation_notice(system, "1042" if system != "customers1st" else 1042,
                                      name="Nordlys\u0000Handel")
    response = send(client, hooks[system], body, query)
    assert response.status_code == 400
    assert "control character" in response.json()["error"]
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_five_thousand_digit_id_is_400_and_stores_nothing(client, hooks, system):
    body, query = organisation_notice(system, LONG_ID)
    response = send(client, hooks[system], body, query)
    assert response.status_code == 400
    assert not InboundEvent.objects.exists()
    stat = WebhookStat.objects.get(integration=hooks[system].integration, system=system, entity="")
    assert len(stat.last_error) <= 1000 and LONG_ID not in stat.last_error


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_control_character_in_an_id_is_400_and_stores_nothing(client, hooks, system):
    body, query = organisation_notice(system, "10\u000142")
    response = send(client, hooks[system], body, query.replace("\u0001", "%01"))
    assert response.status_code == 400
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("record_id", ["١٠٤٢", "１０４２", "10²", "-5", "0", "2147483648", 4.5, True])
def test_webcrm_ids_are_ascii_digits_within_int32(client, hooks, record_id):
    body, _ = organisation_notice("webcrm", record_id)
    response = send(client, hooks["webcrm"], body)
    assert response.status_code == 400
    assert "webCRM ids are numbers" in response.json()["error"]
    assert not InboundEvent.objects.exists()


def test_a_webcrm_line_naming_a_hostile_delivery_id_is_refused_whole(client, hooks):
    body = {"EventType": "Update", "EntityType": "QuotationLine", "EntityId": 5,
            "Data": {"QuotationLineId": 5, "QuotationLineOpportunityId": "٣"}}
    WebhookToggle.objects.update_or_create(tenant=hooks["webcrm"].integration.tenant,
                                           integration=hooks["webcrm"].integration, system="webcrm",
                                           entity="delivery_line", action="updated", defaults={"enabled": True})
    assert send(client, hooks["webcrm"], body).status_code == 400
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("query", [
    "?Table=Debtor&RowId=%D9%A7&Key=1042&Operation=Update",      # an Arabic-Indic seven
    "?Table=Debtor&RowId=99999999999&Key=1042&Operation=Update",  # beyond a C# int
    "?Table=Debtor&RowId=7&Key=%00&Operation=Update",
    f"?Table=Debtor&RowId=7&Key={'A' * 21}&Operation=Update",     # Account holds 20
    "?Table=DebtorOrder&RowId=7&Key=12x&Operation=Update",         # OrderNumber is a number
])
def test_uniconta_row_ids_and_keys_have_the_tables_shape(client, hooks, query):
    assert send(client, hooks["uniconta"], {"Name": "Nordlys"}, query).status_code == 400
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("record_id", ["abc", "", "١", True, 0])
def test_customers1st_ids_are_whole_numbers(client, hooks, record_id):
    body, _ = organisation_notice("customers1st", record_id)
    assert send(client, hooks["customers1st"], body).status_code == 400
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("system", ["webcrm", "vismanet"])
def test_twelve_thousand_notices_in_one_call_are_413_and_store_nothing(client, hooks, system, settings):
    settings.WEBHOOK_MAX_BYTES = 10 * 1024 * 1024
    notices = [organisation_notice(system, str(n))[0] for n in range(1, 12_001)]
    response = send(client, hooks[system], notices)
    assert response.status_code == 413
    assert "at most 1000" in response.json()["error"]
    assert not InboundEvent.objects.exists()
    assert not WebhookStat.objects.filter(integration=hooks[system].integration, received__gt=0).exists()


def test_the_cap_on_notices_is_a_setting(client, hooks, settings):
    settings.WEBHOOK_MAX_NOTICES = 2
    two = [organisation_notice("webcrm", str(n))[0] for n in (1, 2)]
    assert send(client, hooks["webcrm"], two).status_code == 200
    assert send(client, hooks["webcrm"], [*two, organisation_notice("webcrm", "3")[0]]).status_code == 413
    assert InboundEvent.objects.count() == 2


def test_a_garbled_content_length_is_a_plain_400_not_a_crash(client, hooks):
    body, _ = organisation_notice("webcrm", "1042")
    response = send(client, hooks["webcrm"], body, CONTENT_LENGTH="many")
    assert response.status_code == 400
    assert not InboundEvent.objects.exists()


def event(external_id="1042", payload=None) -> WebhookEvent:
    return WebhookEvent(entity=Entity.ORGANISATION, action=WebhookAction.UPDATED, external_id=external_id,
                        payload=payload)


@pytest.mark.parametrize("external_id", ["", "  ", "1" * 121, "10\x0042", "10\n42", "10\x8542"])
def test_ids_no_event_can_hold_are_refused(external_id):
    with pytest.raises(WebhookRejected) as refused:
        webhook_events_check(events=[event(external_id)])
    assert refused.value.status == 400


@pytest.mark.parametrize("payload", [{"k\x00": 1}, {"a": ["ok", "b\x1bc"]}, {"a": "\x7f"}])
def test_control_characters_in_keys_or_text_are_refused(payload):
    with pytest.raises(WebhookRejected, match="control character"):
        webhook_events_check(events=[event(payload=payload)])


def test_text_with_tabs_and_line_breaks_and_a_body_at_the_bound_pass():
    at_bound = json.loads(nested(MAX_PAYLOAD_DEPTH - 1))
    webhook_events_check(events=[event("A-1042 ÆØÅ", {"memo": "line one\r\nline\ttwo", "deep": at_bound})])
    with pytest.raises(WebhookRejected, match="levels deep"):
        webhook_events_check(events=[event(payload={"deep": json.loads(nested(MAX_PAYLOAD_DEPTH))})])
