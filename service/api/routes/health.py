"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.api.deps import QueueDep, ServicesDep
from service.auth import AuthGate

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, services: ServicesDep, queue: QueueDep) -> Any:
    """Redis answers and at least one worker replies to a ping; also says whether auth is on."""
    auth: AuthGate = request.app.state.auth
    checks: dict[str, Any] = {}
    try:
        checks["redis"] = bool(services.records.r.ping())
    except Exception as exc:  # any failure to reach Redis means not ready
        checks["redis"] = False
        checks["redis_error"] = type(exc).__name__
    workers = queue.workers_alive(1.0) if checks["redis"] else 0
    checks["workers"] = workers
    ready = bool(checks["redis"]) and workers > 0
    body = {"status": "ready" if ready else "not_ready", "checks": checks, "engine": _engine(services)}
    if checks["redis"]:
        body["auth"] = auth.describe()
    return JSONResponse(
        body, status_code=200 if ready else 503, headers=None if ready else {"Retry-After": "2"}
    )


def _engine(services: ServicesDep) -> str:
    return "llm" if services.settings.online else "offline"
