"""/v1/jobs/{id}/events: live job progress as Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from service import events
from service.api.deps import ServicesDep, TenantDep

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "SSE stream of job events"}},
)
def job_events(
    job_id: str,
    request: Request,
    services: ServicesDep,
    tenant: TenantDep,
    replay: bool = Query(False, description="Send every recorded event from the start first."),
    last_event_id: str | None = Header(None, description="Resume after this event id (SSE reconnect)."),
) -> StreamingResponse:
    """Stream `state` (the current state, first), `progress` events (status, stage, percent, output
    tokens) and a final `done` event (status succeeded, failed or cancelled); then the stream ends.
    A comment line is sent every `reporting.sse_heartbeat_s` seconds while nothing happens."""
    services.records.get_job(job_id, tenant)  # 404 for unknown or foreign jobs, before streaming
    settings = services.settings
    after = last_event_id or ("0" if replay else None)

    async def body() -> AsyncIterator[str]:
        r = aioredis.Redis.from_url(settings.effective_redis_url(), decode_responses=True)
        try:
            async for chunk in events.sse_events(
                r,
                settings.key_prefix,
                job_id,
                services.records.job_key(job_id),
                settings.reporting.sse_heartbeat_s,
                after,
                request.is_disconnected,
            ):
                yield chunk
        finally:
            await r.aclose()

    return StreamingResponse(body(), media_type="text/event-stream", headers=SSE_HEADERS)
