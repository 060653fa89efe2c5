"""The per-key token bucket that keeps us under Qoyod's 300 requests a minute."""

from __future__ import annotations

import pytest

from qoyod_sync.errors import QoyodRateLimited
from qoyod_sync.ratelimit import TokenBucket, bucket_for, key_digest


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_burst_goes_at_once_then_requests_are_paced() -> None:
    clock = Clock()
    bucket = TokenBucket(rate_per_minute=60, burst=3, clock=clock, sleep=clock.sleep)

    waits = [bucket.acquire() for _ in range(5)]

    assert waits == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert clock.slept == [1.0, 1.0]


def test_tokens_refill_with_time_up_to_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate_per_minute=60, burst=2, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.acquire()

    clock.now += 10

    assert [bucket.acquire(), bucket.acquire(), bucket.acquire()] == [0.0, 0.0, 1.0]


def test_a_wait_past_the_deadline_raises_and_gives_the_slot_back() -> None:
    clock = Clock()
    bucket = TokenBucket(rate_per_minute=60, burst=1, clock=clock, sleep=clock.sleep)
    bucket.acquire()

    with pytest.raises(QoyodRateLimited) as caught:
        bucket.acquire(deadline=clock.now + 0.5)

    assert caught.value.retry_after == 1.0
    assert caught.value.status_code is None
    assert caught.value.message == (
        "Too many requests to Qoyod from this app: the next free slot is 1.0 s away, "
        "past this call's deadline. Nothing was sent."
    )
    assert bucket.acquire(deadline=clock.now + 1.0) == 1.0


def test_default_burst_and_rate_stay_under_qoyods_limit_in_any_minute() -> None:
    clock = Clock()
    bucket = TokenBucket(rate_per_minute=280, burst=10, clock=clock, sleep=clock.sleep)
    start = clock.now
    times = []
    while clock.now - start < 60:
        bucket.acquire()
        times.append(clock.now)

    in_first_minute = [t for t in times if t - start < 60]
    assert len(in_first_minute) <= 290


def test_one_bucket_per_key_and_limit() -> None:
    first = bucket_for("key-a-0001", rate_per_minute=280, burst=10)

    assert bucket_for("key-a-0001", rate_per_minute=280, burst=10) is first
    assert bucket_for("key-b-0001", rate_per_minute=280, burst=10) is not first
    assert key_digest("key-a-0001") != "key-a-0001"
    assert len(key_digest("key-a-0001")) == 64
