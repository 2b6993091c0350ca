"""The one retry layer of a model call: exponential backoff with full jitter, Retry-After honoured,
bounded by attempts and a total deadline. Only `ProviderRetryable` is retried; everything else propagates.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from service.errors import JobCancelled, ProviderRetryable

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_s: float
    cap_s: float
    total_deadline_s: float

    def delay(self, attempt: int, error: ProviderRetryable, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if error.retry_after_s is not None:
            return min(max(error.retry_after_s, 0.0), self.cap_s)
        return rng.uniform(0.0, min(self.cap_s, self.base_s * 2 ** (attempt - 1)))


def call_with_retry(
    attempt_fn: Callable[[int, float], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None],
    cancelled: Callable[[], bool],
    rng: random.Random | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run `attempt_fn(attempt, deadline)` until it succeeds, raises a non-retryable error, or the budget
    (attempts, deadline) is spent; then the last `ProviderRetryable` propagates with `details.attempts`."""
    rng = rng or random.Random()
    deadline = clock() + policy.total_deadline_s
    attempt = 0
    while True:
        attempt += 1
        if cancelled():
            raise JobCancelled("the job was cancelled")
        try:
            return attempt_fn(attempt, deadline)
        except ProviderRetryable as exc:
            exc.details["attempts"] = attempt
            wait = policy.delay(attempt, exc, rng)
            if attempt >= max(policy.max_attempts, 1) or clock() + wait >= deadline:
                raise
            log.warning("model call attempt %d failed (%s); retrying in %.2fs", attempt, exc.message, wait)
            sleep(wait)
