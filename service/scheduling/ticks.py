"""Tick arithmetic, pure: which scheduled time is due now, how often beat must look, and lateness.

Beat looks at each schedule every `check_period` (at most half an interval, so no tick falls between
two looks) and handles the latest tick at or before now unless it was handled already. Older ticks that
were never handled (beat was down) are not run one by one: they are `missed` and only noted. The latest
tick itself is `late` when found more than one check period plus `grace_s` after its time; then the
schedule's policy decides: `run_once` runs it now, `skip` records it as skipped and waits for the next.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from service.scheduling.models import Schedule

CRON_CHECK_MAX_S = 20.0  # under half a minute: every cron minute is looked at at least once


def latest_tick(schedule: Schedule, now: datetime) -> datetime:
    """The latest scheduled time at or before `now` (UTC)."""
    if schedule.interval_s is not None:
        elapsed = (now - schedule.anchor).total_seconds()
        steps = max(0, math.floor(elapsed / schedule.interval_s))
        return schedule.anchor + timedelta(seconds=steps * schedule.interval_s)
    assert schedule.cron is not None
    zone = ZoneInfo(schedule.timezone)
    local = now.astimezone(zone) + timedelta(microseconds=1)  # a tick exactly at `now` counts
    previous: datetime = croniter(schedule.cron, local).get_prev(datetime)
    return previous.astimezone(UTC)


def check_period(schedule: Schedule, cap_s: float) -> float:
    """How often beat looks at this schedule (seconds)."""
    if schedule.interval_s is not None:
        return max(0.5, min(schedule.interval_s / 2, cap_s))
    return min(cap_s, CRON_CHECK_MAX_S)


@dataclass(frozen=True)
class Due:
    tick: datetime
    late: bool
    missed_before: bool  # older ticks since the last handled one were never run


def decide(schedule: Schedule, now: datetime, period_s: float, grace_s: float) -> Due | None:
    """The tick to handle now, or None when it was handled already (or the schedule is paused)."""
    if schedule.paused:
        return None
    tick = latest_tick(schedule, now)
    if tick <= schedule.anchor or (schedule.last_tick is not None and tick <= schedule.last_tick):
        return None
    late = (now - tick).total_seconds() > period_s + grace_s
    handled = schedule.last_tick or schedule.anchor
    previous = latest_tick(schedule, tick - timedelta(microseconds=1))
    return Due(tick, late, missed_before=previous > handled)
