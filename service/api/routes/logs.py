"""/v1/documents/{id}/templates: a log's lines, time range, levels and event templates, without a model."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service import log_templates
from service.api.deps import ServicesDep, TenantDep

router = APIRouter(prefix="/v1/documents", tags=["logs"])


@router.get("/{document_id}/templates")
def get_document_templates(
    document_id: str,
    services: ServicesDep,
    tenant: TenantDep,
    file: Annotated[str | None, Query(description="Archives: only this member path.")] = None,
    offset: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=5000),
) -> Any:
    """Line count, time range, counts per level and templates (most frequent first, paged) of a log
    document; for archives per file (`files`) and overall, each template naming its `file`."""
    doc = services.records.get_document(document_id, tenant)
    return log_templates.read_templates(services, doc, file, offset, limit)
