"""The Redis layout of schedules and runs.

<p>:schedule:<id>              Schedule JSON
<p>:schedules:<tenant>         zset  schedule id -> creation time
<p>:schedule:<id>:runs         zset  run id -> creation time (newest MAX_RUNS kept)
<p>:run:<id>                   ScheduleRun JSON
<p>:runs:open                  zset  run id -> creation time, runs whose job has not ended yet
<p>:schedule:<id>:tick:<ts>    the per-tick guard: SET NX, so a tick runs once whoever fires it
"""

from __future__ import annotations

from datetime import datetime

from service.errors import NotFound
from service.records import Records
from service.scheduling.models import Schedule, ScheduleRun

MAX_RUNS = 500


class ScheduleStore:
    def __init__(self, records: Records):
        self.r = records.r
        self.p = records.p
        self.ttl = records.ttl

    def _key(self, schedule_id: str) -> str:
        return f"{self.p}:schedule:{schedule_id}"

    def _index(self, tenant: str) -> str:
        return f"{self.p}:schedules:{tenant}"

    def _runs(self, schedule_id: str) -> str:
        return f"{self.p}:schedule:{schedule_id}:runs"

    def _run(self, run_id: str) -> str:
        return f"{self.p}:run:{run_id}"

    @property
    def open_key(self) -> str:
        return f"{self.p}:runs:open"

    # ------------------------------------------------------------ schedules
    def put(self, schedule: Schedule) -> None:
        pipe = self.r.pipeline()
        # last_tick lives in its own key: beat writes it, the API writes the rest, neither clobbers
        pipe.set(self._key(schedule.id), schedule.model_dump_json(exclude={"last_tick"}))
        pipe.zadd(self._index(schedule.tenant), {schedule.id: schedule.created_at.timestamp()})
        pipe.execute()

    def get(self, schedule_id: str, tenant: str | None = None) -> Schedule:
        raw = self.r.get(self._key(schedule_id))
        schedule = Schedule.model_validate_json(raw) if raw else None
        if schedule is None or (tenant is not None and schedule.tenant != tenant):
            raise NotFound(f"schedule {schedule_id!r} not found", code="schedule_not_found")
        last = self.r.get(f"{self._key(schedule_id)}:last_tick")
        schedule.last_tick = datetime.fromisoformat(str(last)) if last else None
        return schedule

    def set_last_tick(self, schedule_id: str, tick: datetime) -> None:
        self.r.set(f"{self._key(schedule_id)}:last_tick", tick.isoformat())

    def list_schedules(self, tenant: str, offset: int = 0, limit: int = 50) -> tuple[int, list[Schedule]]:
        ids = [str(i) for i in self.r.zrevrange(self._index(tenant), offset, offset + limit - 1)]
        raws = self.r.mget([self._key(i) for i in ids]) if ids else []
        items = [Schedule.model_validate_json(raw) for raw in raws if raw]
        return int(self.r.zcard(self._index(tenant))), items

    def delete(self, schedule: Schedule) -> None:
        pipe = self.r.pipeline()
        pipe.delete(self._key(schedule.id), f"{self._key(schedule.id)}:last_tick")
        pipe.zrem(self._index(schedule.tenant), schedule.id)
        pipe.execute()

    # ------------------------------------------------------------ ticks and runs
    def claim_tick(self, schedule: Schedule, tick: datetime) -> bool:
        """True for exactly one caller per (schedule, tick), whichever process or beat asks."""
        key = f"{self._key(schedule.id)}:tick:{tick.timestamp():.3f}"
        keep_s = max(3600, int(2 * (schedule.interval_s or 86400)))
        return bool(self.r.set(key, "1", nx=True, ex=keep_s))

    def put_run(self, run: ScheduleRun, is_open: bool) -> None:
        pipe = self.r.pipeline()
        pipe.set(self._run(run.id), run.model_dump_json(), ex=self.ttl)
        pipe.zadd(self._runs(run.schedule_id), {run.id: run.created_at.timestamp()})
        pipe.zremrangebyrank(self._runs(run.schedule_id), 0, -MAX_RUNS - 1)
        if is_open:
            pipe.zadd(self.open_key, {run.id: run.created_at.timestamp()})
        else:
            pipe.zrem(self.open_key, run.id)
        pipe.execute()

    def get_run(self, run_id: str) -> ScheduleRun | None:
        raw = self.r.get(self._run(run_id))
        return ScheduleRun.model_validate_json(raw) if raw else None

    def runs(self, schedule_id: str, offset: int = 0, limit: int = 50) -> tuple[int, list[ScheduleRun]]:
        """Newest first."""
        ids = [str(i) for i in self.r.zrevrange(self._runs(schedule_id), offset, offset + limit - 1)]
        raws = self.r.mget([self._run(i) for i in ids]) if ids else []
        items = [ScheduleRun.model_validate_json(raw) for raw in raws if raw]
        return int(self.r.zcard(self._runs(schedule_id))), items

    def open_runs(self, limit: int = 100) -> list[str]:
        return [str(i) for i in self.r.zrange(self.open_key, 0, limit - 1)]

    def drop_open(self, run_id: str) -> None:
        self.r.zrem(self.open_key, run_id)
