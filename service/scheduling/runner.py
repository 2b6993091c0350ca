"""Schedule operations: create, change, pause, delete; fire a due tick; trigger now; finish runs.

`fire` runs inside the beat process (workers/beat.py) when a schedule's entry comes up; `sweep` runs
there too, every `reporting.sweep_interval_s`, and closes runs whose jobs have ended. Jobs are submitted
through `service.jobs.submit`, so scheduled jobs take the normal worker path.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from service import collections, egress, jobs, webhooks
from service.errors import BadRequest, LongdocError, NotFound
from service.models import TERMINAL_JOB_STATUSES, ErrorInfo, JobSpec, JobState, utcnow
from service.pipeline import Services
from service.queue import JobQueue
from service.reports import service as reports
from service.reports.models import ReportTemplate
from service.scheduling import beat_entries
from service.scheduling.models import JobTemplate, Schedule, ScheduleFields, ScheduleIn, ScheduleRun
from service.scheduling.store import ScheduleStore
from service.scheduling.ticks import check_period, decide, latest_tick

log = logging.getLogger("longdoc.schedules")
WINDOWS = {"last_24h": timedelta(hours=24), "last_7d": timedelta(days=7)}


def store(services: Services) -> ScheduleStore:
    return ScheduleStore(services.records)


def _check_template(services: Services, template: JobTemplate | None) -> None:
    """Refuse an unknown collection name or report template when the schedule is saved, not at its run."""
    if template is None:
        return
    if template.collection:
        collections.check_name(template.collection)
    if template.report_template:
        try:
            reports.template(services, template.report_template)
        except NotFound as exc:
            raise BadRequest(exc.message, code="unknown_report_template") from exc


def create(services: Services, body: ScheduleIn, tenant: str) -> Schedule:
    _check_template(services, body.template)
    if body.callback_url:
        egress.check_submitted(body.callback_url, services.settings.reporting.webhook_allow_private)
    fields = body.model_dump(exclude_none=True)
    schedule = Schedule(id=f"sch_{uuid.uuid4().hex[:16]}", tenant=tenant, **fields)
    store(services).put(schedule)
    beat_entries.sync_entry(services.settings, schedule)
    return schedule


def update(services: Services, schedule_id: str, patch: ScheduleFields, tenant: str) -> Schedule:
    """Apply the given fields; a new timing restarts the interval phase from now."""
    schedule = store(services).get(schedule_id, tenant)
    _check_template(services, patch.template)
    changes = patch.model_dump(exclude_unset=True)
    if "cron" in changes and changes["cron"] is not None:
        changes["interval_s"] = None
    if "interval_s" in changes and changes["interval_s"] is not None:
        changes["cron"] = None
    merged = schedule.model_copy(update=changes)
    ScheduleIn.model_validate(merged.model_dump(include=set(ScheduleIn.model_fields)))  # one timing, etc.
    if merged.callback_url:
        egress.check_submitted(merged.callback_url, services.settings.reporting.webhook_allow_private)
    if {"cron", "interval_s", "timezone"} & changes.keys():
        merged.anchor = utcnow()
    if changes.get("paused") is False and schedule.paused:
        _resume_marks(services, merged)
    merged.updated_at = utcnow()
    store(services).put(merged)
    beat_entries.sync_entry(services.settings, merged)
    return merged


def _resume_marks(services: Services, schedule: Schedule) -> None:
    """Ticks that passed while paused are not 'missed': they are marked as handled."""
    store(services).set_last_tick(schedule.id, latest_tick(schedule, utcnow()))


def set_paused(services: Services, schedule_id: str, tenant: str, paused: bool) -> Schedule:
    return update(services, schedule_id, ScheduleFields(paused=paused), tenant)


def delete(services: Services, schedule_id: str, tenant: str) -> None:
    schedule = store(services).get(schedule_id, tenant)
    beat_entries.delete_entry(services.settings, schedule.id)
    store(services).delete(schedule)


# ---------------------------------------------------------------- running


def fire(
    services: Services, queue: JobQueue, schedule_id: str, now: datetime | None = None
) -> ScheduleRun | None:
    """Beat's look at one schedule: run (or skip) the due tick if nobody did yet. None: nothing due."""
    now = now or utcnow()
    st = store(services)
    try:
        schedule = st.get(schedule_id)
    except NotFound:
        beat_entries.delete_entry(services.settings, schedule_id)  # deleted meanwhile
        return None
    rep = services.settings.reporting
    due = decide(schedule, now, check_period(schedule, rep.schedule_check_max_s), rep.late_grace_s)
    log.debug("schedule %s: %s (last tick %s)", schedule.id, due, schedule.last_tick)
    if due is None or not st.claim_tick(schedule, due.tick):
        return None
    st.set_last_tick(schedule.id, due.tick)
    if due.late and schedule.missed == "skip":
        run = _new_run(schedule, due.tick, "schedule", missed=True)
        run.status, run.finished_at = "skipped", utcnow()
        st.put_run(run, is_open=False)
        log.info("schedule %s: tick %s was missed; skipped (policy)", schedule.id, due.tick.isoformat())
        return run
    missed = due.late or due.missed_before
    return _start_run(services, queue, schedule, _new_run(schedule, due.tick, "schedule", missed))


def run_now(services: Services, queue: JobQueue, schedule_id: str, tenant: str) -> ScheduleRun:
    """Trigger a run at once, outside the timing (the tick guard does not apply)."""
    schedule = store(services).get(schedule_id, tenant)
    return _start_run(services, queue, schedule, _new_run(schedule, utcnow(), "manual", False))


def _new_run(schedule: Schedule, tick: datetime, trigger: str, missed: bool) -> ScheduleRun:
    return ScheduleRun.model_validate(
        {
            "id": f"run_{uuid.uuid4().hex[:16]}",
            "schedule_id": schedule.id,
            "tenant": schedule.tenant,
            "tick": tick,
            "trigger": trigger,
            "missed": missed,
        }
    )


def resolve_window(st: ScheduleStore, schedule: Schedule, tick: datetime) -> dict[str, datetime] | None:
    """The template's relative window as absolute times ending at the tick."""
    window = schedule.template.window
    if window is None:
        return None
    if window in WINDOWS:
        return {"start": tick - WINDOWS[window], "end": tick}
    _, previous = st.runs(schedule.id, 0, 5)
    earlier = [r for r in previous if r.tick < tick and r.status != "skipped"]
    fallback = tick - timedelta(seconds=schedule.interval_s or 86400)
    return {"start": earlier[0].tick if earlier else fallback, "end": tick}


def _job_spec(
    services: Services, t: JobTemplate, window: dict[str, datetime] | None = None
) -> tuple[JobSpec, ReportTemplate | None]:
    """The run's job; with a report template, one question per section of it. A resolved window
    becomes the job's `options.time_range`, so log jobs only see events inside it."""
    base = t.model_dump(include={"document_ids", "collection", "question", "questions", "model", "options"})
    if window is not None:
        options = dict(base.get("options") or {})
        options["time_range"] = {"from": window["start"], "to": window["end"]}
        base["options"] = options
    if t.report_template is None:
        return JobSpec.model_validate({"type": t.type, **base}), None
    tpl = reports.template(services, t.report_template)
    return reports.job_spec(tpl, base), tpl


def _start_run(services: Services, queue: JobQueue, schedule: Schedule, run: ScheduleRun) -> ScheduleRun:
    st = store(services)
    run.window = resolve_window(st, schedule, run.tick)
    try:
        spec, tpl = _job_spec(services, schedule.template, run.window)
        job = jobs.submit(services, queue, spec, schedule.tenant)
    except LongdocError as exc:
        run.status, run.finished_at = "failed", utcnow()
        run.error = ErrorInfo(code=exc.code, message=exc.message, details=exc.details)
        st.put_run(run, is_open=False)
        log.info("schedule %s: run %s could not start: %s", schedule.id, run.id, exc.code)
        return run
    run.job_id = job.id
    if tpl is not None:
        fields: dict[str, Any] = {"schedule_id": schedule.id, "run_id": run.id, "window": run.window}
        fields["options"] = schedule.template.report_options
        report = reports.new_report(tpl, schedule.tenant, job, f"schedule:{schedule.id}", **fields)
        report.title = f"{tpl.title}: {schedule.name}"
        reports.store(services).create(report)
        run.report_id = report.id
    st.put_run(run, is_open=True)
    return run


def sweep(services: Services, queue: JobQueue | None = None, limit: int = 100) -> list[ScheduleRun]:
    """Close runs whose jobs have ended: status, timings, usage, cost; build their reports; send the
    schedule's webhook (with `queue`, whose Celery app carries it to a worker). Returns the runs closed."""
    st = store(services)
    closed: list[ScheduleRun] = []
    for run_id in st.open_runs(limit):
        run = st.get_run(run_id)
        if run is None or run.job_id is None:
            st.drop_open(run_id)
            continue
        try:
            job = services.records.get_job(run.job_id)
        except NotFound:
            job = None
        if job is not None and job.status not in TERMINAL_JOB_STATUSES:
            continue
        _close(run, job)
        st.put_run(run, is_open=False)
        if run.report_id:  # built now, so the next run can compare with it and webhooks can name it
            reports.get(services, run.report_id)
        if queue is not None:
            _notify(services, queue, run)
        closed.append(run)
    return closed


def run_event(schedule: Schedule, run: ScheduleRun) -> dict[str, Any]:
    """The schedule.run.finished webhook payload."""
    body: dict[str, Any] = {
        "event": "schedule.run.finished",
        "event_id": f"schedule.run.finished:{run.id}",
        "schedule_id": schedule.id,
        "schedule_name": schedule.name,
        **run.model_dump(
            mode="json", include={"job_id", "status", "tick", "started_at", "finished_at", "error"}
        ),
        "run_id": run.id,
        "links": {"runs": f"/v1/schedules/{schedule.id}/runs"},
    }
    if run.job_id:
        body["links"]["job"] = f"/v1/jobs/{run.job_id}"
    if run.report_id:
        body["report_id"] = run.report_id
        body["links"]["report"] = f"/v1/reports/{run.report_id}"
    return body


def _notify(services: Services, queue: JobQueue, run: ScheduleRun) -> None:
    try:
        schedule = store(services).get(run.schedule_id)
    except NotFound:
        return
    if schedule.callback_url:
        try:
            webhooks.enqueue(
                queue.app,
                webhooks.store_for(services.records),
                run.tenant,
                schedule.callback_url,
                run_event(schedule, run),
            )
        except Exception:  # the run is closed either way
            log.exception("schedule %s: run %s webhook could not be enqueued", schedule.id, run.id)


def _close(run: ScheduleRun, job: JobState | None) -> None:
    if job is None:
        run.status, run.finished_at = "failed", utcnow()
        run.error = ErrorInfo(code="job_expired", message="the run's job record is gone")
        return
    run.status = (
        "succeeded" if job.status == "succeeded" else ("cancelled" if job.status == "cancelled" else "failed")
    )
    run.started_at, run.finished_at = job.started_at, job.finished_at
    run.error = job.error
    dumped: dict[str, Any] = job.model_dump(mode="json")
    result = dumped.get("result") or {}
    run.usage = result.get("usage")
    run.cost = dumped.get("cost") or result.get("cost")
