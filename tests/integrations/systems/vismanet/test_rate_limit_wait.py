"""A spent Visma.net window: a short reset is waited out inside the call, a long one parks the job for later.

Visma.net's 429 carries ``X-RateLimit-Reset`` (seconds until the window resets; the window is an hour) and no
Retry-After (docs/vendors/vismanet.md, "Rate limits"). Holding a worker asleep for up to an hour would starve every
other integration, so a wait longer than the client's ``longest_wait`` raises at once and the engine re-queues.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.engine import process
from integrations.models import EventState, InboundEvent
from integrations.services import integration_webhooks_register
from integrations.systems import transport
from integrations.systems.catalog import Entity
from integrations.systems.errors import RateLimitedError, TransientError
from integrations.systems.vismanet import provider
from tests.harness import make_pair

from .conftest import BASE_URL, FakeClock, make_client


def spent_window(clock: FakeClock, seconds: int):
    """A sandbox allowing one call per ``seconds``-long window, on the fake clock."""
    app = provider.sandbox(rate_limit=(1, seconds))
    app.clock = clock.monotonic
    return app


def test_a_window_resetting_in_an_hour_raises_at_once_with_its_wait(clock: FakeClock):
    app = spent_window(clock, 3600)
    with transport.mounted(BASE_URL, app):
        client = make_client(sleep=clock.sleep, max_attempts=5)
        client.check_connection()
        clock.advance(600)
        app.clear_log()
        with pytest.raises(RateLimitedError) as caught:
            client.check_connection()
    assert caught.value.retry_after == 3000
    assert caught.value.status == 429
    assert clock.slept == []
    assert app.count("GET", "/v1/customer") == 1  # asked once, not again after a wait


def test_a_window_resetting_within_the_cap_is_waited_out(clock: FakeClock):
    app = spent_window(clock, 45)
    with transport.mounted(BASE_URL, app):
        client = make_client(sleep=clock.sleep, max_attempts=3)
        client.check_connection()
        clock.advance(5)
        assert "connected" in client.check_connection()
    assert len(clock.slept) == 1 and 40 <= clock.slept[0] <= client.longest_wait


@pytest.mark.parametrize(("window", "slept"), [(60, True), (61, False)])
def test_the_cap_itself_is_still_waited(clock: FakeClock, window, slept):
    app = spent_window(clock, window)
    with transport.mounted(BASE_URL, app):
        client = make_client(sleep=clock.sleep, max_attempts=3)
        client.check_connection()
        if slept:
            client.check_connection()
        else:
            with pytest.raises(RateLimitedError) as caught:
                client.check_connection()
            assert caught.value.retry_after == window
    assert bool(clock.slept) is slept


def test_a_server_error_asking_for_a_long_wait_is_not_slept_either(clock: FakeClock):
    app = provider.sandbox(rate_limit=(0, 0))
    with transport.mounted(BASE_URL, app):
        client = make_client(sleep=clock.sleep, max_attempts=5)
        client.check_connection()
        app.fail_next(1, status=503, retry_after=900)
        with pytest.raises(TransientError) as caught:
            client.check_connection()
    assert caught.value.retry_after == 900 and caught.value.status == 503
    assert clock.slept == []


def test_the_engine_puts_the_change_back_for_when_the_window_has_reset(db, synkro, sandboxes):
    visma = make_pair("webcrm", "vismanet", sandboxes)
    integration_webhooks_register(integration=visma.integration)
    visma.crm_client.create_record(Entity.ORGANISATION, {"OrganisationName": "Havbrise Byg ApS",
                                                         "OrganisationType": "Kunde"})
    [event_id] = process.events_due()
    sandboxes["vismanet"].fail_next(1, status=429, retry_after=1800)
    slept: list[float] = []
    started = timezone.now()

    process.event_process(event_id=event_id, client_options={"sleep": slept.append, "rate_limiter": None})

    event = InboundEvent.objects.get(pk=event_id)
    assert slept == []
    assert event.state == EventState.PENDING and event.attempts == 1
    assert event.next_attempt_at >= started + timedelta(seconds=1800)
    assert "Visma.net asked us to slow down" in event.last_error
    assert list(visma.erp_client.list_records(Entity.ORGANISATION)) == []
