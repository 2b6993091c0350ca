"""/v1/jobs: submit (202), read, list, cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from service import jobs
from service.api.deps import LimitQuery, OffsetQuery, QueueDep, ServicesDep, TenantDep, check_job_slot
from service.api.schemas import JobAccepted, JobList, JobOut
from service.models import DryRun, JobSpec

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post(
    "",
    status_code=202,
    response_model=JobAccepted,
    responses={200: {"model": DryRun, "description": "dry run: manifest and estimated cost"}},
    dependencies=[Depends(check_job_slot)],
)
def create_job(spec: JobSpec, services: ServicesDep, queue: QueueDep, tenant: TenantDep) -> Any:
    """Queue a summarize or qa job over ready (or still extracting) documents.

    With `"dry_run": true`: 200 with the pack manifest and estimated cost (`DryRun`); nothing runs or is
    stored, and the documents must be ready (409 `document_not_ready` otherwise)."""
    if spec.dry_run:
        return JSONResponse(jobs.dry_run(services, spec, tenant).model_dump(mode="json"))
    job = jobs.submit(services, queue, spec, tenant)
    return {"id": job.id, "status": job.status, "created_at": job.created_at}


@router.get("", response_model=JobList)
def list_jobs(
    services: ServicesDep,
    tenant: TenantDep,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 50,
) -> Any:
    total, items = services.records.list_jobs(tenant, offset, limit)
    return {"total": total, "items": items}


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: str, services: ServicesDep, tenant: TenantDep) -> Any:
    return services.records.get_job(job_id, tenant)


@router.post("/{job_id}/cancel", response_model=JobOut)
def cancel_job(job_id: str, services: ServicesDep, queue: QueueDep, tenant: TenantDep) -> Any:
    return jobs.cancel(services, queue, job_id, tenant)
