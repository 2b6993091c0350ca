"""Celery tasks: thin adapters that call service.pipeline.

No retry here: the pipeline marks jobs failed with a reason, and the model client owns the one retry
layer for provider calls. Redelivery after a lost worker is handled by acks_late plus the attempt
counter in the job record.
"""

from __future__ import annotations

from functools import cache

from service.config import Settings
from service.pipeline import Services, build_services, extract_content, run_job
from service.queue import EXTRACT_TASK, JOB_TASK
from workers.celery_app import app


@cache
def services() -> Services:
    return build_services(Settings())


@app.task(name=EXTRACT_TASK)  # type: ignore[untyped-decorator]
def extract_task(sha256: str) -> str | None:
    content = extract_content(services(), sha256)
    return content.status if content else None


@app.task(name=JOB_TASK)  # type: ignore[untyped-decorator]
def run_job_task(job_id: str) -> str:
    return run_job(services(), job_id).status
