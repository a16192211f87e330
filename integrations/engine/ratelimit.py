"""A token bucket per connection, kept in the database and shared by every worker.

Vendors count requests in a sliding window (webCRM 250/min, Fortnox 25 per 5 s). A plain token
bucket of the window's size would allow almost two windows' worth at a boundary and earn 429s, so
the bucket is small (a tenth of the window) and refills at the rest of the limit: any window then
holds at most ``limit`` requests, and a long bulk sync still runs at about 90% of the ceiling.

Bulk work (imports, reconciliations) leaves a reserve in the bucket for live work (webhook notices, replays):
it takes a token only while more than the reserve remains, so a live change never waits for the vendor's window
behind a running import, and whenever both wait, the live one is served first.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from django.db import IntegrityError, transaction

from integrations.models import RateBucket

#: The share of the bucket bulk work leaves to live work: enough for a few live changes' requests at once.
LIVE_SHARE = 0.3


def bucket_shape(limit: int, window: float) -> tuple[float, float]:
    """(capacity, tokens per second) such that capacity + rate × window ≤ limit."""
    capacity = max(1, math.floor(limit * 0.1))
    return float(capacity), (limit - capacity) / window


def live_reserve(capacity: float) -> float:
    """The tokens bulk work leaves in a bucket of ``capacity`` for live work: at least one."""
    return float(max(1, math.ceil(capacity * LIVE_SHARE)))


class DatabaseRateLimiter:
    """``acquire()`` blocks until the connection may make one more request.

    ``bulk``: the requests are bulk work's, which leaves :func:`live_reserve` tokens in the bucket for live work.
    """

    def __init__(self, *, connection_id: int, limit: int, window: float, bulk: bool = False,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep):
        self.connection_id = connection_id
        self.capacity, self.rate = bucket_shape(limit, window)
        self.reserve = live_reserve(self.capacity) if bulk and self.capacity > 1 else 0.0
        self.clock, self.sleep = clock, sleep

    def acquire(self, cost: int = 1) -> None:
        while True:
            try:
                wait = self._try_take(cost)
            except IntegrityError:  # two workers created the bucket at once: the row exists now
                continue
            if wait <= 0:
                return
            self.sleep(wait)

    def _try_take(self, cost: int) -> float:
        """Take ``cost`` tokens if there are enough; otherwise how long until there will be."""
        with transaction.atomic():
            bucket, _ = RateBucket.objects.select_for_update().get_or_create(
                connection_id=self.connection_id, defaults={"tokens": self.capacity, "refilled_at": self.clock()})
            now = self.clock()
            tokens = min(self.capacity, bucket.tokens + max(0.0, now - bucket.refilled_at) * self.rate)
            needed = cost + self.reserve
            if tokens >= needed - 1e-9:  # float dust must not leave a worker waiting forever
                bucket.tokens, bucket.refilled_at = max(0.0, tokens - cost), now
                bucket.save(update_fields=["tokens", "refilled_at"])
                return 0.0
            bucket.tokens, bucket.refilled_at = tokens, now
            bucket.save(update_fields=["tokens", "refilled_at"])
            return max(0.001, (needed - tokens) / self.rate)
