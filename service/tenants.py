"""Per-tenant limits: requests per minute, concurrent jobs, stored bytes and upload size.

Plain functions over Redis and `Records`, so they can be tested without HTTP; the API calls them from
a middleware (rate limit) and from dependencies (jobs, uploads). Counters live under the key prefix:

    <p>:rate:<tenant>:<minute>       fixed-window request counter (expires after two windows)
    <p>:tenant:<tenant>              hash, field stored_bytes = sum of the tenant's document sizes
    <p>:tenant:<tenant>:active_jobs  set of job ids not yet known to be finished (pruned on read)

Limits are checked before the work starts, so simultaneous requests can overshoot a limit by the
number in flight: these are fairness and abuse limits, not accounting.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

import redis

from service import auth, usage
from service.config import Settings, TenantLimits
from service.errors import NotFound, PayloadTooLarge, QuotaExceeded, TooManyRequests
from service.models import TERMINAL_JOB_STATUSES
from service.records import Records

RATE_WINDOW_S = 60


def limits_for(settings: Settings, tenant: str) -> TenantLimits:
    return settings.tenants.limits_for(tenant)


# ---------------------------------------------------------------- requests per minute


def hit_rate_limit(
    r: redis.Redis, prefix: str, tenant: str, per_minute: int, now: float | None = None
) -> None:
    """Count one request in the tenant's current minute; raises TooManyRequests (with the seconds until
    the window ends) once the count passes `per_minute`."""
    now = time.time() if now is None else now
    window = int(now // RATE_WINDOW_S)
    key = f"{prefix}:rate:{tenant}:{window}"
    pipe = r.pipeline()
    pipe.incr(key)
    pipe.expire(key, 2 * RATE_WINDOW_S)
    count = int(pipe.execute()[0])
    if count > per_minute:
        retry_after = (window + 1) * RATE_WINDOW_S - now
        raise TooManyRequests(
            f"more than {per_minute} requests this minute for tenant {tenant!r}",
            code="rate_limited",
            retry_after_s=max(retry_after, 1.0),
            details={"limit_per_minute": per_minute},
        )


# ---------------------------------------------------------------- concurrent jobs


def active_jobs(records: Records, tenant: str) -> int:
    """Queued or running jobs of a tenant. Finished, expired and foreign ids are pruned from the set
    here, so the set heals itself without the pipeline having to report every ending."""
    key = records.active_jobs_key(tenant)
    count = 0
    for job_id in records.r.smembers(key):
        try:
            job = records.get_job(str(job_id), tenant)
        except NotFound:
            records.r.srem(key, job_id)
            continue
        if job.status in TERMINAL_JOB_STATUSES:
            records.r.srem(key, job_id)
        else:
            count += 1
    return count


def check_job_slot(records: Records, tenant: str, limits: TenantLimits) -> None:
    """Raise 429 too_many_jobs when the tenant already has its maximum of unfinished jobs."""
    running = active_jobs(records, tenant)
    if running >= limits.max_concurrent_jobs:
        raise TooManyRequests(
            f"tenant {tenant!r} has {running} unfinished jobs; the limit is {limits.max_concurrent_jobs}",
            code="too_many_jobs",
            retry_after_s=5.0,
            details={"active_jobs": running, "limit": limits.max_concurrent_jobs},
        )


# ---------------------------------------------------------------- storage


def stored_bytes(records: Records, tenant: str) -> int:
    return int(records.r.hget(records.tenant_stats_key(tenant), "stored_bytes") or 0)


@dataclass(frozen=True)
class UploadAllowance:
    """How many bytes the next upload of a tenant may have, and why."""

    max_bytes: int
    quota_bound: bool  # True when the remaining stored-bytes quota, not the per-file limit, is smaller
    stored: int
    quota: int

    @contextlib.contextmanager
    def explain(self) -> Iterator[None]:
        """Turn the upload's 413 into quota_exceeded when the quota was the limit that bit."""
        try:
            yield
        except PayloadTooLarge as exc:
            if not self.quota_bound:
                raise
            raise _quota_error(self.stored, self.quota) from exc


def upload_allowance(records: Records, tenant: str, limits: TenantLimits, global_max: int) -> UploadAllowance:
    """The per-file limit for this tenant, capped by its remaining quota; raises when none is left."""
    per_file = min(global_max, limits.max_upload_bytes or global_max)
    stored = stored_bytes(records, tenant)
    remaining = limits.max_stored_bytes - stored
    if remaining <= 0:
        raise _quota_error(stored, limits.max_stored_bytes)
    return UploadAllowance(min(per_file, remaining), remaining < per_file, stored, limits.max_stored_bytes)


def _quota_error(stored: int, quota: int) -> QuotaExceeded:
    return QuotaExceeded(
        f"the tenant's storage quota of {quota:,} bytes is used up ({stored:,} stored); delete documents",
        code="quota_exceeded",
        details={"stored_bytes": stored, "max_stored_bytes": quota},
    )


# ---------------------------------------------------------------- tenant list


def known_tenants(records: Records) -> list[str]:
    """Every tenant that has a key, a document, a job or recorded usage."""
    return sorted(str(t) for t in records.r.smembers(records.tenants_key()))


def overview(records: Records, tenant: str, settings: Settings) -> dict[str, object]:
    """One tenant for the admin API: keys, documents, stored bytes, unfinished jobs and limits."""
    keys = [k for k in auth.list_keys(records.r, records.p) if k.tenant == tenant]
    return {
        "tenant": tenant,
        "active_keys": sum(not k.revoked for k in keys),
        "documents": int(records.r.zcard(f"{records.p}:docs:{tenant}")),  # Records' per-tenant index
        "stored_bytes": stored_bytes(records, tenant),
        "active_jobs": active_jobs(records, tenant),
        "limits": limits_for(settings, tenant).model_dump(),
        "usage": usage.tenant_totals(records.r, records.p, tenant),
    }
