"""Short dependency aliases for the routes.

The caller is resolved once per request by `api.middleware.AuthMiddleware`; `get_principal` only reads
the result, and refuses (fails closed) if the middleware did not run.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from service import tenants
from service.auth import Principal
from service.config import TenantLimits
from service.errors import Forbidden, Unauthorized
from service.pipeline import Services
from service.queue import JobQueue


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.queue
    return queue


def get_principal(request: Request) -> Principal:
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'", code="unauthorized")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
ServicesDep = Annotated[Services, Depends(get_services)]
QueueDep = Annotated[JobQueue, Depends(get_queue)]


def get_tenant(principal: PrincipalDep) -> str:
    """The tenant every record of this request belongs to: the API key's tenant."""
    return principal.tenant


TenantDep = Annotated[str, Depends(get_tenant)]


def require_admin(principal: PrincipalDep) -> Principal:
    if not principal.admin:
        raise Forbidden("this needs an admin API key", code="forbidden")
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]


def get_tenant_limits(services: ServicesDep, tenant: TenantDep) -> TenantLimits:
    return services.settings.tenants.limits_for(tenant)


TenantLimitsDep = Annotated[TenantLimits, Depends(get_tenant_limits)]


def check_job_slot(services: ServicesDep, tenant: TenantDep, limits: TenantLimitsDep) -> None:
    """429 too_many_jobs when the tenant already has its maximum of unfinished jobs."""
    tenants.check_job_slot(services.records, tenant, limits)


def get_upload_allowance(
    services: ServicesDep, tenant: TenantDep, limits: TenantLimitsDep
) -> tenants.UploadAllowance:
    """The byte limit for this tenant's next upload (413 quota_exceeded when its quota is used up)."""
    global_max = services.settings.limits.max_upload_bytes
    return tenants.upload_allowance(services.records, tenant, limits, global_max)


UploadAllowanceDep = Annotated[tenants.UploadAllowance, Depends(get_upload_allowance)]

# Paging of list routes: newest first, `offset` items skipped, at most `limit` returned.
OffsetQuery = Annotated[int, Query(ge=0, description="Items to skip.")]
LimitQuery = Annotated[int, Query(ge=1, le=500, description="Items to return (at most 500).")]
