"""The shared provider quota: Redis token buckets taken atomically by concurrent callers (real Redis)."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from service.errors import JobCancelled, ProviderFinal, ProviderRetryable
from service.llm.catalog import RateLimits, load_catalog
from service.llm.ratelimit import NoRateLimit, RedisRateLimiter, scope_for
from service.redis_conn import EmbeddedRedis, connect


@pytest.fixture()
def limiter(redis_server: EmbeddedRedis) -> RedisRateLimiter:
    return RedisRateLimiter(connect(redis_server.url), f"t{uuid.uuid4().hex[:8]}", max_sleep_s=0.05)


def never() -> bool:
    return False


def test_two_concurrent_callers_share_one_bucket(limiter: RedisRateLimiter) -> None:
    limits = RateLimits(rpm=0, tpm=60_000)  # 1,000 tokens/s
    scope = scope_for("http://provider.test/v1", "m")
    passed: list[tuple[str, float]] = []
    start = time.monotonic()

    def caller(name: str) -> None:
        for _ in range(2):
            limiter.acquire(scope, limits, 15_500, time.monotonic() + 30, never)
            passed.append((name, time.monotonic() - start))

    threads = [threading.Thread(target=caller, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # 4 x 15,500 from a full 60,000 bucket: three pass at once (46,500), the fourth finds 13,500 and waits
    # for 2,000 tokens of refill at 1,000/s (~2 s). Were the take not atomic, both callers could pass twice.
    assert len(passed) == 4
    immediate = [t for _, t in passed if t < 1.0]
    assert len(immediate) == 3, passed
    late = max(t for _, t in passed)
    assert 1.7 <= late <= 4.0, passed


def test_waiting_caller_gives_up_at_its_deadline_and_on_cancel(limiter: RedisRateLimiter) -> None:
    limits = RateLimits(rpm=2, tpm=0)
    scope = scope_for("http://provider.test/v1", "rpm-model")
    limiter.acquire(scope, limits, 10, time.monotonic() + 5, never)
    limiter.acquire(scope, limits, 10, time.monotonic() + 5, never)
    with pytest.raises(ProviderRetryable) as info:  # the next request slot is 30 s away
        limiter.acquire(scope, limits, 10, time.monotonic() + 2, never)
    assert info.value.code == "rate_limited" and info.value.details["wait_s"] >= 25
    checks: list[int] = []

    def cancelled() -> bool:
        checks.append(1)
        return len(checks) > 3

    with pytest.raises(JobCancelled):
        limiter.acquire(scope, limits, 10, time.monotonic() + 120, cancelled)


def test_one_prompt_over_the_quota_is_refused_with_the_numbers(limiter: RedisRateLimiter) -> None:
    m1 = load_catalog(None).get("MiniMax-M1")
    scope = scope_for("https://api.minimax.io/v1", m1.id)
    for candidate in (limiter, NoRateLimit()):
        with pytest.raises(ProviderFinal) as info:
            candidate.acquire(scope, m1.rate_limits, 900_000 + 8192, time.monotonic() + 60, never)
        assert info.value.code == "exceeds_rate_quota"
        assert info.value.details == {"model": "MiniMax-M1", "tokens": 908_192, "tpm": 720_000, "rpm": 120}
        assert "720,000 tokens per minute" in info.value.message


def test_release_returns_unused_tokens(limiter: RedisRateLimiter) -> None:
    limits = RateLimits(rpm=0, tpm=60_000)
    scope = scope_for("http://provider.test/v1", "refund")
    assert limiter.try_take(scope, limits, 1, 50_000) == 0.0
    assert limiter.try_take(scope, limits, 1, 50_000) > 30  # ~40 s of refill missing
    limiter.release(scope, limits, 45_000)  # the call used only 5,000 of its reservation
    assert limiter.try_take(scope, limits, 1, 50_000) == 0.0
    limiter.release(scope, limits, 10**9)  # never above capacity
    assert limiter.try_take(scope, limits, 1, 60_000) == 0.0
    assert limiter.try_take(scope, limits, 1, 1_000) > 0.5


def test_scopes_are_separate_per_provider_and_model(limiter: RedisRateLimiter) -> None:
    limits = RateLimits(rpm=1, tpm=0)
    a = scope_for("http://one.test/v1", "m")
    assert limiter.try_take(a, limits, 1, 0) == 0.0
    assert limiter.try_take(a, limits, 1, 0) > 0
    assert limiter.try_take(scope_for("http://two.test/v1", "m"), limits, 1, 0) == 0.0
    assert limiter.try_take(scope_for("http://one.test/v1", "other"), limits, 1, 0) == 0.0
    assert "one.test" not in a  # URLs may carry credentials; the key holds only a hash
