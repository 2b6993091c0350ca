"""/v1/reports: ask for a report, read it as Markdown, HTML or JSON, list reports and templates."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from service.api.deps import LimitQuery, OffsetQuery, QueueDep, ServicesDep, TenantDep, check_job_slot
from service.reports import service as reports
from service.reports.models import ReportIn

router = APIRouter(prefix="/v1/reports", tags=["reports"])
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


@router.post("", status_code=202, dependencies=[Depends(check_job_slot)])
def create_report(
    body: ReportIn, services: ServicesDep, queue: QueueDep, tenant: TenantDep
) -> dict[str, Any]:
    """Run a report template over documents or a collection: 202 with the report id and its job id."""
    report = reports.create(services, queue, body, tenant)
    return {"id": report.id, "status": report.status, "job_id": report.job_id, "template": report.template}


@router.get("")
def list_reports(
    services: ServicesDep,
    tenant: TenantDep,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 50,
) -> dict[str, Any]:
    """The tenant's reports, newest first (without their content)."""
    return reports.list_reports(services, tenant, offset, limit)


@router.get("/templates")
def list_report_templates(services: ServicesDep) -> dict[str, Any]:
    """Built-in and user templates (LONGDOC_REPORTING__REPORT_TEMPLATES_DIR)."""
    return {"items": [t.model_dump(mode="json") for t in reports.templates(services)]}


@router.get("/{report_id}")
def get_report(
    report_id: str,
    services: ServicesDep,
    tenant: TenantDep,
    format: Annotated[Literal["md", "html", "json"], Query(description="md, html or json.")] = "json",
) -> Response:
    """The report; 202 with its JSON state while its job still runs."""
    report = reports.get(services, report_id, tenant)
    media_type, body = reports.render(report, format)
    status = 202 if report.status == "pending" else 200
    # defence in depth: the page is escaped, and a browser would not run scripts or load anything either
    headers = {"Content-Security-Policy": CSP} if media_type.startswith("text/html") else None
    return Response(content=body, media_type=media_type, status_code=status, headers=headers)
