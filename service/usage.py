"""Tenant usage accounting: tokens in/out and estimated cost per finished job, summed per tenant and day.

`record_job_usage` is idempotent per job id: Celery delivers at least once and a job may be finished
twice, so a Lua script marks the job and adds its numbers in one atomic step (a crash cannot leave a
job marked but not counted, or counted twice). Redis layout under the key prefix:

    <p>:usage:<tenant>:<YYYY-MM-DD>   hash  jobs, tokens_in, tokens_out, reasoning_tokens, cached_tokens,
                                            estimated_jobs, cost_usd (float)
    <p>:usage:<tenant>:total          hash  the same fields over all days
    <p>:usage:<tenant>:days           set   days with usage
    <p>:usage:job:<job id>            marker: this job was counted (kept for MARKER_TTL_S)
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import redis

from service.models import JobState, utcnow

MARKER_TTL_S = 90 * 24 * 3600  # longer than any job or result can live, so a late redelivery still sees it
INT_FIELDS = ("jobs", "tokens_in", "tokens_out", "reasoning_tokens", "cached_tokens", "estimated_jobs")
COST_FIELD = "cost_usd"
_COST_NAMES = ("total_usd", "estimated_usd", "usd", "cost_usd", "total", "amount")

# KEYS: marker, day hash, total hash, days set, tenants set. ARGV: marker ttl, day, tenant, fields JSON.
_RECORD = """
if redis.call('set', KEYS[1], ARGV[3] .. ' ' .. ARGV[2], 'NX', 'EX', ARGV[1]) == false then
  return 0
end
local fields = cjson.decode(ARGV[4])
for name, value in pairs(fields) do
  if name == 'cost_usd' then
    redis.call('hincrbyfloat', KEYS[2], name, value)
    redis.call('hincrbyfloat', KEYS[3], name, value)
  else
    redis.call('hincrby', KEYS[2], name, value)
    redis.call('hincrby', KEYS[3], name, value)
  end
end
redis.call('sadd', KEYS[4], ARGV[2])
redis.call('sadd', KEYS[5], ARGV[3])
return 1
"""


def job_cost(result: Any) -> float | None:
    """The estimated cost of a job result in USD, if it carries one.

    `JobResult.cost` may be a number or an object/dict with a USD total; absent means unknown (None).
    """
    cost = getattr(result, "cost", None)
    if cost is None or isinstance(cost, bool):
        return None
    if isinstance(cost, int | float):
        return float(cost)
    values = cost if isinstance(cost, dict) else {n: getattr(cost, n, None) for n in _COST_NAMES}
    for name in _COST_NAMES:
        value = values.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def usage_fields(job: JobState) -> dict[str, int | float]:
    """What one job adds to its tenant's counters."""
    fields: dict[str, int | float] = {"jobs": 1}
    result = job.result
    if result is None:
        return fields
    usage = result.usage
    fields.update(
        tokens_in=usage.prompt_tokens,
        tokens_out=usage.completion_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        cached_tokens=usage.cached_tokens,
        estimated_jobs=int(usage.estimated),
    )
    cost = job_cost(result)
    if cost is not None:
        fields[COST_FIELD] = cost
    return fields


def usage_day(job: JobState) -> str:
    """The UTC day a job counts on: the day it finished (else the day it was created)."""
    return (job.finished_at or job.created_at or utcnow()).date().isoformat()


def record_job_usage(redis_client: redis.Redis, prefix: str, job: JobState) -> None:
    """Add a job's tokens and cost to its tenant's day and total counters, once per job id."""
    day = usage_day(job)
    keys = [
        f"{prefix}:usage:job:{job.id}",
        f"{prefix}:usage:{job.tenant}:{day}",
        f"{prefix}:usage:{job.tenant}:total",
        f"{prefix}:usage:{job.tenant}:days",
        f"{prefix}:tenants",
    ]
    # numbers travel as strings: Lua would print a large integer as 1e+15, which HINCRBY refuses
    fields = {name: str(value) for name, value in usage_fields(job).items()}
    args: list[str | int] = [MARKER_TTL_S, day, job.tenant, json.dumps(fields)]
    redis_client.eval(_RECORD, len(keys), *keys, *args)


def _parse(raw: dict[str, str]) -> dict[str, int | float]:
    out: dict[str, int | float] = {name: int(raw.get(name, 0)) for name in INT_FIELDS}
    out[COST_FIELD] = round(float(raw.get(COST_FIELD, 0.0)), 9)  # hides float noise of HINCRBYFLOAT sums
    return out


def tenant_totals(redis_client: redis.Redis, prefix: str, tenant: str) -> dict[str, int | float]:
    raw: dict[str, str] = redis_client.hgetall(f"{prefix}:usage:{tenant}:total")  # type: ignore[assignment]
    return _parse(raw)


def tenant_days(redis_client: redis.Redis, prefix: str, tenant: str) -> list[str]:
    days: set[str] = redis_client.smembers(f"{prefix}:usage:{tenant}:days")  # type: ignore[assignment]
    return sorted(days)


def usage_for_day(
    redis_client: redis.Redis, prefix: str, tenant: str, day: date | str
) -> dict[str, int | float]:
    """One tenant's counters for one UTC day (zeros when nothing was recorded)."""
    key = f"{prefix}:usage:{tenant}:{day if isinstance(day, str) else day.isoformat()}"
    raw: dict[str, str] = redis_client.hgetall(key)  # type: ignore[assignment]
    return _parse(raw)


def usage_rows(
    redis_client: redis.Redis, prefix: str, tenants: list[str], day: str | None = None
) -> list[dict[str, Any]]:
    """Per tenant per day counters, for the admin API: one day, or every day with usage."""
    rows: list[dict[str, Any]] = []
    for tenant in tenants:
        days = [day] if day else tenant_days(redis_client, prefix, tenant)
        for d in days:
            rows.append({"tenant": tenant, "day": d, **usage_for_day(redis_client, prefix, tenant, d)})
    return rows
