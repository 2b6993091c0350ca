"""Report operations behind the API, the CLI and the schedule runner.

A report is asked for with a template and documents (or a collection); its job is submitted through
`service.jobs.submit` like any other, asking one question per template section. The content is built
the first time the report is read after its job ended (or by the beat sweep for scheduled runs), then
kept, so a report and the next one of its series can always be compared.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

from service import jobs
from service.errors import BadRequest, NotFound
from service.models import TERMINAL_JOB_STATUSES, ErrorInfo, JobSpec, JobState, utcnow
from service.pipeline import Services
from service.queue import JobQueue
from service.reports.build import LineResolver, build_content
from service.reports.models import Report, ReportContent, ReportIn, ReportTemplate
from service.reports.render import to_html, to_markdown
from service.reports.store import ReportStore
from service.reports.templates import all_templates, get_template

MAX_PREVIOUS_DEPTH = 3  # an unbuilt previous report is built first, but not a whole chain of them
FORMATS = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
}


def store(services: Services) -> ReportStore:
    return ReportStore(services.records)


def template(services: Services, name: str) -> ReportTemplate:
    return get_template(services.settings.reporting.report_templates_dir, name)


def templates(services: Services) -> list[ReportTemplate]:
    return list(all_templates(services.settings.reporting.report_templates_dir).values())


def job_spec(tpl: ReportTemplate, base: dict[str, Any]) -> JobSpec:
    """The job a report runs: one question per section of the template."""
    return JobSpec.model_validate({**base, "type": "qa", "question": None, "questions": tpl.questions()})


def new_report(tpl: ReportTemplate, tenant: str, job: JobState, series: str, **fields: Any) -> Report:
    return Report(
        id=f"rep_{uuid.uuid4().hex[:20]}",
        tenant=tenant,
        template=tpl.name,
        title=tpl.title,
        spec=tpl,
        job_id=job.id,
        document_ids=list(job.spec.document_ids),
        collection=job.spec.collection,
        series=series,
        **fields,
    )


def _series(tenant: str, body: ReportIn, document_ids: list[str]) -> str:
    if body.collection:
        return f"{tenant}:{body.template}:collection:{body.collection}"
    digest = hashlib.sha256(",".join(sorted(document_ids)).encode()).hexdigest()[:16]
    return f"{tenant}:{body.template}:docs:{digest}"


def create(services: Services, queue: JobQueue, body: ReportIn, tenant: str) -> Report:
    """Submit the report's job; the report is built when it is first read after the job ended."""
    tpl = template(services, body.template)
    base = body.model_dump(include={"document_ids", "collection", "model", "callback_url"})
    job = jobs.submit(services, queue, job_spec(tpl, base), tenant)
    series = _series(tenant, body, job.spec.document_ids)
    report = new_report(tpl, tenant, job, series, options=body.options)
    store(services).create(report)
    return report


def get(services: Services, report_id: str, tenant: str | None = None) -> Report:
    """The report, its content built now if its job has ended since the last look."""
    return finish(services, store(services).get(report_id, tenant))


def finish(services: Services, report: Report, depth: int = 0) -> Report:
    if report.status != "pending" or report.job_id is None:
        return report
    try:
        job = services.records.get_job(report.job_id)
    except NotFound:
        return _failed(services, report, ErrorInfo(code="job_expired", message="the report's job is gone"))
    if job.status not in TERMINAL_JOB_STATUSES:
        return report
    if job.status != "succeeded" or job.result is None:
        error = job.error or ErrorInfo(code="job_cancelled", message=f"the report's job was {job.status}")
        return _failed(services, report, error)
    previous, previous_id = _previous(services, report, depth)
    report.content = build_content(report, job, previous, previous_id, _line_resolver(services))
    report.status, report.ready_at = "ready", utcnow()
    store(services).save(report)
    return report


def _failed(services: Services, report: Report, error: ErrorInfo) -> Report:
    report.status, report.error, report.ready_at = "failed", error, utcnow()
    store(services).save(report)
    return report


def _previous(services: Services, report: Report, depth: int) -> tuple[ReportContent | None, str | None]:
    """The newest earlier report of the series that has content (built now if need be)."""
    for earlier in store(services).earlier(report):
        if earlier.status == "pending" and depth < MAX_PREVIOUS_DEPTH:
            earlier = finish(services, earlier, depth + 1)
        if earlier.content is not None:
            return earlier.content, earlier.id
    return None, None


def _line_resolver(services: Services) -> LineResolver:
    """Archive citations carry member-relative lines; links to /text need the document's own lines."""
    starts: dict[str, dict[str, int]] = {}

    def resolve(document_id: str, file: str, line: int) -> int:
        if document_id not in starts:
            doc = services.records.get_document(document_id)
            files = services.blobs.load_meta(doc.sha256)["meta"].get("files", [])
            starts[document_id] = {str(f["path"]): int(f["line_start"]) for f in files}
        return starts[document_id].get(file, 1) + line - 1

    return resolve


def summary(report: Report) -> dict[str, Any]:
    """A report as listed: everything but its content and template body."""
    return report.model_dump(mode="json", exclude={"content", "spec"})


def render(report: Report, fmt: str) -> tuple[str, str]:
    """(media type, body) of a ready report; a pending or failed report renders as its JSON state."""
    if fmt not in FORMATS:
        raise BadRequest(f"format must be one of {', '.join(FORMATS)}", code="bad_format")
    if fmt == "json" or report.content is None:
        return FORMATS["json"], report.model_dump_json(exclude={"spec"})
    render_fn: Callable[[Report, ReportContent], str] = to_markdown if fmt == "md" else to_html
    return FORMATS[fmt], render_fn(report, report.content)


def list_reports(services: Services, tenant: str, offset: int, limit: int) -> dict[str, Any]:
    total, items = store(services).list_reports(tenant, offset, limit)
    return {"total": total, "items": [summary(r) for r in items]}
