"""A clock tests move by hand."""

from __future__ import annotations


class FakeClock:
    """Monotonic seconds the test moves by hand; ``sleep`` moves them too and is remembered: no real waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
