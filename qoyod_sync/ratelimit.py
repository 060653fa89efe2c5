"""A token bucket per API key, so we stay under Qoyod's 300 requests a minute per company.

Qoyod counts per company, not per process: with REDIS_URL set, the bucket lives in Redis and
every web worker and Celery worker draws on the same one (RedisTokenBucket, one atomic Lua
script). Without Redis (a trial install) each process keeps its own TokenBucket.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from qoyod_sync.errors import QoyodRateLimited

logger = logging.getLogger(__name__)


class Bucket(Protocol):
    def acquire(self, deadline: float | None = None) -> float: ...


def _refused(wait: float) -> QoyodRateLimited:
    return QoyodRateLimited(
        "Too many requests to Qoyod from this app: the next free slot is "
        f"{wait:.1f} s away, past this call's deadline. Nothing was sent.",
        retry_after=wait,
    )


class TokenBucket:
    """Hands out `rate_per_minute` tokens a minute with at most `burst` saved up."""

    def __init__(
        self,
        *,
        rate_per_minute: int,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_minute <= 0 or burst <= 0:
            raise ValueError("rate_per_minute and burst must be positive")
        self._rate = rate_per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self, deadline: float | None = None) -> float:
        """Take one token, sleeping until it is due; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            # Reserve the token even when it is not there yet: the balance goes negative and
            # later callers queue behind us, which keeps the order fair without holding the
            # lock while we sleep.
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self._rate
            if deadline is not None and now + wait > deadline:
                self._tokens += 1.0
                raise _refused(wait)
        if wait > 0:
            self._sleep(wait)
        return wait


# The same bucket as TokenBucket.acquire, kept in a Redis hash and run atomically by Redis, on
# Redis's clock (the processes' monotonic clocks are not comparable). KEYS[1] the bucket;
# ARGV: tokens a second, burst, the longest wait allowed in seconds (negative: no limit).
# Returns {1, wait} when a token is reserved, {0, wait} when the wait is too long (nothing
# taken). Numbers travel as strings: Redis would truncate a Lua float to an integer.
_ACQUIRE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(saved[1]) or burst
local updated = tonumber(saved[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate) - 1
local wait = 0
if tokens < 0 then wait = -tokens / rate end
if max_wait >= 0 and wait > max_wait then
  return {0, tostring(wait)}
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 60)
return {1, tostring(wait)}
"""


class RedisTokenBucket:
    """TokenBucket shared by every process through Redis; `name` is its Redis key."""

    def __init__(
        self,
        *,
        client: redis.Redis,
        name: str,
        rate_per_minute: int,
        burst: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_minute <= 0 or burst <= 0:
            raise ValueError("rate_per_minute and burst must be positive")
        self.name = name
        self._rate = rate_per_minute / 60.0
        self._burst = burst
        self._script = client.register_script(_ACQUIRE)
        self._sleep = sleep
        # Used while Redis does not answer: better this process's own limit than none, and
        # better than failing every Qoyod call because the limiter's store is down.
        self._fallback = TokenBucket(rate_per_minute=rate_per_minute, burst=burst)

    def acquire(self, deadline: float | None = None) -> float:
        """Take one token, sleeping until it is due; returns the seconds waited."""
        max_wait = -1.0 if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            reserved, wait_text = self._script(
                keys=[self.name], args=[repr(self._rate), self._burst, repr(max_wait)]
            )
        except redis.RedisError:
            logger.warning("Redis did not answer; Qoyod rate limit kept per process for now")
            return self._fallback.acquire(deadline)
        wait = float(wait_text)
        if not reserved:
            raise _refused(wait)
        if wait > 0:
            self._sleep(wait)
        return wait


_buckets: dict[tuple[str, str, int, int], Bucket] = {}
_buckets_lock = threading.Lock()


@sensitive_variables("api_key")
def bucket_for(api_key: str, *, rate_per_minute: int, burst: int) -> Bucket:
    """The bucket for this key (and limit): in Redis when REDIS_URL is set, else this process's."""
    # Keyed by a digest so neither this long-lived table nor Redis ever holds the key itself.
    digest = key_digest(api_key)
    redis_url = settings.REDIS_URL
    key = (redis_url, digest, rate_per_minute, burst)
    with _buckets_lock:
        bucket = _buckets.get(key)
        if bucket is None:
            if redis_url:
                bucket = RedisTokenBucket(
                    # Short timeouts: a Redis that hangs must not hold up a call to Qoyod.
                    client=redis.Redis.from_url(
                        redis_url, socket_timeout=1.0, socket_connect_timeout=1.0
                    ),
                    name=f"qoyod:ratelimit:{digest}:{rate_per_minute}:{burst}",
                    rate_per_minute=rate_per_minute,
                    burst=burst,
                )
            else:
                bucket = TokenBucket(rate_per_minute=rate_per_minute, burst=burst)
            _buckets[key] = bucket
        return bucket


@sensitive_variables("api_key")
def key_digest(api_key: str) -> str:
    """A stable, non-reversible name for an API key."""
    return hashlib.sha256(api_key.encode()).hexdigest()
