from datetime import timedelta

import pytest

from integrations.engine.locks import RecordBusy, lock_acquire, lock_release, record_locked
from integrations.engine.ratelimit import DatabaseRateLimiter, bucket_shape, live_reserve
from integrations.models import RecordLock
from tests.clocks import FakeClock

pytestmark = pytest.mark.django_db


def test_one_holder_per_record_and_release_frees_it():
    owner = lock_acquire(key="1:organisation:webcrm:42")
    assert owner
    assert lock_acquire(key="1:organisation:webcrm:42") is None
    assert lock_acquire(key="1:organisation:webcrm:43")
    lock_release(key="1:organisation:webcrm:42", owner=owner)
    assert lock_acquire(key="1:organisation:webcrm:42")


def test_a_crashed_holders_lease_runs_out():
    lock_acquire(key="k", lease=timedelta(seconds=-1))
    assert lock_acquire(key="k") is not None


def test_record_locked_takes_all_or_none():
    holder = lock_acquire(key="b")
    with pytest.raises(RecordBusy), record_locked("a", "b"):
        pass
    assert not RecordLock.objects.filter(key="a").exists()
    lock_release(key="b", owner=holder)
    with record_locked("a", "b"):
        assert RecordLock.objects.count() == 2
    assert RecordLock.objects.count() == 0


def test_the_bucket_never_exceeds_a_sliding_window_and_uses_most_of_it(world):
    clock = FakeClock()
    limiter = DatabaseRateLimiter(connection_id=world.connection.pk, limit=25, window=5.0, clock=clock,
                                  sleep=clock.sleep)
    stamps = []
    for _ in range(200):
        limiter.acquire()
        stamps.append(clock.now)
    worst = max(sum(1 for t in stamps if start <= t < start + 5.0) for start in stamps)
    assert worst <= 25
    achieved = (len(stamps) - 1) / (stamps[-1] - stamps[0]) * 5.0
    assert achieved >= 0.9 * 25


def test_bucket_shape_keeps_within_the_limit():
    capacity, rate = bucket_shape(250, 60.0)
    assert capacity + rate * 60.0 <= 250 and capacity >= 1


def test_bulk_work_leaves_a_reserve_that_live_work_takes_at_once(world):
    clock = FakeClock()
    options = {"connection_id": world.connection.pk, "limit": 250, "window": 60.0, "clock": clock,
               "sleep": clock.sleep}
    bulk, live = DatabaseRateLimiter(bulk=True, **options), DatabaseRateLimiter(**options)
    assert bulk.reserve == live_reserve(bulk.capacity) == 8 and live.reserve == 0
    for _ in range(300):  # an import running flat out, for over a minute
        bulk.acquire()
    waited = len(clock.sleeps)
    for _ in range(int(bulk.reserve)):  # a live change's requests meanwhile
        live.acquire()
    assert len(clock.sleeps) == waited  # none of them waited for the vendor's window
    live.acquire()  # the reserve is spent: now live waits for the refill like anyone
    assert len(clock.sleeps) == waited + 1


def test_bulk_work_still_uses_most_of_the_limit(world):
    clock = FakeClock()
    bulk = DatabaseRateLimiter(connection_id=world.connection.pk, limit=250, window=60.0, bulk=True, clock=clock,
                               sleep=clock.sleep)
    stamps = []
    for _ in range(1000):
        bulk.acquire()
        stamps.append(clock.now)
    worst = max(sum(1 for t in stamps if start <= t < start + 60.0) for start in stamps[::25])
    assert worst <= 250
    assert (len(stamps) - 1) / (stamps[-1] - stamps[0]) * 60.0 >= 0.85 * 250
