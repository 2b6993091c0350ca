"""A job killed by Celery's hard time limit ends failed with a reason instead of staying "running".

Celery acks a task killed by its hard time limit and sends `task_failure` from the worker's main process
(celery/worker/request.py `on_timeout`); billiard only schedules the hard limit after the soft one, so
a real kill needs code that ignores SoftTimeLimitExceeded. This test sends that signal the way Celery
does and checks our handler against a real Redis.
"""

from __future__ import annotations

import pytest
from billiard.exceptions import TimeLimitExceeded
from celery.signals import task_failure

from service.config import Settings
from service.models import JobSpec, JobState
from service.pipeline import build_services
from service.settings_env import to_env
from workers import tasks


def test_hard_time_limit_fails_the_running_job(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in to_env(settings).items():
        monkeypatch.setenv(key, value)
    tasks.services.cache_clear()
    records = build_services(settings).records
    job = JobState(
        id="job_hardlimit", spec=JobSpec(type="summarize", document_ids=["doc_x"]), status="running"
    )
    records.create_job(job)
    other = JobState(id="job_other", spec=JobSpec(type="summarize", document_ids=["doc_x"]), status="running")
    records.create_job(other)
    try:
        task_failure.send(
            sender=tasks.run_job_task, task_id="t1", exception=TimeLimitExceeded(3), args=[job.id]
        )
        task_failure.send(
            sender=tasks.extract_task, task_id="t2", exception=TimeLimitExceeded(3), args=[other.id]
        )
        task_failure.send(sender=tasks.run_job_task, task_id="t3", exception=ValueError("x"), args=[other.id])
    finally:
        tasks.services.cache_clear()
    failed = records.get_job(job.id)
    assert failed.status == "failed" and failed.error is not None and failed.error.code == "timeout"
    assert "hard time limit" in failed.error.message
    assert records.get_job(other.id).status == "running"  # other tasks and other exceptions: untouched
