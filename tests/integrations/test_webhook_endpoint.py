"""The inbound webhook endpoint: stored before acknowledged, bad input refused with nothing stored.

The vendor's parser is replaced by a small one here so these tests speak of the endpoint; each
system's own parser is tested with saved payloads beside its package's tests.
"""

from __future__ import annotations

import json

import pytest

from integrations.models import EventState, InboundEvent, WebhookStat
from integrations.systems.base import WebhookAction, WebhookEvent
from integrations.systems.catalog import Entity
from integrations.systems.errors import WebhookRejected
from integrations.systems.registry import get_system
from mappings.models import WebhookToggle


def simple_parser(*, body: bytes, headers, query, secret=None) -> list[WebhookEvent]:
    """One notice per call, or a list of them."""
    try:
        data = json.loads(body)
        return [WebhookEvent(Entity(item["entity"]), WebhookAction(item["action"]), str(item["id"]), item)
                for item in (data if isinstance(data, list) else [data])]
    except (ValueError, KeyError, TypeError) as exc:
        raise WebhookRejected(f"Not a notification we understand: {exc.__class__.__name__}") from exc


@pytest.fixture
def parser(monkeypatch):
    monkeypatch.setattr(get_system("webcrm"), "webhook_parser", simple_parser)
    monkeypatch.setattr(get_system("webcrm"), "has_webhooks", True)


def post(client, integration, body, *, system="webcrm", token=None, **extra):
    url = f"/hooks/{system}/{token or integration.webhook_token}/"
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", **extra)


def notice(record_id="42", action="updated", entity="organisation") -> dict:
    return {"entity": entity, "action": action, "id": record_id}


def health(world, system="webcrm") -> dict[str, tuple[int, int]]:
    """The webhook health screen's (received ever, dropped by toggle) per entity that received anything."""
    from support.selectors import webhook_health

    rows = webhook_health(tenant=world.tenant, integration=world.integration).get(system, [])
    return {row.entity: (row.total_received, row.dropped_by_toggle) for row in rows if row.last_received}


def test_a_webhook_is_stored_before_it_is_acknowledged(client, world, parser):
    response = post(client, world.integration, notice())
    assert response.status_code == 200
    assert response.json() == {"stored": 1, "coalesced": 0, "ignored": 0}
    event = InboundEvent.objects.get()
    assert (event.tenant, event.integration, event.system, event.entity, event.external_id, event.action,
            event.state) == (world.tenant, world.integration, "webcrm", "organisation", "42", "updated", "pending")
    assert health(world) == {"organisation": (1, 0)}
    assert event.notices == 1 and event.last_notice_at is not None and event.awaits_worker


def test_five_deliveries_of_one_change_make_one_event(client, world, parser):
    for _ in range(5):
        assert post(client, world.integration, notice()).status_code == 200
    event = InboundEvent.objects.get()
    assert event.deliveries == 5


def test_a_delete_after_an_update_keeps_the_delete(client, world, parser):
    WebhookToggle.objects.filter(integration=world.integration, action="deleted").update(enabled=True)
    post(client, world.integration, notice(action="updated"))
    post(client, world.integration, notice(action="deleted"))
    post(client, world.integration, notice(action="updated"))
    assert InboundEvent.objects.get().action == "deleted"


def test_an_update_after_a_create_keeps_the_create_and_the_newest_body(client, world, parser):
    post(client, world.integration, {**notice(action="created"), "seen": 1})
    post(client, world.integration, {**notice(action="updated"), "seen": 2})
    event = InboundEvent.objects.get()
    assert (event.action, event.deliveries, event.payload["seen"]) == ("created", 2, 2)


def test_one_call_with_notices_of_several_entities_counts_each_entity(client, world, parser):
    body = [notice("1"), notice("2"), notice("1"), notice("9", entity="person"), notice("3", action="deleted")]
    response = post(client, world.integration, body)
    assert response.json() == {"stored": 3, "coalesced": 1, "ignored": 1}
    post(client, world.integration, notice("4"))
    assert health(world) == {"organisation": (5, 1), "person": (1, 0)}
    assert InboundEvent.objects.filter(tenant=world.tenant).count() == 4


def test_a_new_change_after_processing_is_new_work(client, world, parser):
    post(client, world.integration, notice())
    InboundEvent.objects.update(state=EventState.DONE)
    post(client, world.integration, notice())
    assert InboundEvent.objects.filter(state=EventState.PENDING).count() == 1
    assert InboundEvent.objects.count() == 2


def test_events_whose_toggle_is_off_are_counted_not_stored(client, world, parser):
    response = post(client, world.integration, notice(action="deleted"))  # deletes are off by default
    assert response.status_code == 200 and response.json()["ignored"] == 1
    assert not InboundEvent.objects.exists()
    stat = WebhookStat.objects.get(integration=world.integration, system="webcrm", entity="organisation")
    assert (stat.received, stat.dropped_by_toggle) == (1, 1)
    assert health(world) == {"organisation": (1, 1)}


def test_wrong_token_is_404_and_stores_nothing(client, world, parser):
    assert post(client, world.integration, notice(), token="not-the-token").status_code == 404
    assert post(client, world.integration, notice(), token=world.other_integration.webhook_token[:-1] + "x"
                ).status_code == 404
    assert not InboundEvent.objects.exists() and not WebhookStat.objects.exists()


def test_unknown_system_or_a_system_not_in_the_integration_is_404(client, world, parser):
    assert post(client, world.integration, notice(), system="sap").status_code == 404
    assert post(client, world.integration, notice(), system="fortnox").status_code == 404
    assert not InboundEvent.objects.exists()


def test_a_paused_integration_acknowledges_notices_counts_them_and_stores_nothing(client, world, parser):
    world.integration.active = False
    world.integration.save()
    for _ in range(3):  # a vendor that gets 2xx stops retrying; a 404 would have it call again and again
        response = post(client, world.integration, notice())
        assert response.status_code == 200 and response.json()["stored"] == 0 and response.json()["paused"]
    assert not InboundEvent.objects.exists()
    stat = WebhookStat.objects.get(integration=world.integration, system="webcrm", entity="")
    assert (stat.dropped_while_paused, stat.received) == (3, 0)
    # Switched on again, notices are stored as before.
    world.integration.active = True
    world.integration.save()
    assert post(client, world.integration, notice()).json()["stored"] == 1


def test_a_wrong_token_for_a_paused_integration_is_still_404(client, world, parser):
    world.integration.active = False
    world.integration.save()
    assert post(client, world.integration, notice(), token="x" * 43).status_code == 404
    assert not WebhookStat.objects.exists()


def test_a_deactivated_tenant_takes_no_webhooks(client, world, parser):
    world.tenant.active = False
    world.tenant.save()
    assert post(client, world.integration, notice()).status_code == 404
    assert not InboundEvent.objects.exists() and not WebhookStat.objects.exists()


def test_malformed_payload_is_400_with_the_reason_kept_for_support(client, world, parser):
    response = post(client, world.integration, b"{not json")
    assert response.status_code == 400
    assert "Not a notification we understand" in response.json()["error"]
    assert not InboundEvent.objects.exists()
    assert "Not a notification" in WebhookStat.objects.get(integration=world.integration).last_error


def test_oversized_body_is_413_and_stores_nothing(client, world, parser, settings):
    settings.WEBHOOK_MAX_BYTES = 1000
    response = post(client, world.integration, {**notice(), "padding": "x" * 2000})
    assert response.status_code == 413
    assert not InboundEvent.objects.exists()


def test_a_token_works_only_for_its_own_integration(client, world, parser):
    post(client, world.other_integration, notice("7"))
    event = InboundEvent.objects.get()
    assert event.tenant == world.other_tenant and event.integration == world.other_integration


def test_events_of_an_entity_without_toggles_are_not_acted_upon(client, world, parser):
    WebhookToggle.objects.filter(integration=world.integration, entity="person").delete()
    assert post(client, world.integration, notice(entity="person")).json()["ignored"] == 1
    assert not InboundEvent.objects.exists()


def test_a_notice_of_a_record_waiting_in_a_reconciliation_goes_ahead_of_it(client, world, parser, monkeypatch,
                                                                            django_capture_on_commit_callbacks):
    from integrations import tasks
    from integrations.engine.handover import events_take_awaiting
    from integrations.engine.ingest import events_ingest_batch
    from integrations.engine.runs import run_start
    from integrations.models import EventSource

    monkeypatch.setattr(tasks, "async_task", lambda func, arg, **kw: None)
    run = run_start(integration=world.integration, kind="reconcile", entity="organisation")
    with django_capture_on_commit_callbacks(execute=True):
        events_ingest_batch(integration=world.integration, system="webcrm", entity="organisation",
                            external_ids=["41", "42"], source=EventSource.RECONCILE, run_id=run.pk)
    waiting = InboundEvent.objects.get(external_id="42")
    assert post(client, world.integration, notice("42")).status_code == 200
    waiting.refresh_from_db()
    assert (waiting.source, waiting.run_id, waiting.deliveries) == (EventSource.WEBHOOK, run.pk, 2)
    # taken up by the live workers' broker, still counted in its run
    assert events_take_awaiting().live == [waiting.pk]
    assert InboundEvent.objects.get(external_id="41").source == EventSource.RECONCILE
    assert post(client, world.integration, notice("42")).status_code == 200
    assert events_take_awaiting().live == []  # already live and handed over: nothing handed twice
