"""A provider's per-minute quotas (requests and tokens) shared by every worker through Redis.

Two token buckets per provider base URL + model, refilled continuously at rpm/60 and tpm/60 per second and
holding at most one minute's worth. Before a call the engine takes 1 request and `prompt + max_tokens`
tokens (what the provider counts against TPM); a Lua script refills and takes atomically, using Redis's
clock so workers on different hosts agree. When the buckets are short the caller sleeps for the time the
script says they need, checking the job's cancellation, until its deadline. After the call the unused part
of the output reservation is given back.

A single call larger than the whole per-minute quota can never pass: that is refused at once
(`ProviderFinal` code `exceeds_rate_quota`, with the numbers) instead of waiting or retrying forever.

Known limit: a large call waiting for a nearly full bucket can be overtaken by small ones (no queueing);
the deadline bounds its wait.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

import redis

from service.errors import JobCancelled, ProviderFinal, ProviderRetryable
from service.llm.catalog import RateLimits

log = logging.getLogger(__name__)

# KEYS: requests bucket, tokens bucket. ARGV: rpm, tpm, requests wanted, tokens wanted (negative = give back).
# Bucket hash fields: level (float), ts (ms). A limit of 0 means "no limit" for that bucket.
# Returns {1, 0} when taken, else {0, milliseconds until both buckets could serve the request}.
_LUA = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local limits = {tonumber(ARGV[1]), tonumber(ARGV[2])}
local wants = {tonumber(ARGV[3]), tonumber(ARGV[4])}
local levels = {}
local wait = 0
for i = 1, 2 do
  local cap = limits[i]
  if cap > 0 then
    local state = redis.call('HMGET', KEYS[i], 'level', 'ts')
    local level = tonumber(state[1]) or cap
    local ts = tonumber(state[2]) or now
    local rate = cap / 60000.0
    level = math.min(cap, level + math.max(0, now - ts) * rate)
    levels[i] = level
    if wants[i] > level then
      wait = math.max(wait, math.ceil((wants[i] - level) / rate))
    end
  end
end
if wait > 0 then
  return {0, wait}
end
for i = 1, 2 do
  local cap = limits[i]
  if cap > 0 then
    local level = math.min(cap, levels[i] - wants[i])
    redis.call('HSET', KEYS[i], 'level', tostring(level), 'ts', now)
    redis.call('PEXPIRE', KEYS[i], 120000)
  end
end
return {1, 0}
"""


class RateLimiter(Protocol):
    """Reserve quota before a provider call and return what was not used after it."""

    def acquire(
        self, scope: str, limits: RateLimits, tokens: int, deadline: float, cancelled: Callable[[], bool]
    ) -> None: ...

    def release(self, scope: str, limits: RateLimits, tokens: int) -> None: ...


class NoRateLimit:
    """For tests and for deployments that do not share a quota."""

    def acquire(
        self, scope: str, limits: RateLimits, tokens: int, deadline: float, cancelled: Callable[[], bool]
    ) -> None:
        check_fits(scope, limits, tokens)

    def release(self, scope: str, limits: RateLimits, tokens: int) -> None:
        return None


def scope_for(base_url: str, model: str) -> str:
    """The quota's identity: one per provider endpoint (hashed; URLs may hold tokens) and model."""
    return f"{hashlib.sha256(base_url.rstrip('/').encode()).hexdigest()[:16]}:{model}"


def check_fits(scope: str, limits: RateLimits, tokens: int) -> None:
    """Refuse a call that alone exceeds the per-minute token quota: no amount of waiting helps."""
    if limits.tpm and tokens > limits.tpm:
        model = scope.partition(":")[2]
        raise ProviderFinal(
            f"one call to {model} needs about {tokens:,} tokens (prompt + reserved output), more than the "
            f"provider's quota of {limits.tpm:,} tokens per minute; it can never be accepted. Use fewer "
            "documents, a smaller output budget, or raise rate_limits.tpm in the model catalog if your "
            "account has a higher quota.",
            code="exceeds_rate_quota",
            details={"model": model, "tokens": tokens, "tpm": limits.tpm, "rpm": limits.rpm},
        )


class RedisRateLimiter:
    """Token buckets in Redis; see the module docstring."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_sleep_s: float = 1.0,
    ):
        self._script = client.register_script(_LUA)
        self._prefix = prefix
        self._sleep = sleep
        self._clock = clock
        self._max_sleep_s = max_sleep_s  # wake up at least this often to notice cancellation

    def _keys(self, scope: str) -> list[str]:
        return [f"{self._prefix}:ratelimit:{scope}:rpm", f"{self._prefix}:ratelimit:{scope}:tpm"]

    def try_take(self, scope: str, limits: RateLimits, requests: int, tokens: int) -> float:
        """Take atomically; 0.0 when taken, else the seconds until the buckets could serve it."""
        args = [limits.rpm, limits.tpm, requests, tokens]
        taken, wait_ms = self._script(keys=self._keys(scope), args=args)
        return 0.0 if int(taken) else int(wait_ms) / 1000.0

    def acquire(
        self, scope: str, limits: RateLimits, tokens: int, deadline: float, cancelled: Callable[[], bool]
    ) -> None:
        """Wait until 1 request and `tokens` tokens are taken; raise if the deadline comes first."""
        check_fits(scope, limits, tokens)
        if not (limits.rpm or limits.tpm):
            return
        while True:
            if cancelled():
                raise JobCancelled("the job was cancelled while waiting for the provider's rate limit")
            wait = self.try_take(scope, limits, 1, tokens)
            if wait == 0.0:
                return
            if self._clock() + wait >= deadline:
                raise ProviderRetryable(
                    f"the provider's rate limit would need {wait:.0f} s more than the call's deadline allows",
                    code="rate_limited",
                    details={"tokens": tokens, "tpm": limits.tpm, "rpm": limits.rpm, "wait_s": round(wait)},
                )
            log.info("rate limit %s: waiting %.1f s for %d tokens", scope, wait, tokens)
            self._sleep(min(wait, self._max_sleep_s))

    def release(self, scope: str, limits: RateLimits, tokens: int) -> None:
        """Give back `tokens` reserved but not used (never above the bucket's capacity)."""
        if tokens > 0 and limits.tpm:
            self._script(keys=self._keys(scope), args=[0, limits.tpm, 0, -tokens])
