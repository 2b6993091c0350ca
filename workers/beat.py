"""Celery beat for longdoc: redbeat (schedule in Redis, a lock so one beat ticks) plus our scheduler.

Run with `longdoc beat`. Every schedule has a redbeat entry whose task name is `CHECK_TASK`; instead
of sending it to a worker, `LongdocScheduler.apply_async` handles it here: `runner.fire` decides
whether a tick is due, claims it with a Redis SET NX on (schedule, tick) — so even two schedulers
that both hold no lock cannot run a tick twice — and submits the job through `service.jobs.submit`.
The static `SWEEP_TASK` entry closes runs whose jobs ended and, every RECOVERY_EVERY_S, republishes
jobs whose queue message was lost (`service.recovery`).
"""

from __future__ import annotations

import logging
import time
from functools import cached_property
from typing import Any

from celery import Celery
from redbeat import RedBeatScheduler

from service import recovery
from service.config import Settings
from service.pipeline import Services, build_services
from service.queue import JobQueue, make_celery
from service.scheduling import runner
from service.scheduling.beat_entries import CHECK_TASK, SWEEP_TASK, redbeat_config

log = logging.getLogger("longdoc.beat")
RECOVERY_EVERY_S = 60.0


def create_beat_app(settings: Settings) -> Celery:
    app = make_celery(settings, "longdoc-beat")
    app.conf.update(redbeat_config(settings))
    if not settings.reporting.beat_lock:
        app.conf.redbeat_lock_key = None  # only to prove the per-tick guard in tests
    return app


class LongdocScheduler(RedBeatScheduler):  # type: ignore[misc]
    """redbeat's scheduler; our two entry kinds are handled in-process, anything else is sent."""

    _next_recovery = 0.0

    @cached_property
    def services(self) -> Services:
        return build_services(Settings())

    @cached_property
    def queue(self) -> JobQueue:
        return JobQueue(self.services.settings)

    def apply_async(self, entry: Any, producer: Any = None, advance: bool = True, **kwargs: Any) -> Any:
        if entry.task not in (CHECK_TASK, SWEEP_TASK):
            return super().apply_async(entry, producer=producer, advance=advance, **kwargs)
        if advance:
            entry = self.reserve(entry)  # records last_run_at, as the base class would
        try:
            if entry.task == CHECK_TASK:
                run = runner.fire(self.services, self.queue, entry.args[0])
                if run is not None:
                    log.info(
                        "schedule %s: run %s (%s) for tick %s", run.schedule_id, run.id, run.status, run.tick
                    )
            else:
                runner.sweep(self.services, self.queue)
                if time.monotonic() >= self._next_recovery:
                    self._next_recovery = time.monotonic() + RECOVERY_EVERY_S
                    recovery.requeue_stale(self.services, self.queue)
        except Exception:  # one bad schedule must not stop beat
            log.exception("beat: %s failed", entry.name)
        return None


def main() -> None:
    app = create_beat_app(Settings())
    app.start(["beat", "--loglevel=INFO", "-S", "workers.beat:LongdocScheduler"])
