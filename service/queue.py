"""The only place that knows Celery from the service side: configuration, submit by task name, worker ping.

The worker app (workers/celery_app.py) is configured from the same `celery_config`, so producers and
consumers agree on serializer, queues and the Redis visibility timeout (Celery reads the latter in
three places; a shorter value anywhere silently wins).

Redis has no acks: a message a dead worker held comes back only when a sweep finds it older than the
visibility timeout. kombu sweeps every `unacked_restore_interval * unacked_restore_throttle` seconds
(100 s by default), so both are scaled to the timeout: a short timeout gets a prompt sweep.
"""

from __future__ import annotations

import time
from typing import Any

from celery import Celery
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from service.config import Settings, WorkerSettings
from service.errors import ServiceUnavailable

# Publishing can fail in the broker (kombu) or, since Celery binds the result store on send, in the
# Redis result backend, which signals "gave up reconnecting" with a RuntimeError.
_FAST_FAIL = {"max_retries": 3, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
_QUEUE_DOWN = (OperationalError, RedisError, RuntimeError, OSError)

EXTRACT_TASK = "longdoc.extract"
JOB_TASK = "longdoc.run_job"
EXTRACT_QUEUE = "longdoc.extract"
JOB_QUEUE = "longdoc.jobs"


def transport_options(w: WorkerSettings) -> dict[str, Any]:
    """Redis transport options: the visibility timeout and a restore sweep of about a tenth of it."""
    vis = w.visibility_timeout_s
    interval = max(1, min(10, vis // 10))
    throttle = max(1, min(10, vis // (10 * interval)))
    return {
        "visibility_timeout": vis,
        "unacked_restore_interval": interval,
        "unacked_restore_throttle": throttle,
    }


def celery_config(settings: Settings) -> dict[str, Any]:
    """The one Celery configuration of producers (API) and consumers (workers)."""
    url = settings.effective_redis_url()
    w = settings.worker
    transport = transport_options(w)
    return {
        "broker_url": url,
        "result_backend": url,
        "broker_transport_options": transport,
        # Publishing while Redis is away must fail in ~2 s (API answers 503), not hang for Celery's 20 s.
        "result_backend_transport_options": {**transport, "retry_policy": _FAST_FAIL},
        "task_publish_retry_policy": _FAST_FAIL,
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
        # Celery >= 5.5: a time-limited warm phase at shutdown, after which unacked messages (running,
        # reserved and countdown tasks alike) are requeued at once instead of after the visibility timeout.
        "worker_soft_shutdown_timeout": w.soft_shutdown_timeout_s,
        "worker_enable_soft_shutdown_on_idle": True,
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
        self._alive: tuple[float, int] = (0.0, 0)  # (when, count) of the last ping

    def submit_extraction(self, sha256: str) -> None:
        try:
            self.app.send_task(EXTRACT_TASK, args=[sha256], queue=EXTRACT_QUEUE)
        except _QUEUE_DOWN as exc:
            raise ServiceUnavailable(
                "the job queue is unavailable; retry shortly", code="redis_unavailable"
            ) from exc

    def submit_job(self, job_id: str) -> None:
        try:
            self.app.send_task(JOB_TASK, args=[job_id], queue=JOB_QUEUE, task_id=f"task-{job_id}")
        except _QUEUE_DOWN as exc:  # kombu gave up reconnecting to the broker or the result store
            raise ServiceUnavailable(
                "the job queue is unavailable; retry shortly", code="redis_unavailable"
            ) from exc

    def revoke_job(self, job_id: str) -> None:
        self.app.control.revoke(f"task-{job_id}")

    def workers_alive(self, timeout_s: float = 1.0, max_age_s: float = 2.0) -> int:
        """Workers answering a broadcast ping; a positive answer is reused for `max_age_s` so that
        frequent readiness probes do not each wait for the ping's timeout."""
        when, count = self._alive
        if count and time.monotonic() - when <= max_age_s:
            return count
        count = len(self.app.control.ping(timeout=timeout_s) or [])
        self._alive = (time.monotonic(), count)
        return count

    def close(self) -> None:
        self.app.close()
