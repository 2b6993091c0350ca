"""Celery tasks: thin adapters that call service.pipeline.

No retry of failures here: the pipeline marks jobs failed with a reason, and the model client owns the
one retry layer for provider calls. Redelivery after a lost worker is handled by acks_late plus the
attempt counter in the job record. The one thing decided here is what to do with a delivery that finds
the job's lock held by someone else (see `run_job_task`).
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from service.config import Settings
from service.models import TERMINAL_JOB_STATUSES
from service.pipeline import Services, build_services, extract_content, run_job
from service.queue import EXTRACT_TASK, JOB_TASK
from workers.celery_app import app

log = logging.getLogger("longdoc.tasks")


@cache
def services() -> Services:
    return build_services(Settings())


@app.task(name=EXTRACT_TASK)  # type: ignore[untyped-decorator]
def extract_task(sha256: str) -> str | None:
    content = extract_content(services(), sha256)
    return content.status if content else None


@app.task(bind=True, name=JOB_TASK, max_retries=None)  # type: ignore[untyped-decorator]
def run_job_task(self: Any, job_id: str) -> str:
    """Run the job; if its lock is held elsewhere, look again after one lock lease.

    A held lock means either a live duplicate (the Redis visibility timeout redelivered a job that is
    still running: it will finish it) or a worker that was just killed (its lease lapses within
    `job_lock_ttl_s`, then this delivery takes over). Dropping the message would lose the job in the
    second case, so the task re-publishes itself with a countdown until the job is terminal. Bounded:
    a live holder finishes within the hard time limit.
    """
    svc = services()
    job = run_job(svc, job_id)
    if job.status in TERMINAL_JOB_STATUSES:
        return job.status
    w = svc.settings.worker
    if self.request.retries > w.hard_time_limit_s // max(w.job_lock_ttl_s, 1) + 2:
        log.warning(
            "job %s: lock still held after %d looks; giving up this delivery", job_id, self.request.retries
        )
        return job.status
    log.info("job %s is locked by another delivery; looking again in %d s", job_id, w.job_lock_ttl_s)
    raise self.retry(countdown=w.job_lock_ttl_s)
