"""Live job progress: each job state change is appended to a per-job Redis stream; SSE reads the stream.

Redis layout (under the key prefix):
    <p>:job:<id>:events   stream, one entry per change of status/stage/percent/output tokens;
                          field `data` = the JSON of `job_view`; capped at STREAM_MAXLEN entries and
                          expiring with the job record

Writers append inside the same MULTI that writes the job record (`Records.update_job`), so the stream
never shows a state that was not stored, and never misses one. The reader (`sse_events`) first sends the
current state (a client that connects late still learns where the job is), then follows the stream from
the entry it read before that snapshot, and ends after a terminal event. A stream with no new entries
yields a comment line every `heartbeat_s` so proxies keep the connection open.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import redis
import redis.asyncio as aioredis

from service.models import TERMINAL_JOB_STATUSES, JobState, utcnow

STREAM_MAXLEN = 500
Fingerprint = tuple[str, str, float, int]


def events_key(prefix: str, job_id: str) -> str:
    return f"{prefix}:job:{job_id}:events"


def fingerprint(job: JobState) -> Fingerprint:
    """What a progress subscriber cares about; a change of any part is an event."""
    p = job.progress
    return job.status, p.stage, p.percent, p.output_tokens


def job_view(job: JobState) -> dict[str, Any]:
    """The event payload: status and progress, plus the error code once failed."""
    p = job.progress
    view: dict[str, Any] = {
        "job_id": job.id,
        "status": job.status,
        "stage": p.stage,
        "percent": p.percent,
        "output_tokens": p.output_tokens,
        "message": p.message,
        "at": utcnow().isoformat(),
    }
    if job.error is not None:
        view["error"] = {"code": job.error.code, "message": job.error.message}
    return view


def publish(pipe: redis.client.Pipeline, prefix: str, job: JobState, ttl_s: int) -> None:
    """Queue the append of the job's current state on `pipe` (a MULTI that also writes the record)."""
    key = events_key(prefix, job.id)
    pipe.xadd(key, {"data": json.dumps(job_view(job))}, maxlen=STREAM_MAXLEN, approximate=True)
    pipe.expire(key, ttl_s)


def sse_format(event: str, data: dict[str, Any], event_id: str | None = None) -> str:
    """One Server-Sent Events message (the data is one JSON line, so no escaping is needed)."""
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _name(view: dict[str, Any]) -> str:
    return "done" if view.get("status") in TERMINAL_JOB_STATUSES else "progress"


async def _load(r: aioredis.Redis, job_key: str) -> JobState | None:
    raw: Any = await r.get(job_key)
    return JobState.model_validate_json(raw) if raw else None


async def sse_events(
    r: aioredis.Redis,
    prefix: str,
    job_id: str,
    job_key: str,
    heartbeat_s: float = 15.0,
    after: str | None = None,
    disconnected: Callable[[], Awaitable[bool]] | None = None,
) -> AsyncIterator[str]:
    """SSE text for one job until it is terminal. `after` = a stream id to resume after ("0": replay all)."""
    key = events_key(prefix, job_id)
    cursor = after
    if cursor is None:
        newest: Any = await r.xrevrange(key, count=1)
        cursor = str(newest[0][0]) if newest else "0"
        job = await _load(r, job_key)
        if job is None:
            yield sse_format("error", {"code": "job_not_found", "job_id": job_id})
            return
        view = job_view(job)
        yield sse_format("done" if _name(view) == "done" else "state", view, cursor)
        if view["status"] in TERMINAL_JOB_STATUSES:
            return
    while True:
        if disconnected is not None and await disconnected():
            return
        found: Any = await r.xread({key: cursor}, block=max(1, int(heartbeat_s * 1000)), count=100)
        if not found:
            # Quiet: a keep-alive, and a look at the record in case the stream expired under us.
            yield ": keep-alive\n\n"
            job = await _load(r, job_key)
            if job is None or job.status in TERMINAL_JOB_STATUSES:
                yield sse_format("done", job_view(job) if job else {"job_id": job_id, "status": "expired"})
                return
            continue
        for entry_id, fields in found[0][1]:
            cursor = str(entry_id)
            view = json.loads(fields["data"])
            yield sse_format(_name(view), view, cursor)
            if view.get("status") in TERMINAL_JOB_STATUSES:
                return
