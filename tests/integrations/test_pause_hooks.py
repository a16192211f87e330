"""A paused integration is quiet: its webhooks are taken down at the vendors, and put up again when switched on."""

from __future__ import annotations

import pytest

from integrations import tasks
from integrations.engine.stream_intake import stream_subscriptions
from integrations.models import InboundEvent, Integration, WebhookStat
from integrations.services import (
    HOOKS_REMOVE,
    integration_activate,
    integration_pause,
    integration_webhooks_register,
    integration_webhooks_remove,
)
from integrations.systems.catalog import Entity
from mappings.models import ConfigChange
from tests.factories import UserFactory
from tests.harness import make_pair

ORG = Entity.ORGANISATION
PAIRS = [("webcrm", "uniconta"), ("webcrm", "vismanet"), ("customers1st", "uniconta")]


def _change_in_each_system(pair) -> None:
    """A person changes a customer in each system, as its user would."""
    if pair.integration.crm_connection.system == "webcrm":
        pair.crm_client.create_record(ORG, {"OrganisationName": "Kystens Handel A/S", "OrganisationType": "Kunde"})
    else:  # at the till: Synkro's own writes to Customers 1st raise no hooks (X-Suppress-Hooks)
        pair.crm.add_customer({"name": "Kystens Handel A/S", "email": "post@kystens.dk"})
    if pair.integration.erp_connection.system == "uniconta":
        pair.erp_client.create_record(ORG, {"Name": "Bøgely Blomster ApS"})
    else:
        pair.erp_client.create_record(ORG, {"name": "Bøgely Blomster ApS"})


def _notices_received() -> int:
    """Notices that reached Synkro: stored, or answered and dropped because the integration is paused."""
    dropped = sum(WebhookStat.objects.values_list("dropped_while_paused", flat=True))
    return InboundEvent.objects.count() + dropped


@pytest.mark.django_db
@pytest.mark.parametrize(("front", "erp"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_pausing_removes_the_webhooks_and_switching_on_brings_them_back(front, erp, synkro, sandboxes):
    pair = make_pair(front, erp, sandboxes)
    assert all(r.ok for r in integration_webhooks_register(integration=pair.integration))
    admin = UserFactory(username="anna-admin")

    integration_pause(integration=pair.integration, user=admin)
    assert tasks.hooks_follow_task(pair.integration.pk) == 0
    _change_in_each_system(pair)
    assert _notices_received() == 0  # the vendors no longer call the paused integration at all
    assert Integration.objects.get(pk=pair.integration.pk).hooks_owed == ""

    integration_activate(integration=pair.integration, user=admin)
    assert tasks.hooks_follow_task(pair.integration.pk) == 0
    _change_in_each_system(pair)
    systems = set(InboundEvent.objects.values_list("system", flat=True))
    assert systems == {front, erp}
    paused, activated = ConfigChange.objects.filter(action__in=["paused", "activated"]).order_by("at", "pk")
    assert (paused.action, paused.user, paused.subject) == ("paused", admin, pair.integration.name)
    assert (activated.action, activated.user) == ("activated", admin)


@pytest.mark.django_db
def test_the_webhooks_of_another_integration_on_the_same_account_stay(synkro, sandboxes):
    from integrations.systems.webcrm.webhooks import HOOK_RESOURCES, _hooks

    first = make_pair("webcrm", "uniconta", sandboxes)
    second = Integration.objects.create(tenant=first.integration.tenant, name="webCRM ↔ Uniconta (2)",
                                        crm_connection=first.integration.crm_connection,
                                        erp_connection=first.integration.erp_connection, active=False)
    from mappings.defaults import integration_setup_defaults

    integration_setup_defaults(integration=second)
    integration_webhooks_register(integration=first.integration)
    integration_pause(integration=first.integration)
    tasks.hooks_follow_task(first.integration.pk)
    path = HOOK_RESOURCES[ORG][0]
    assert [h for h in _hooks(first.crm_client, path) if first.integration.webhook_token in h["TargetUrl"]] == []
    integration_activate(integration=second)
    tasks.hooks_follow_task(second.pk)
    assert len([h for h in _hooks(first.crm_client, path) if second.webhook_token in h["TargetUrl"]]) == 3


@pytest.mark.django_db
def test_a_vendor_out_of_reach_does_not_block_the_pause_and_the_removal_is_retried(synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    integration_webhooks_register(integration=pair.integration)
    pair.crm.knobs.error_rate = 1.0  # webCRM answers every request with a 5xx

    integration_pause(integration=pair.integration)
    assert tasks.hooks_follow_task(pair.integration.pk) == 1
    integration = Integration.objects.get(pk=pair.integration.pk)
    assert not integration.active and integration.hooks_owed == HOOKS_REMOVE
    assert "webCRM could not be reached" in integration.hooks_error
    noted = ConfigChange.objects.get(action="noted")
    assert noted.subject.startswith("Webhooks could not be removed at webCRM;")
    assert "tries again" in noted.subject
    # Uniconta, reachable, let go of its change URL at once.
    assert [r for r in pair.erp_client.query_rows("TableChangeEventClient")
            if r.get("Url") == pair.integration.webhook_url("uniconta")] == []

    assert tasks.hooks_owed_task() == 1  # still out of reach: owed, and not audited a second time
    assert ConfigChange.objects.filter(action="noted").count() == 1

    pair.crm.knobs.error_rate = 0.0
    assert tasks.hooks_owed_task() == 0
    integration.refresh_from_db()
    assert (integration.hooks_owed, integration.hooks_error) == ("", "")
    assert ConfigChange.objects.filter(action="noted", subject="Webhooks removed at the vendors after all").exists()
    pair.crm_client.create_record(ORG, {"OrganisationName": "Kystens Handel A/S", "OrganisationType": "Kunde"})
    assert _notices_received() == 0


@pytest.mark.django_db
def test_notices_that_still_arrive_while_paused_are_acknowledged_and_counted(synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    pair.webcrm_hooks("Organisations")  # put up by hand in webCRM: Synkro cannot know of them
    integration_pause(integration=pair.integration)
    pair.crm_client.create_record(ORG, {"OrganisationName": "Kystens Handel A/S", "OrganisationType": "Kunde"})
    assert InboundEvent.objects.count() == 0
    assert WebhookStat.objects.get(system="webcrm", entity="").dropped_while_paused == 1


@pytest.mark.django_db
def test_a_paused_integration_registers_nothing(synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    integration_pause(integration=pair.integration)
    results = integration_webhooks_register(integration=pair.integration)
    assert all(not r.ok and "paused" in r.message for r in results)
    assert list(pair.erp_client.query_rows("TableChangeEventClient")) == []


@pytest.mark.django_db
def test_the_fortnox_stream_is_not_read_for_a_paused_integration(synkro, sandboxes):
    pair = make_pair("webcrm", "fortnox", sandboxes)
    pair.integration.entity_syncs.filter(entity=ORG).update(direction="two_way")

    def stream_url_for(connection):
        return "ws://fortnox.test/stream"

    assert [s.key for s in stream_subscriptions(stream_url_for=stream_url_for)] == [pair.integration.erp_connection_id]
    integration_pause(integration=pair.integration)
    assert stream_subscriptions(stream_url_for=stream_url_for) == []
    fortnox = {r.system: r for r in integration_webhooks_remove(integration=pair.integration)}["fortnox"]
    assert fortnox.ok and not fortnox.retry and "stops reading its changes" in fortnox.message


@pytest.mark.django_db
def test_saving_an_integration_unchanged_records_no_switch(synkro, sandboxes):
    pair = make_pair("webcrm", "uniconta", sandboxes)
    integration_activate(integration=pair.integration)  # already on
    assert not ConfigChange.objects.filter(action__in=["activated", "paused"]).exists()
    assert Integration.objects.get(pk=pair.integration.pk).hooks_owed == ""


@pytest.mark.django_db
def test_webhooks_only_a_person_can_remove_are_noted_once_with_how(synkro, sandboxes, monkeypatch):
    from integrations.systems.registry import get_system

    def portal_only(client, url, entities=None):  # as against Visma itself, which has no API for it
        raise NotImplementedError("Visma.net webhooks are removed in Visma's Developer Portal.")

    monkeypatch.setitem(get_system("vismanet").extras, "webhook_unregistrar", portal_only)
    pair = make_pair("webcrm", "vismanet", sandboxes)
    integration_pause(integration=pair.integration)
    assert tasks.hooks_follow_task(pair.integration.pk) == 0  # nothing to retry: the API cannot do it
    [noted] = ConfigChange.objects.filter(action="noted")
    assert noted.subject == "Webhooks at Visma.net are removed by a person"
    assert "Developer Portal" in noted.changes["reason"][1]
    assert Integration.objects.get(pk=pair.integration.pk).hooks_owed == ""


def test_against_visma_itself_removal_says_how_a_person_does_it():
    from types import SimpleNamespace

    from integrations.systems.vismanet.webhooks import unregister_webhooks

    client = SimpleNamespace(base_url="https://integration.visma.net/API")  # no call may be made
    with pytest.raises(NotImplementedError, match="Developer Portal"):
        unregister_webhooks(client, "https://synkro.example/hooks/vismanet/t/")
