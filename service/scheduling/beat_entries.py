"""The redbeat side: one beat entry per active schedule, written to Redis so a running beat picks up
new, changed and removed schedules without a restart (within `reporting.beat_max_interval_s`).

An entry does not carry the schedule's timing. It tells beat how often to look at the schedule
(`ticks.check_period`); the scheduler class in workers/beat.py then decides, from the schedule record,
whether a tick is due. So cron expressions are evaluated in the schedule's own time zone (redbeat's
crontab only knows one app-wide zone) and every change of the record counts at the next look.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from functools import cache
from typing import Any

from celery import Celery
from celery.schedules import schedule as every
from redbeat import RedBeatSchedulerEntry

from service.config import Settings
from service.queue import make_celery
from service.scheduling.models import Schedule
from service.scheduling.ticks import check_period

CHECK_TASK = "longdoc.schedule.check"  # handled inside the beat process, never sent to a worker
SWEEP_TASK = "longdoc.schedule.sweep"  # likewise: collect finished runs
ENTRY_PREFIX = "schedule:"


def redbeat_config(settings: Settings) -> dict[str, Any]:
    """Celery settings for beat with redbeat, shared by the beat process and entry writers."""
    rep = settings.reporting
    return {
        "redbeat_redis_url": settings.effective_redis_url(),
        "redbeat_key_prefix": f"{settings.key_prefix}:redbeat:",
        "redbeat_redis_options": {"retry_period": 30},  # ride out a short Redis outage instead of dying
        "redbeat_lock_timeout": rep.beat_lock_timeout_s,
        "beat_max_loop_interval": rep.beat_max_interval_s,
        "beat_scheduler": "workers.beat:LongdocScheduler",
        "beat_schedule": {
            "longdoc-sweep": {"task": SWEEP_TASK, "schedule": timedelta(seconds=rep.sweep_interval_s)}
        },
    }


@cache
def _app(redis_url: str, key_prefix: str) -> Celery:
    settings = Settings(redis_url=redis_url, key_prefix=key_prefix)
    app = make_celery(settings, "longdoc-schedules")
    app.conf.update(redbeat_config(settings))
    return app


def entry_app(settings: Settings) -> Celery:
    """A Celery app that only writes redbeat entries (one per Redis and prefix, kept for the process)."""
    return _app(settings.effective_redis_url(), settings.key_prefix)


def sync_entry(settings: Settings, schedule: Schedule) -> None:
    """Create or replace the beat entry of an active schedule; remove it for a paused one."""
    app = entry_app(settings)
    name = ENTRY_PREFIX + schedule.id
    if schedule.paused:
        delete_entry(settings, schedule.id)
        return
    period = check_period(schedule, settings.reporting.schedule_check_max_s)
    entry = RedBeatSchedulerEntry(
        name, CHECK_TASK, every(timedelta(seconds=period)), args=[schedule.id], app=app
    )
    entry.save()


def delete_entry(settings: Settings, schedule_id: str) -> None:
    app = entry_app(settings)
    key = RedBeatSchedulerEntry.generate_key(app, ENTRY_PREFIX + schedule_id)
    with contextlib.suppress(KeyError):  # already gone
        RedBeatSchedulerEntry.from_key(key, app=app).delete()
