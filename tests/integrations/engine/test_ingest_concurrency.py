"""Notices of one record arriving at the same moment on several connections still make one event."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, connection

from integrations.engine.ingest import event_upsert
from integrations.models import InboundEvent

NOTICES = 8


@pytest.mark.django_db(transaction=True)
def test_simultaneous_notices_of_one_record_coalesce_into_one_event(world):
    barrier = threading.Barrier(NOTICES)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def upsert(action: str) -> tuple[int, bool]:
        for _ in range(200):
            try:
                return event_upsert(tenant_id=world.tenant.pk, integration_id=world.integration.pk,
                                    system="webcrm", entity="organisation", action=action, external_id="42")
            except OperationalError as exc:
                # The suite's in-memory SQLite shares one cache between threads, where a busy table
                # fails at once ("database table is locked") instead of waiting as a database file does.
                if "table is locked" not in str(exc):
                    raise
                time.sleep(0.005)
        raise AssertionError("the table stayed locked")

    def deliver(action: str) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(upsert(action))
        except BaseException as exc:  # surfaced below, with the thread's own error
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=("created" if n == 3 else "updated",)) for n in range(NOTICES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    event = InboundEvent.objects.get()
    assert event.deliveries == NOTICES and event.action == "created"
    assert sorted(created for _, created in results) == [False] * (NOTICES - 1) + [True]
    assert {event_id for event_id, _ in results} == {event.pk}
