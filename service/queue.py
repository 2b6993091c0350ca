"""The only place that knows Celery from the service side: configuration, submit by task name, worker ping.

The worker app (workers/celery_app.py) is configured from the same `celery_config`, so producers and
consumers agree on serializer, queues and the Redis visibility timeout (Celery reads the latter in
three places; a shorter value anywhere silently wins).
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from service.config import Settings

EXTRACT_TASK = "longdoc.extract"
JOB_TASK = "longdoc.run_job"
EXTRACT_QUEUE = "longdoc.extract"
JOB_QUEUE = "longdoc.jobs"


def celery_config(settings: Settings) -> dict[str, Any]:
    url = settings.effective_redis_url()
    w = settings.worker
    transport = {"visibility_timeout": w.visibility_timeout_s}
    return {
        "broker_url": url,
        "result_backend": url,
        "broker_transport_options": transport,
        "result_backend_transport_options": transport,
        "visibility_timeout": w.visibility_timeout_s,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": w.soft_time_limit_s,
        "task_time_limit": w.hard_time_limit_s,
        "worker_max_tasks_per_child": w.max_tasks_per_child,
        "result_expires": settings.result_ttl_s,
        "task_ignore_result": True,  # job state and results live in our own records
        "task_routes": {EXTRACT_TASK: {"queue": EXTRACT_QUEUE}, JOB_TASK: {"queue": JOB_QUEUE}},
        "task_default_queue": JOB_QUEUE,
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "broker_heartbeat": 0,
    }


def make_celery(settings: Settings, main: str = "longdoc") -> Celery:
    app = Celery(main)
    app.conf.update(celery_config(settings))
    return app


class JobQueue:
    """Submits work to the workers and asks whether any are alive."""

    def __init__(self, settings: Settings):
        self.app = make_celery(settings, "longdoc-client")

    def submit_extraction(self, sha256: str) -> None:
        self.app.send_task(EXTRACT_TASK, args=[sha256], queue=EXTRACT_QUEUE)

    def submit_job(self, job_id: str) -> None:
        self.app.send_task(JOB_TASK, args=[job_id], queue=JOB_QUEUE, task_id=f"task-{job_id}")

    def revoke_job(self, job_id: str) -> None:
        self.app.control.revoke(f"task-{job_id}")

    def workers_alive(self, timeout_s: float = 1.0) -> int:
        replies = self.app.control.ping(timeout=timeout_s)
        return len(replies or [])

    def close(self) -> None:
        self.app.close()
