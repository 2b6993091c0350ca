"""Schedules and their runs, as stored in Redis and shown over the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from service.models import ErrorInfo, JobOptions, JobType, utcnow
from service.reports.models import ReportOptions

MissedPolicy = Literal["run_once", "skip"]
Window = Literal["last_24h", "last_7d", "since_previous_run"]
RunStatus = Literal["submitted", "skipped", "succeeded", "failed", "cancelled"]


class JobTemplate(BaseModel):
    """The job each run submits. A collection is resolved to its documents at run time."""

    model_config = ConfigDict(extra="forbid")

    type: JobType = "summarize"
    collection: str | None = None
    document_ids: list[str] = Field(default_factory=list)
    question: str | None = None
    questions: list[str] | None = None
    report_template: str | None = Field(None, description="Render each run as this report template.")
    report_options: ReportOptions = Field(
        default_factory=ReportOptions, description="Options of each run's report (e.g. horizon_days)."
    )
    model: str | None = None
    options: JobOptions = Field(default_factory=JobOptions)
    window: Window | None = Field(
        None, description="Relative time window of a log report, resolved at run time."
    )

    @model_validator(mode="after")
    def _documents_or_collection(self) -> JobTemplate:
        if not self.document_ids and not self.collection:
            raise ValueError("name document_ids or a collection")
        return self


class ScheduleFields(BaseModel):
    """What a client may set; every field optional so PATCH can reuse it."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    cron: str | None = Field(None, description="Five-field cron expression, in `timezone`.")
    interval_s: float | None = Field(None, ge=1.0, le=366 * 86400, description="Or: every N seconds.")
    timezone: str | None = Field(None, description="IANA zone of the cron expression, e.g. Europe/Berlin.")
    missed: MissedPolicy | None = Field(
        None, description="A tick missed while beat was down: run_once on recovery, or skip it."
    )
    template: JobTemplate | None = None
    callback_url: str | None = Field(None, pattern=r"^https?://", max_length=2000)
    paused: bool | None = None

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and (len(value.split()) != 5 or not croniter.is_valid(value)):
            raise ValueError(f"{value!r} is not a five-field cron expression")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class ScheduleIn(ScheduleFields):
    name: str = Field(min_length=1, max_length=200)
    template: JobTemplate

    @model_validator(mode="after")
    def _one_timing(self) -> ScheduleIn:
        if (self.cron is None) == (self.interval_s is None):
            raise ValueError("give exactly one of cron and interval_s")
        return self


class Schedule(BaseModel):
    id: str
    tenant: str
    name: str
    cron: str | None = None
    interval_s: float | None = None
    timezone: str = "UTC"
    missed: MissedPolicy = "run_once"
    template: JobTemplate
    callback_url: str | None = None
    paused: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    anchor: datetime = Field(default_factory=utcnow, description="Interval ticks are anchor + k * interval.")
    last_tick: datetime | None = Field(None, description="The latest tick that ran or was skipped.")


class ScheduleRun(BaseModel):
    id: str
    schedule_id: str
    tenant: str
    tick: datetime = Field(description="The scheduled time this run belongs to (now, for a manual run).")
    trigger: Literal["schedule", "manual"] = "schedule"
    missed: bool = Field(
        False, description="True when beat was down: this tick was late or older ones missed."
    )
    status: RunStatus = "submitted"
    job_id: str | None = None
    window: dict[str, datetime] | None = Field(
        None,
        description="The resolved log window {start, end}; the job filters log events to it (options.time_range).",
    )
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    usage: dict[str, Any] | None = None
    cost: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    report_id: str | None = None
