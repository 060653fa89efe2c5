"""With Redis, every process that talks to one Qoyod company draws on one bucket."""

from __future__ import annotations

import multiprocessing
import time
import uuid

import pytest
import redis

from qoyod_sync.errors import QoyodRateLimited
from qoyod_sync.ratelimit import RedisTokenBucket, TokenBucket, bucket_for, key_digest


def _take_all(redis_url: str, name: str, tries: int) -> int:
    """In a process of its own: how many of `tries` requests the shared bucket lets through."""
    bucket = RedisTokenBucket(
        client=redis.Redis.from_url(redis_url), name=name, rate_per_minute=1, burst=5
    )
    granted = 0
    for _ in range(tries):
        try:
            # No waiting allowed: a request either has a token now or is refused.
            bucket.acquire(deadline=time.monotonic())
        except QoyodRateLimited:
            continue
        granted += 1
    return granted


@pytest.fixture
def bucket_name(require_redis: str):
    name = f"qoyod:ratelimit:test-{uuid.uuid4().hex}"
    yield name
    redis.Redis.from_url(require_redis).delete(name)


def test_two_processes_share_one_budget(require_redis: str, bucket_name: str):
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        granted = pool.starmap(_take_all, [(require_redis, bucket_name, 8)] * 2)

    # A bucket per process would have let 5 through in each (10); one shared bucket, 5 in all.
    assert sum(granted) == 5
    assert len(granted) == 2


def test_a_refusal_past_the_deadline_takes_no_token(require_redis: str, bucket_name: str):
    client = redis.Redis.from_url(require_redis)
    bucket = RedisTokenBucket(client=client, name=bucket_name, rate_per_minute=60, burst=1)
    assert bucket.acquire(deadline=time.monotonic()) == 0.0

    with pytest.raises(QoyodRateLimited) as caught:
        bucket.acquire(deadline=time.monotonic())

    assert caught.value.status_code is None
    assert 0 < caught.value.retry_after <= 1.0
    tokens = float(client.hget(bucket_name, "tokens"))
    assert -0.01 < tokens <= 0.0


def test_with_redis_the_bucket_lives_in_redis_under_a_digest_of_the_key(
    require_redis: str, settings
):
    settings.REDIS_URL = require_redis

    bucket = bucket_for("key-shared-0001", rate_per_minute=280, burst=10)

    assert isinstance(bucket, RedisTokenBucket)
    assert bucket.name == f"qoyod:ratelimit:{key_digest('key-shared-0001')}:280:10"
    assert "key-shared-0001" not in bucket.name
    assert bucket_for("key-shared-0001", rate_per_minute=280, burst=10) is bucket


def test_without_redis_each_process_keeps_its_own_bucket(settings):
    settings.REDIS_URL = ""

    bucket = bucket_for("key-local-0001", rate_per_minute=280, burst=10)

    assert isinstance(bucket, TokenBucket)
