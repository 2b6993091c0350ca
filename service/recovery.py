"""Jobs that no worker has: republished when their queue message was lost.

A job record says queued or running, but its Celery message can be gone (a broker flush, a Redis evicting
keys under memory pressure, a worker killed with a message its broker then dropped). Nothing would ever
finish such a job. `requeue_stale` (run by beat with the schedule sweep) republishes every job that has
been queued, or running without a live lease (`service.pipeline.LeaseKeeper`), for longer than
`worker.stale_job_s`. Republishing is safe even when the old message still exists: a delivery takes the
job's lock and skips jobs that have ended, so a job runs at most once at a time and finishes once.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from service.errors import NotFound
from service.models import TERMINAL_JOB_STATUSES, JobEvent, JobState, utcnow
from service.pipeline import Services

log = logging.getLogger("longdoc.recovery")


class Publisher(Protocol):
    def submit_job(self, job_id: str) -> None: ...


def requeue_stale(
    services: Services, queue: Publisher, older_than_s: float | None = None, now: datetime | None = None
) -> list[str]:
    """Republish stale jobs of every tenant; returns their ids. Each job at most once per period."""
    records = services.records
    period = services.settings.worker.stale_job_s if older_than_s is None else older_than_s
    now = now or utcnow()
    requeued: list[str] = []
    for tenant in sorted(str(t) for t in records.r.smembers(records.tenants_key())):
        for job_id in sorted(str(j) for j in records.r.smembers(records.active_jobs_key(tenant))):
            try:
                job = records.get_job(job_id, tenant)
            except NotFound:
                continue  # expired: tenants.active_jobs prunes it
            if not _stale(services, job, period, now):
                continue
            guard = f"{records.p}:requeued:{job_id}"
            if not records.r.set(guard, "1", nx=True, ex=max(int(period), 1)):
                continue
            queue.submit_job(job_id)
            records.update_job(job_id, _note_requeue)
            log.warning("job %s was %s with no worker holding it; republished", job_id, job.status)
            requeued.append(job_id)
    return requeued


def _stale(services: Services, job: JobState, period: float, now: datetime) -> bool:
    if job.status in TERMINAL_JOB_STATUSES:
        return False
    if job.status == "running" and services.records.r.exists(services.records.lock_key(f"job:{job.id}")):
        return False  # a worker holds its lease
    last = job.history[-1].at if job.history else job.created_at
    return (now - last).total_seconds() >= period


def _note_requeue(job: JobState) -> JobState | None:
    if job.status in TERMINAL_JOB_STATUSES:
        return None
    job.history.append(JobEvent(event="requeued", detail="no worker had it: its queue message was lost"))
    return job
