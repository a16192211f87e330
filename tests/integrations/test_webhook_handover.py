"""A webhook notice costs the endpoint its own statements; the live workers' broker takes the stored event up.

Storing a notice queues no task and bumps no shared counter row: the live queue's broker hands the event to the
workers, the every-minute dispatcher hands over whatever that missed, and the webhook health screen counts the
notices from the events (and from its counter rows once the events are removed).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from integrations import tasks
from integrations.brokers import LIVE_POLL, OrmBroker, RedisBroker
from integrations.engine.handover import events_take_awaiting
from integrations.models import EventState, InboundEvent, SyncLink, WebhookStat
from integrations.systems.registry import get_system
from support.selectors import webhook_health
from tests.integrations.test_webhook_endpoint import notice, post, simple_parser


@pytest.fixture
def hooks(monkeypatch):
    """webCRM's notices read by the endpoint tests' small parser (``test_webhook_endpoint.simple_parser``)."""
    monkeypatch.setattr(get_system("webcrm"), "webhook_parser", simple_parser)
    monkeypatch.setattr(get_system("webcrm"), "has_webhooks", True)


def handed(broker) -> list[tuple[str, tuple]]:
    """(function, arguments) of each task one look of ``broker`` hands to its workers."""
    return [(task["func"], task["args"]) for task in
            (SignedPackage.loads(pack) for _ack, pack in broker.dequeue() or [])]


def ever(world, entity="organisation"):
    [row] = [row for row in webhook_health(tenant=world.tenant, integration=world.integration)["webcrm"]
             if row.entity == entity]
    return row


def test_a_notice_costs_the_token_lookup_and_one_upsert_and_nothing_else(client, world, hooks):
    with CaptureQueriesContext(connection) as queries:
        assert post(client, world.integration, notice("42")).status_code == 200
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["SELECT", "INSERT"]
    assert not OrmQ.objects.exists() and not WebhookStat.objects.exists()
    event = InboundEvent.objects.get()
    assert (event.state, event.awaits_worker, event.notices) == (EventState.PENDING, True, 1)


def test_the_live_queues_broker_hands_a_stored_notice_to_the_workers_once(client, world, hooks, settings):
    post(client, world.integration, notice("42"))
    event = InboundEvent.objects.get()
    tasks.event_enqueue(event_id=event.pk)  # a task queued the ordinary way (a replay's) comes along in the same look
    live, bulk = OrmBroker(settings.Q_LIVE_CLUSTER), OrmBroker(settings.Q_CLUSTER["name"])
    assert handed(bulk) == []  # the bulk queue leaves webhook notices alone
    assert handed(live) == [(tasks.EVENT_TASK, (event.pk,)), (tasks.EVENT_TASK, (event.pk,))]
    assert handed(live) == []  # taken once
    event.refresh_from_db()
    assert not event.awaits_worker and event.state == EventState.PENDING


def test_a_second_notice_of_a_waiting_record_is_not_handed_over_again(client, world, hooks):
    post(client, world.integration, notice("42"))
    assert len(events_take_awaiting().live) == 1
    post(client, world.integration, notice("42"))
    assert events_take_awaiting().live == []
    assert InboundEvent.objects.get().deliveries == 2


def test_an_event_processed_before_the_broker_looked_is_not_handed_over(client, world, hooks):
    post(client, world.integration, notice("42"))
    InboundEvent.objects.update(state=EventState.DONE)
    assert events_take_awaiting().live == []
    assert not InboundEvent.objects.filter(awaits_worker=True).exists()


@pytest.mark.parametrize("taken", [False, True], ids=["no worker looked", "its task was lost"])
def test_a_notice_no_worker_took_is_handed_over_by_the_dispatcher(client, world, hooks, settings, taken):
    post(client, world.integration, notice("42"))
    event = InboundEvent.objects.get()
    if taken:
        assert events_take_awaiting().live == [event.pk]  # …and the worker process died before it ran
    assert tasks.events_dispatch_task() == 0  # fresh: left to the broker
    InboundEvent.objects.update(received_at=timezone.now() - dt.timedelta(minutes=2))
    assert tasks.events_dispatch_task() == 1
    [task] = OrmQ.objects.all()
    assert (task.key, task.func(), task.args()) == (settings.Q_LIVE_CLUSTER, tasks.EVENT_TASK, (event.pk,))


def test_a_handed_notice_reaches_the_other_system(db, synkro, sandboxes, settings):
    from integrations.systems.catalog import Entity
    from integrations.tasks import event_process_task
    from tests.harness import drain, make_pair

    pair = make_pair("webcrm", "uniconta", sandboxes)
    pair.webcrm_hooks("Organisations")
    org = pair.crm_client.create_record(Entity.ORGANISATION, {
        "OrganisationName": "Havbrise Byg ApS", "OrganisationType": "Kunde", "OrganisationCity": "Aarhus C"})
    drain()
    SyncLink.objects.update(synced_at=timezone.now() - dt.timedelta(hours=1))  # a person's edit, not an echo
    pair.crm_client.update_record(Entity.ORGANISATION, str(org["OrganisationId"]), {"OrganisationCity": "Odense"})
    work = handed(OrmBroker(settings.Q_LIVE_CLUSTER))
    assert [func for func, _ in work] == [tasks.EVENT_TASK]
    for _func, args in work:
        event_process_task(*args)
    [debtor] = pair.erp_client.list_records(Entity.ORGANISATION)
    assert debtor["City"] == "Odense"


def test_the_redis_live_queue_waits_briefly_and_hands_over_stored_notices(client, world, hooks, settings,
                                                                            monkeypatch):
    class FakeRedis:
        def __init__(self):
            self.waits = []

        def blpop(self, key, timeout):
            self.waits.append((key, timeout))
            return None

    fake = FakeRedis()
    monkeypatch.setattr(RedisBroker, "get_connection", staticmethod(lambda list_key=None: fake))
    post(client, world.integration, notice("42"))
    event = InboundEvent.objects.get()
    assert handed(RedisBroker(settings.Q_CLUSTER["name"])) == []
    assert handed(RedisBroker(settings.Q_LIVE_CLUSTER)) == [(tasks.EVENT_TASK, (event.pk,))]
    assert fake.waits == [(f"django_q:{settings.Q_CLUSTER['name']}:q", 1),
                          (f"django_q:{settings.Q_LIVE_CLUSTER}:q", LIVE_POLL)]


# -- the webhook health screen ---------------------------------------------------------------------------------------

def test_health_counts_every_notice_stored_coalesced_or_dropped(client, world, hooks):
    post(client, world.integration, [notice("1"), notice("2"), notice("1"), notice("3", action="deleted")])
    post(client, world.integration, notice("2"))
    row = ever(world)
    assert (row.total_received, row.dropped_by_toggle, row.received_24h) == (5, 1, 4)


def test_last_received_is_the_newest_notice_even_when_it_joined_a_waiting_event(client, world, hooks):
    post(client, world.integration, notice("42"))
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    InboundEvent.objects.update(received_at=an_hour_ago, last_notice_at=an_hour_ago)
    post(client, world.integration, notice("42"))
    event = InboundEvent.objects.get()
    assert ever(world).last_received == event.last_notice_at > an_hour_ago


def test_the_ever_count_outlives_the_events_the_history_clean_up_removes(client, world, hooks):
    from tenants.retention import history_clean

    post(client, world.integration, [notice("1"), notice("1"), notice("2"), notice("3", action="deleted")])
    before = ever(world)
    assert before.total_received == 4
    InboundEvent.objects.update(state=EventState.DONE)
    later = timezone.now() + dt.timedelta(days=world.tenant.retention_days + 1)
    assert history_clean(tenant=world.tenant, now=later).removed["events"] == 2
    assert not InboundEvent.objects.exists()
    after = ever(world)
    assert (after.total_received, after.dropped_by_toggle, after.last_received) == (
        4, 1, before.last_received)


def test_the_silence_alert_sees_notices_counted_on_events(client, world, hooks):
    from alerts.selectors import notice_silences

    post(client, world.integration, notice("42"))
    event = InboundEvent.objects.get()
    [webcrm] = [s for s in notice_silences(tenant=world.tenant, since=timezone.now() - dt.timedelta(days=1))
                if s.integration == world.integration and s.system == "webcrm"]
    assert webcrm.last_notice_at == event.last_notice_at is not None


# -- the middleware a webhook call skips -----------------------------------------------------------------------------

def test_a_webhook_call_skips_the_middleware_for_people_but_not_the_host_check(client, world, hooks):
    response = post(client, world.integration, notice("42"))
    assert response.status_code == 200
    # no session, CSRF, framing or content-security work for a machine calling with a token
    assert "Content-Security-Policy" not in response.headers and "X-Frame-Options" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still answers
    assert post(client, world.integration, notice("43"), HTTP_HOST="evil.example").status_code == 400
    assert set(InboundEvent.objects.values_list("external_id", flat=True)) == {"42"}


def test_a_page_still_gets_the_whole_middleware(client, world):
    response = client.get("/accounts/login/")
    assert response.status_code == 200 and "Content-Security-Policy" in response.headers


@pytest.mark.django_db(transaction=True)
def test_the_token_lookup_outside_a_transaction_finds_the_caller_and_its_toggles(world, client, hooks):
    """The lookup and the store in autocommit, as the endpoint runs them (the other tests run in a transaction)."""
    from integrations.engine.intake import webhook_source

    for _ in range(3):
        source = webhook_source(system="webcrm", token=world.integration.webhook_token)
        assert (source.integration_id, source.tenant_id, source.active) == (
            world.integration.pk, world.tenant.pk, True)
        assert ("organisation", "updated") in source.enabled and ("organisation", "deleted") not in source.enabled
    assert webhook_source(system="webcrm", token="x" * 43) is None
    assert post(client, world.integration, notice("42")).status_code == 200
    assert InboundEvent.objects.get().external_id == "42"


def _just_written(world, record_id: str) -> None:
    """Synkro wrote the record a moment ago: a notice of it now is most likely that write's echo."""
    SyncLink.objects.create(tenant=world.tenant, integration=world.integration, entity="organisation",
                            crm_id=record_id, erp_id="10001", synced_at=timezone.now())


def test_the_echo_of_synkros_write_waits_with_the_bulk_work(client, world, hooks):
    _just_written(world, "42")
    post(client, world.integration, notice("42"))
    taken = events_take_awaiting()
    assert (taken.live, len(taken.echoes)) == ([], 1)


def test_a_persons_change_just_after_synkros_write_goes_to_the_live_workers(client, world, hooks):
    _just_written(world, "42")
    post(client, world.integration, notice("42"))
    [echo] = events_take_awaiting().echoes  # sent to the bulk workers, which may be hours behind an import
    InboundEvent.objects.update(received_at=timezone.now() - dt.timedelta(seconds=5))
    post(client, world.integration, notice("42"))  # a person edits the record a few seconds later
    assert events_take_awaiting().live == [echo]


def test_a_second_notice_right_behind_the_echo_stays_with_it(client, world, hooks):
    """A create and its customer-number write-back come back as two notices within a second: both echoes."""
    _just_written(world, "42")
    post(client, world.integration, notice("42", action="created"))
    assert len(events_take_awaiting().echoes) == 1
    post(client, world.integration, notice("42"))
    assert events_take_awaiting().live == []
