from datetime import timedelta

import pytest

from integrations.engine.locks import RecordBusy, lock_acquire, lock_release, record_locked
from integrations.engine.ratelimit import DatabaseRateLimiter, bucket_shape
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
