"""Registering and removing Synkro's hooks in webCRM: one per entity and event, whole Hook objects.

Every hook names its entity and event in its ``TargetUrl``, so a call that carries only the bare record
still says what happened.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from integrations.systems.catalog import Entity
from integrations.systems.webcrm import provider
from integrations.systems.webcrm.webhooks import hook_target

from ..contract import assert_request_matches, spec_source  # noqa: F401 - spec_source: digest and description
from .conftest import HOOKS_URL, add_organisation

SPEC = "webcrm-swagger.json"
URL = f"{HOOKS_URL}/hooks/webcrm/t0k3n/"
ENTITIES = [Entity.ORGANISATION, Entity.PERSON, Entity.DELIVERY, Entity.DELIVERY_LINE, Entity.USER]


def hooks(sandbox) -> list[dict]:
    with sandbox.lock:
        return [dict(hook) for table in sandbox.store.hooks.values() for hook in table.rows.values()]


def test_each_entity_and_event_gets_its_own_hook_with_every_required_field(client, sandbox, mounted):
    message = provider.register_webhooks(client=client, url=URL, entities=ENTITIES)

    made = hooks(sandbox)
    assert message == "webCRM: 15 hooks added"
    assert len(made) == len({hook["TargetUrl"] for hook in made}) == 15
    for hook in made:
        query = dict(parse_qsl(urlsplit(hook["TargetUrl"]).query))
        assert hook["TargetUrl"].startswith(URL) and query["event"] == hook["EventType"]
        assert hook["Filter"] == ["All"] and hook["IsEnabled"] is True
    for exchange in (e for e in mounted.exchanges if e.method == "POST" and e.path.endswith("/Hooks")):
        assert set(exchange.request_body) >= {"Id", "TargetUrl", "EventType", "Filter", "IsEnabled"}
        assert_request_matches(SPEC, exchange.path, "post", exchange.request_body)


def test_registering_again_keeps_what_is_in_place_and_replaces_the_single_url_form(client, sandbox):
    provider.register_webhooks(client=client, url=URL, entities=[Entity.ORGANISATION])
    with sandbox.lock:  # an older registration: one URL for every event, and one hook switched off
        sandbox.store.hook_create("Organisations", {"Id": 0, "TargetUrl": URL, "EventType": "Update",
                                                    "Filter": ["All"], "IsEnabled": True})
        update = next(h for h in sandbox.store.hooks["Organisations"].rows.values() if h["TargetUrl"] == hook_target(
            URL, Entity.ORGANISATION, "Update"))
        update["IsEnabled"] = False
        sandbox.store.hook_create("Organisations", {"Id": 0, "TargetUrl": "https://other.example/in",
                                                    "EventType": "Update", "Filter": ["All"], "IsEnabled": True})

    message = provider.register_webhooks(client=client, url=URL, entities=[Entity.ORGANISATION])

    assert message == "webCRM: 1 hook switched on, 1 hook removed"
    targets = sorted(hook["TargetUrl"] for hook in hooks(sandbox) if hook["IsEnabled"])
    assert targets == sorted([*(hook_target(URL, Entity.ORGANISATION, e) for e in ("Create", "Update", "Delete")),
                              "https://other.example/in"])
    assert provider.register_webhooks(client=client, url=URL, entities=[Entity.ORGANISATION]) == (
        "webCRM: every hook was in place")


def test_items_have_no_hooks_in_webcrm_and_registration_says_so(client, sandbox):
    message = provider.register_webhooks(client=client, url=URL, entities=[Entity.ITEM])
    assert "no hooks for its item register" in message
    assert hooks(sandbox) == []


def test_unregistering_removes_every_hook_of_the_url_and_no_other(client, sandbox):
    provider.register_webhooks(client=client, url=URL, entities=ENTITIES)
    with sandbox.lock:
        sandbox.store.hook_create("Persons", {"Id": 0, "TargetUrl": "https://other.example/in",
                                              "EventType": "Create", "Filter": ["All"], "IsEnabled": True})

    message = provider.extras["webhook_unregistrar"](client, URL)

    assert message == "webCRM: 15 hooks removed"
    assert [hook["TargetUrl"] for hook in hooks(sandbox)] == ["https://other.example/in"]


@pytest.mark.parametrize("shape", ["notice", "record", "notices", "records"])
def test_a_registered_hook_tells_create_update_and_delete_apart_whatever_the_body(client, sandbox, receiver, shape):
    provider.register_webhooks(client=client, url=URL, entities=[Entity.ORGANISATION])
    sandbox.hook_body = shape
    organisation = add_organisation(sandbox, "Nordlys Byg A/S")
    sandbox.notify("Organisations", "Create", organisation)
    sandbox.change_in_webcrm("Organisations", organisation["OrganisationId"], OrganisationCity="Aalborg")
    sandbox.delete_in_webcrm("Organisations", organisation["OrganisationId"])

    seen = []
    for call in receiver.calls:
        events = provider.parse_webhook(body=call["body"], headers={}, query=call["query"])
        seen.extend((e.entity, e.action, e.external_id) for e in events)
    record_id = str(organisation["OrganisationId"])
    assert seen == [("organisation", "created", record_id), ("organisation", "updated", record_id),
                    ("organisation", "deleted", record_id)]
