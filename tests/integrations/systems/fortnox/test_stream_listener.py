"""``manage.py fortnox_listen`` end to end: the Fortnox sandbox's stream → stored events → webCRM."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.db import OperationalError

from integrations.management.commands import fortnox_listen
from integrations.models import EventState, InboundEvent, StreamOffset
from integrations.systems.catalog import Entity
from tests.harness import drain, make_pair

ORG = Entity.ORGANISATION
pytestmark = pytest.mark.django_db(transaction=True)


def eventually(condition: Callable[[], object], what: str, *, within: float = 15.0) -> None:
    """Wait for ``condition`` (the listener runs on its own thread); fail naming ``what`` if it never holds."""
    deadline = time.monotonic() + within
    while not _holds(condition):
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


def _holds(condition: Callable[[], object]) -> bool:
    try:
        return bool(condition())
    except OperationalError:  # the in-memory test database's table lock, held by the listener's write
        return False


class Listening:
    """``fortnox_listen``'s listener on a thread of its own, stopped as the command stops on SIGTERM."""

    def __init__(self, stream_url: str):
        self.listener = fortnox_listen.listener_build(stream_url_for=lambda connection: stream_url,
                                                      rescan_seconds=0.1, backoff_base=0.05, backoff_cap=0.4)
        self.loop = asyncio.new_event_loop()
        self.stop_event: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self.stop_event = asyncio.Event()
            await fortnox_listen.listen(self.listener, self.stop_event)

        self.loop.run_until_complete(main())
        self.loop.close()

    def sessions(self, key: int) -> int:
        return self.listener.sessions.get(key, 0)

    def start(self) -> Listening:
        self.thread.start()
        return self

    def stop(self) -> None:
        eventually(lambda: self.stop_event is not None, "the listener started")
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(timeout=15)
        assert not self.thread.is_alive()


@pytest.fixture
def pair(synkro, sandboxes):
    return make_pair("webcrm", "fortnox", sandboxes)


@pytest.fixture
def stream(pair):
    server = pair.erp.serve_stream()
    yield server
    server.stop()


@pytest.fixture
def listening(stream) -> Iterator[Callable[[], Listening]]:
    started: list[Listening] = []

    def start() -> Listening:
        started.append(Listening(stream.url).start())
        return started[-1]

    yield start
    for running in started:
        if running.thread.is_alive():
            running.stop()


@contextmanager
def subscribed(listening: Callable[[], Listening], key: int) -> Iterator[Listening]:
    running = listening()
    eventually(lambda: running.sessions(key) >= 1, "the listener subscribed")
    try:
        yield running
    finally:
        running.stop()


def fortnox_events(number: str):
    return InboundEvent.objects.filter(system="fortnox", entity=ORG, external_id=number).order_by("pk")


def last_offset(pair, topic: str = "customers") -> str:
    return pair.erp.events(topic)[-1]["offset"]


def test_a_fortnox_customer_change_arrives_as_a_stored_event_and_syncs_to_webcrm(pair, listening):
    key = pair.integration.erp_connection_id
    with subscribed(listening, key):
        customer = pair.erp_client.create_record(ORG, {"Name": "Björkdal Bygg AB", "OrganisationNumber": "556677-8899",
                                                       "City": "Umeå"})
        number = customer["CustomerNumber"]
        eventually(lambda: fortnox_events(number).exists(), "the event was stored")

    [event] = fortnox_events(number)
    assert (event.action, event.source, event.state) == ("created", "webhook", EventState.PENDING)
    assert StreamOffset.objects.get(connection_id=key, topic="customers").offset == last_offset(pair)
    drain()
    [org] = list(pair.crm_client.list_records(ORG))
    assert org["OrganisationName"] == "Björkdal Bygg AB" and org["OrganisationCity"] == "Umeå"
    assert org["OrganisationExtraCustom1"] == number


def test_a_restart_resumes_from_the_stored_offset_without_loss_or_duplicates(pair, listening):
    key = pair.integration.erp_connection_id
    with subscribed(listening, key):
        first = pair.erp_client.create_record(ORG, {"Name": "Lövsta Trä HB"})["CustomerNumber"]
        eventually(lambda: fortnox_events(first).exists(), "the first change was stored")
    drain()
    # While the listener is down: one customer changes, another is made.
    pair.erp_client.update_record(ORG, first, {"City": "Gävle"})
    second = pair.erp_client.create_record(ORG, {"Name": "Norrskog Entreprenad AB"})["CustomerNumber"]

    with subscribed(listening, key) as running:
        eventually(lambda: fortnox_events(first).count() == 2 and fortnox_events(second).exists(),
                   "the changes made while down were stored")
        assert running.sessions(key) == 1

    assert [(e.action, e.deliveries) for e in fortnox_events(first)] == [("created", 1), ("updated", 1)]
    assert [(e.action, e.deliveries) for e in fortnox_events(second)] == [("created", 1)]
    assert StreamOffset.objects.get(connection_id=key, topic="customers").offset == last_offset(pair)
    drain()
    cities = {o["OrganisationName"]: o.get("OrganisationCity") for o in pair.crm_client.list_records(ORG)}
    assert cities["Lövsta Trä HB"] == "Gävle" and not cities["Norrskog Entreprenad AB"]


def test_a_dropped_connection_is_reopened_and_nothing_is_missed(pair, stream, listening):
    key = pair.integration.erp_connection_id
    with subscribed(listening, key) as running:
        before = pair.erp_client.create_record(ORG, {"Name": "Hagaby Bygg AB"})["CustomerNumber"]
        eventually(lambda: fortnox_events(before).exists(), "a first change was stored (the offset to resume from)")
        stream.drop_sessions()
        made = pair.erp_client.create_record(ORG, {"Name": "Ekbacken Revision AB"})["CustomerNumber"]
        eventually(lambda: running.sessions(key) >= 2, "the listener subscribed again")
        eventually(lambda: fortnox_events(made).exists(), "the change made during the break was stored")

    assert stream.subscriptions >= 2
    assert fortnox_events(made).get().deliveries == 1


def test_an_event_is_not_passed_by_until_it_is_stored(pair, listening, monkeypatch):
    key = pair.integration.erp_connection_id
    real_store, failures = fortnox_listen.stream_event_store, []

    def store_failing_once(**kwargs):
        if not failures:
            failures.append(kwargs["message"]["entityId"])
            raise RuntimeError("the database went away")
        return real_store(**kwargs)

    with subscribed(listening, key):
        before = pair.erp_client.create_record(ORG, {"Name": "Hagaby Bygg AB"})["CustomerNumber"]
        eventually(lambda: fortnox_events(before).exists(), "a first change was stored (the offset to resume from)")
        monkeypatch.setattr(fortnox_listen, "stream_event_store", store_failing_once)
        made = pair.erp_client.create_record(ORG, {"Name": "Sjöviks VVS AB"})["CustomerNumber"]
        eventually(lambda: fortnox_events(made).exists(), "the event was stored after the failure")

    assert failures == [made]
    assert fortnox_events(made).get().deliveries == 1
    assert StreamOffset.objects.get(connection_id=key, topic="customers").offset == last_offset(pair)


def test_connections_are_picked_up_and_dropped_without_a_restart(pair, stream, listening):
    key = pair.integration.erp_connection_id
    integration = pair.integration
    integration.active = False
    integration.save(update_fields=["active"])
    running = listening()
    eventually(lambda: running.stop_event is not None, "the listener started")
    assert running.sessions(key) == 0 and not stream.connections

    integration.active = True
    integration.save(update_fields=["active"])
    eventually(lambda: running.sessions(key) == 1, "the switched-on connection was subscribed")
    integration.active = False
    integration.save(update_fields=["active"])
    eventually(lambda: not running.listener.tasks and not stream.connections, "the switched-off one was dropped")
    running.stop()


def test_events_of_entities_not_synced_from_fortnox_are_passed_by_with_their_offset_kept(pair, listening):
    from integrations.engine.stream_intake import stream_event_store

    key = pair.integration.erp_connection_id
    tenant = pair.erp.company.tenant_id
    stored = stream_event_store(connection_id=key, fortnox_tenant_id=str(tenant), message={
        "topic": "invoices", "offset": "17", "type": "invoicepayment-bookkeep-v1", "tenantId": tenant,
        "entityId": "3817", "timestamp": "2026-11-29T10:00:00.000+01:00"})
    other_tenant = stream_event_store(connection_id=key, fortnox_tenant_id="1", message={
        "topic": "customers", "offset": "5", "type": "customer-updated-v1", "tenantId": 2, "entityId": "9",
        "timestamp": "2026-11-29T10:00:00.000+01:00"})

    assert stored == 0 and other_tenant == 0
    assert not InboundEvent.objects.exists()
    assert dict(StreamOffset.objects.values_list("topic", "offset")) == {"invoices": "17", "customers": "5"}
