"""Celery tasks: thin adapters that call service.pipeline.

No retry of job failures here: the pipeline marks jobs failed with a reason, and the model client owns the
one retry layer for provider calls. Redelivery after a lost worker is handled by acks_late plus the
attempt counter in the job record. The one thing decided here is what to do with a delivery that finds
the job's lock held by someone else (see `run_job_task`). Webhook deliveries are the one task that
retries by itself (bounded, backoff with jitter): a receiver being down is the expected failure.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from billiard.exceptions import TimeLimitExceeded
from celery.signals import task_failure

from service import webhooks
from service.config import Settings
from service.errors import LongdocError
from service.models import TERMINAL_JOB_STATUSES, JobState
from service.pipeline import Services, build_services, extract_content, fail_job, run_job
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
        _job_webhook(svc, job)
        return job.status
    w = svc.settings.worker
    if self.request.retries > w.hard_time_limit_s // max(w.job_lock_ttl_s, 1) + 2:
        log.warning(
            "job %s: lock still held after %d looks; giving up this delivery", job_id, self.request.retries
        )
        return job.status
    log.info("job %s is locked by another delivery; looking again in %d s", job_id, w.job_lock_ttl_s)
    raise self.retry(countdown=w.job_lock_ttl_s)


# ---------------------------------------------------------------- webhooks


def _job_webhook(svc: Services, job: JobState) -> None:
    webhooks.notify_job_finished(app, svc.records, job)


@app.task(bind=True, name=webhooks.WEBHOOK_TASK, max_retries=None)  # type: ignore[untyped-decorator]
def deliver_webhook_task(self: Any, tenant: str, url: str, payload: dict[str, Any]) -> str:
    """One delivery attempt; a failed one is retried after backoff with jitter, up to the setting's bound."""
    svc = services()
    entry = webhooks.attempt(
        svc.settings, webhooks.store_for(svc.records), tenant, url, payload, self.request.retries + 1
    )
    if entry["status"] == "retrying":
        raise self.retry(countdown=entry["retry_in_s"])
    return str(entry["status"])


@task_failure.connect  # type: ignore[untyped-decorator]
def _job_hit_hard_time_limit(
    sender: Any = None, exception: BaseException | None = None, args: Any = None, **_: Any
) -> None:
    """A job whose process the hard time limit killed is acked by Celery and would stay "running";
    the worker's main process records it as failed (the soft limit normally fires first)."""
    if getattr(sender, "name", None) == JOB_TASK and isinstance(exception, TimeLimitExceeded) and args:
        limit = services().settings.worker.hard_time_limit_s
        fail_job(
            services(),
            str(args[0]),
            LongdocError(f"the job ran past the hard time limit of {limit} s", code="timeout"),
        )
