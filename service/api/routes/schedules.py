"""/v1/schedules: create, list, read, change, pause/resume, delete, trigger now, run history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from service.api.deps import LimitQuery, OffsetQuery, QueueDep, ServicesDep, TenantDep
from service.scheduling import runner
from service.scheduling.models import Schedule, ScheduleFields, ScheduleIn, ScheduleRun

router = APIRouter(prefix="/v1/schedules", tags=["schedules"])


@router.post("", status_code=201, response_model=Schedule)
def create_schedule(body: ScheduleIn, services: ServicesDep, tenant: TenantDep) -> Any:
    """A cron expression (in `timezone`) or an interval, a job template, and a missed-run policy."""
    return runner.create(services, body, tenant)


@router.get("")
def list_schedules(
    services: ServicesDep,
    tenant: TenantDep,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 50,
) -> dict[str, Any]:
    total, items = runner.store(services).list_schedules(tenant, offset, limit)
    return {"total": total, "items": [s.model_dump(mode="json") for s in items]}


@router.get("/{schedule_id}", response_model=Schedule)
def get_schedule(schedule_id: str, services: ServicesDep, tenant: TenantDep) -> Any:
    return runner.store(services).get(schedule_id, tenant)


@router.patch("/{schedule_id}", response_model=Schedule)
def update_schedule(schedule_id: str, patch: ScheduleFields, services: ServicesDep, tenant: TenantDep) -> Any:
    """Change any field; beat sees it at its next look, without a restart."""
    return runner.update(services, schedule_id, patch, tenant)


@router.post("/{schedule_id}/pause", response_model=Schedule)
def pause_schedule(schedule_id: str, services: ServicesDep, tenant: TenantDep) -> Any:
    return runner.set_paused(services, schedule_id, tenant, True)


@router.post("/{schedule_id}/resume", response_model=Schedule)
def resume_schedule(schedule_id: str, services: ServicesDep, tenant: TenantDep) -> Any:
    """Resume; ticks that passed while paused are not run."""
    return runner.set_paused(services, schedule_id, tenant, False)


@router.delete("/{schedule_id}", status_code=204)
def delete_schedule(schedule_id: str, services: ServicesDep, tenant: TenantDep) -> Response:
    runner.delete(services, schedule_id, tenant)
    return Response(status_code=204)


@router.post("/{schedule_id}/run", status_code=202, response_model=ScheduleRun)
def run_schedule_now(schedule_id: str, services: ServicesDep, queue: QueueDep, tenant: TenantDep) -> Any:
    """Trigger a run now, outside the timing."""
    return runner.run_now(services, queue, schedule_id, tenant)


@router.get("/{schedule_id}/runs")
def list_runs(
    schedule_id: str,
    services: ServicesDep,
    tenant: TenantDep,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 50,
) -> dict[str, Any]:
    """Run history, newest first: job id, status, timings, usage, cost, resolved window."""
    runner.store(services).get(schedule_id, tenant)
    total, items = runner.store(services).runs(schedule_id, offset, limit)
    return {"total": total, "items": [r.model_dump(mode="json") for r in items]}
