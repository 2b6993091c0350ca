"""/v1/admin: tenants and their usage. Needs an admin API key (403 forbidden otherwise)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Query

from service import tenants, usage
from service.api.deps import AdminDep, ServicesDep
from service.errors import BadRequest

router = APIRouter(prefix="/v1/admin", tags=["admin"])
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@router.get("/tenants")
def list_tenants(services: ServicesDep, _: AdminDep) -> Any:
    """Every tenant with its keys, documents, stored bytes, unfinished jobs, limits and total usage."""
    names = tenants.known_tenants(services.records)
    return {"items": [tenants.overview(services.records, t, services.settings) for t in names]}


@router.get("/usage")
def get_usage(
    services: ServicesDep,
    _: AdminDep,
    tenant: str | None = Query(None, description="Only this tenant."),
    day: str | None = Query(None, description="Only this UTC day, YYYY-MM-DD."),
) -> Any:
    """Tokens in/out, reasoning and cached tokens, jobs and estimated cost per tenant per day."""
    if day is not None and not _DAY.match(day):
        raise BadRequest("day must be YYYY-MM-DD", code="bad_day")
    names = [tenant] if tenant else tenants.known_tenants(services.records)
    return {"items": usage.usage_rows(services.records.r, services.records.p, names, day)}
