"""Fortnox's WebSocket change stream: the sandbox's server and the listening side's protocol, without a database."""

from __future__ import annotations

import asyncio
import json
import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from websockets.sync.client import connect

from integrations.systems.catalog import Entity
from integrations.systems.fortnox.sandbox import DEMO_CLIENT_SECRET
from integrations.systems.fortnox.stream import StreamRefused, Subscription, reconnect_delay, stream_session

from .conftest import put_customers


def run_apart(coroutine):
    """Run ``coroutine`` on an event loop of its own thread: the test's thread may hold a running loop already
    (Playwright's sync API, from an earlier test on the same worker)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture
def server(mounted):
    running = mounted.serve_stream()
    yield running
    running.stop()


@pytest.fixture
def token(client) -> str:
    headers: dict[str, str] = {}
    client.authenticate(headers)
    return headers["Authorization"].removeprefix("Bearer ")


def command(socket, body: dict) -> dict:
    socket.send(json.dumps(body))
    return json.loads(socket.recv(timeout=5))


def subscribe(socket, token: str, topics: list[dict]) -> dict:
    added = command(socket, {"command": "add-tenants-v1", "clientSecret": DEMO_CLIENT_SECRET,
                             "accessTokens": [f"Bearer {token}"]})
    assert added["result"] == "ok"
    assert command(socket, {"command": "add-topics-v1", "topics": topics})["result"] == "ok"
    assert command(socket, {"command": "subscribe-v1"}) == {"response": "subscribe-v1", "result": "ok"}
    return added


# -- reconnecting ---------------------------------------------------------------------------------------
def test_reconnect_delay_doubles_up_to_its_cap_with_jitter():
    rng = random.Random(3)
    delays = [reconnect_delay(attempt, base=1.0, cap=60.0, rng=rng) for attempt in range(10)]

    for attempt, delay in enumerate(delays):
        step = min(60.0, 2.0 ** attempt)
        assert step / 2 <= delay <= step
    assert max(delays) <= 60.0 and delays[-1] >= 30.0
    assert len({round(reconnect_delay(4, rng=rng), 6) for _ in range(20)}) > 1  # jittered, not in lockstep


# -- the sandbox speaks Fortnox's commands --------------------------------------------------------------
def test_add_tenants_answers_the_tenant_id_of_each_valid_token(server, mounted, token):
    with connect(server.url) as socket:
        answer = command(socket, {"command": "add-tenants-v1", "clientSecret": DEMO_CLIENT_SECRET,
                                  "accessTokens": [f"Bearer {token}", "Bearer made-up"]})

    assert answer["result"] == "ok"
    assert answer["tenantIds"] == {f"Bearer {token}": mounted.company.tenant_id}
    assert answer["invalidTokens"] == ["Bearer made-up"]


def test_a_wrong_client_secret_or_an_expired_token_is_refused(server, mounted, token):
    with connect(server.url) as socket:
        wrong = command(socket, {"command": "add-tenants-v1", "clientSecret": "nope", "accessTokens": [token]})
        mounted.expire_access_tokens()
        expired = command(socket, {"command": "add-tenants-v1", "clientSecret": DEMO_CLIENT_SECRET,
                                   "accessTokens": [token]})
        unsubscribed = command(socket, {"command": "subscribe-v1"})

    assert wrong["result"] == "error" and expired["result"] == "error"
    assert expired["invalidTokens"] == [token]
    assert unsubscribed["result"] == "error"  # no tenant was added


def test_unknown_topics_are_named_in_the_refusal(server, token):
    with connect(server.url) as socket:
        command(socket, {"command": "add-tenants-v1", "clientSecret": DEMO_CLIENT_SECRET, "accessTokens": [token]})
        answer = command(socket, {"command": "add-topics-v1", "topics": [{"topic": "customers"},
                                                                         {"topic": "vouchers"}]})

    assert answer == {"response": "add-topics-v1", "result": "error", "invalidTopics": ["vouchers"]}


def test_subscribing_from_an_offset_replays_what_came_after_it_then_streams_new_changes(server, mounted, client,
                                                                                       token):
    for name in ("Alfa AB", "Beta AB", "Gamma AB"):
        client.create_record(Entity.ORGANISATION, {"Name": name})
    with connect(server.url) as socket:
        subscribe(socket, token, [{"topic": "customers", "offset": "1"}])
        replayed = [json.loads(socket.recv(timeout=5)) for _ in range(2)]
        client.update_record(Entity.ORGANISATION, "1", {"Name": "Alfa Bygg AB"})
        live = json.loads(socket.recv(timeout=5))

    assert [(e["offset"], e["type"], e["entityId"]) for e in replayed] == [
        ("2", "customer-created-v1", "2"), ("3", "customer-created-v1", "3")]
    assert (live["offset"], live["type"], live["entityId"]) == ("4", "customer-updated-v1", "1")
    assert set(live) == {"topic", "offset", "type", "tenantId", "entityId", "timestamp"}


def test_without_an_offset_a_topic_starts_at_its_end(server, client, token):
    client.create_record(Entity.ORGANISATION, {"Name": "Före AB"})
    with connect(server.url) as socket:
        subscribe(socket, token, [{"topic": "customers"}])
        client.create_record(Entity.ORGANISATION, {"Name": "Efter AB"})
        first = json.loads(socket.recv(timeout=5))

    assert first["entityId"] == "2"


def test_order_invoicing_is_streamed_on_both_topics(server, mounted, client, token):
    put_customers(mounted, 1)
    order = client.create_record(Entity.DELIVERY, {"CustomerNumber": "1", "lines": [
        {"ArticleNumber": "", "Description": "Timme", "OrderedQuantity": "2", "Price": 500}]})
    with connect(server.url) as socket:
        subscribe(socket, token, [{"topic": "orders"}, {"topic": "invoices"}])
        client.invoice_from_order(order["DocumentNumber"])
        events = sorted((json.loads(socket.recv(timeout=5)) for _ in range(2)), key=lambda e: e["topic"])

    assert [(e["topic"], e["type"]) for e in events] == [("invoices", "invoice-created-v1"),
                                                         ("orders", "order-updated-v1")]


# -- the listening side ---------------------------------------------------------------------------------
def test_a_session_hands_over_each_event_with_the_tenant_it_was_opened_for(server, mounted, client, token):
    client.create_record(Entity.ORGANISATION, {"Name": "Redan AB"})
    stored: list[tuple[str, dict]] = []
    subscribed = []

    async def store(tenant_id: str, event: dict) -> None:
        stored.append((tenant_id, event))
        if len(stored) == 2:
            raise asyncio.CancelledError  # enough: end the session

    async def session() -> None:
        subscription = Subscription(key=1, url=server.url, client_secret=DEMO_CLIENT_SECRET, topics=("customers",))
        task = asyncio.create_task(stream_session(subscription, access_token=token, offsets={"customers": "0"},
                                                  store=store, on_subscribed=lambda: subscribed.append(True)))
        while not subscribed:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(client.create_record, Entity.ORGANISATION, {"Name": "Ny AB"})
        with pytest.raises(asyncio.CancelledError):
            await task

    run_apart(session())

    assert [(tenant, event["entityId"]) for tenant, event in stored] == [
        (str(mounted.company.tenant_id), "1"), (str(mounted.company.tenant_id), "2")]


def test_a_session_with_a_refused_token_raises_stream_refused(server):
    subscription = Subscription(key=1, url=server.url, client_secret=DEMO_CLIENT_SECRET, topics=("customers",))

    async def nothing(tenant_id: str, event: dict) -> None:
        raise AssertionError("no event may arrive")

    with pytest.raises(StreamRefused):
        run_apart(stream_session(subscription, access_token="not-a-token", offsets={}, store=nothing))
