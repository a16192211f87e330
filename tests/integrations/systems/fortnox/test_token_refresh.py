"""Workers sharing one Fortnox connection rotate its single-use refresh token one at a time, and a worker holding
the token another one has just rotated takes the new one instead of calling the credentials bad."""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs

import pytest
from django.db import OperationalError, connection

from integrations.models import Connection
from integrations.systems.base import MemoryTokenStore
from integrations.systems.errors import AuthError
from integrations.systems.fortnox.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, FortnoxSandbox
from tests.factories import TenantFactory

from .conftest import BASE


@pytest.fixture
def stored(db, mounted: FortnoxSandbox) -> Connection:
    """A Fortnox connection of a tenant, its credentials stored (encrypted) with a fresh single-use refresh token."""
    tenant = TenantFactory(name="Ekbacken Bygg AB", slug="ekbacken")
    return Connection.objects.create(tenant=tenant, system="fortnox", name="Fortnox", base_url=BASE, credentials={
        "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET,
        "refresh_token": mounted.issue_refresh_token()})


def worker_client(connection_row: Connection, clock):
    """A client as a separate worker makes it: its own copy of the row and no access token cached yet."""
    fresh = Connection.objects.get(pk=connection_row.pk)
    return fresh.client(sleep=clock.sleep, token_store=MemoryTokenStore())


def token_answers(sandbox: FortnoxSandbox) -> list[int]:
    return [r.status for r in sandbox.requests if r.path == "/oauth-v1/token"]


def presented_tokens(sandbox: FortnoxSandbox) -> list[str]:
    return [parse_qs(r.query).get("refresh_token", [""])[0] for r in sandbox.requests if r.path == "/oauth-v1/token"]


def test_the_sandbox_refuses_a_used_refresh_token_as_fortnox_does(mounted, stored, clock):
    first = stored.credentials["refresh_token"]
    worker_client(stored, clock).check_connection()

    stale = stored.provider.client(base_url=BASE, credentials={**stored.credentials, "refresh_token": first},
                                   sleep=clock.sleep, token_store=MemoryTokenStore())
    with pytest.raises(AuthError) as refused:
        stale.check_connection()

    assert refused.value.vendor_message == "Invalid refresh token"
    assert token_answers(mounted) == [200, 400]


def test_a_worker_holding_the_rotated_token_takes_the_new_one(mounted, stored, clock):
    first = worker_client(stored, clock)
    second = worker_client(stored, clock)  # made before the first one refreshes: it holds the same token
    original = second.credentials["refresh_token"]

    first.check_connection()
    assert second.check_connection().startswith("Connected to Fortnox")

    assert token_answers(mounted) == [200, 200]  # no refused refresh
    assert original not in presented_tokens(mounted)[1:]
    kept = Connection.objects.get(pk=stored.pk).credentials["refresh_token"]
    assert kept == second.credentials["refresh_token"] and kept in mounted.refresh_grants


def test_an_expired_access_token_is_renewed_by_one_worker_and_found_by_the_other(mounted, stored, clock):
    store = MemoryTokenStore()  # the shared cache of the workers
    fresh = Connection.objects.get(pk=stored.pk)
    first = fresh.client(sleep=clock.sleep, token_store=store)
    second = Connection.objects.get(pk=stored.pk).client(sleep=clock.sleep, token_store=store)
    first.check_connection()
    second.check_connection()  # uses the first one's access token
    mounted.expire_access_tokens()

    first.check_connection()
    second.check_connection()  # 401 with the old token; the rotated refresh token's access token is cached

    assert token_answers(mounted) == [200, 200]
    assert second.credentials["refresh_token"] == first.credentials["refresh_token"]


def test_a_refresh_token_nobody_rotated_is_still_reported_as_refused(mounted, stored, clock):
    revoked = stored.credentials["refresh_token"]
    with mounted.lock:
        del mounted.refresh_grants[revoked]  # revoked in Fortnox, e.g. the app was disconnected

    with pytest.raises(AuthError) as refused:
        worker_client(stored, clock).check_connection()

    assert refused.value.vendor_message == "Invalid refresh token"
    assert Connection.objects.get(pk=stored.pk).credentials["refresh_token"] == revoked


def test_a_rotated_token_is_kept_when_the_refresh_fails_after_fortnox_rotated_it(mounted, stored, clock):
    class CacheDown(MemoryTokenStore):
        def set(self, key, value, timeout=None):
            raise RuntimeError("the cache is down")

    original = stored.credentials["refresh_token"]
    client = Connection.objects.get(pk=stored.pk).client(sleep=clock.sleep, token_store=CacheDown())
    with pytest.raises(RuntimeError):
        client.check_connection()

    kept = Connection.objects.get(pk=stored.pk).credentials["refresh_token"]
    assert kept != original and kept in mounted.refresh_grants  # Fortnox's new token was not lost


@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_both_succeed(sandbox, clock):
    from integrations.systems import transport

    with transport.mounted(BASE, sandbox):
        tenant = TenantFactory(name="Ekbacken Bygg AB", slug="ekbacken-threads")
        row = Connection.objects.create(tenant=tenant, system="fortnox", name="Fortnox", base_url=BASE, credentials={
            "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET,
            "refresh_token": sandbox.issue_refresh_token()})
        barrier = threading.Barrier(2)
        answers: list[str] = []
        errors: list[BaseException] = []

        def work() -> None:
            try:
                client = worker_client(row, clock)
                barrier.wait(timeout=10)
                for _ in range(400):
                    try:
                        answers.append(client.check_connection())
                        return
                    except OperationalError as exc:
                        # The suite's in-memory SQLite shares one cache between threads, where a taken write lock
                        # fails at once ("table is locked") instead of waiting as a database file does.
                        if "locked" not in str(exc):
                            raise
                        time.sleep(0.005)
                raise AssertionError("the database stayed locked")
            except BaseException as exc:  # surfaced below, with the thread's own error
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert errors == []
    assert len(answers) == 2 and all(a.startswith("Connected to Fortnox") for a in answers)
    assert 400 not in token_answers(sandbox)  # never a stale token presented
    kept = Connection.objects.get(pk=row.pk).credentials["refresh_token"]
    assert kept in sandbox.refresh_grants
