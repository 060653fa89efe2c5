"""A token bucket per API key, so one process stays under Qoyod's 300 requests a minute."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from django.views.decorators.debug import sensitive_variables

from qoyod_sync.errors import QoyodRateLimited


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
                raise QoyodRateLimited(
                    "Too many requests to Qoyod from this app: the next free slot is "
                    f"{wait:.1f} s away, past this call's deadline. Nothing was sent.",
                    retry_after=wait,
                )
        if wait > 0:
            self._sleep(wait)
        return wait


_buckets: dict[tuple[str, int, int], TokenBucket] = {}
_buckets_lock = threading.Lock()


@sensitive_variables("api_key")
def bucket_for(api_key: str, *, rate_per_minute: int, burst: int) -> TokenBucket:
    """The process-wide bucket for this key (and limit), created on first use."""
    # Keyed by a digest so this long-lived table never holds the key itself.
    key = (key_digest(api_key), rate_per_minute, burst)
    with _buckets_lock:
        bucket = _buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(rate_per_minute=rate_per_minute, burst=burst)
            _buckets[key] = bucket
        return bucket


@sensitive_variables("api_key")
def key_digest(api_key: str) -> str:
    """A stable, non-reversible name for an API key."""
    return hashlib.sha256(api_key.encode()).hexdigest()
