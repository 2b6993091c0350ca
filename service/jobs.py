"""Job operations behind the API and CLI: validate and submit, read, cancel."""

from __future__ import annotations

import uuid

from service import collections
from service.errors import BadRequest, Conflict
from service.models import TERMINAL_JOB_STATUSES, JobEvent, JobSpec, JobState, utcnow
from service.pack import precheck
from service.pipeline import Services
from service.queue import JobQueue


def validate(services: Services, spec: JobSpec, tenant: str) -> None:
    """Refuse up front what can never succeed: missing questions, unknown documents, too many tokens."""
    if spec.collection and not spec.document_ids:  # resolved now: later uploads join later jobs
        spec.document_ids = collections.document_ids(services.records, tenant, spec.collection)
    limits = services.settings.limits
    questions = spec.all_questions()
    if spec.type == "qa" and not questions:
        raise BadRequest("a qa job needs a question (or questions)", code="question_required")
    for q in questions:
        if len(q) > limits.max_question_chars:
            raise BadRequest(
                f"a question is {len(q):,} characters; the limit is {limits.max_question_chars:,}",
                code="question_too_long",
            )
    if len(spec.document_ids) > limits.max_documents_per_job:
        raise BadRequest(
            f"at most {limits.max_documents_per_job} documents per job", code="too_many_documents"
        )
    if len(set(spec.document_ids)) != len(spec.document_ids):
        raise BadRequest("document_ids contains duplicates", code="duplicate_documents")
    budget = services.budget_for(spec.model, spec.options.max_output_tokens)  # unknown model -> 400
    tokens: list[int] = []
    for doc_id in spec.document_ids:
        doc = services.records.get_document(doc_id, tenant)  # unknown or foreign -> 404
        content = services.records.get_content(doc.sha256)
        if content is not None and content.tokens is not None:
            tokens.append(content.tokens)
    question_tokens = sum(services.counter.count(q) for q in questions)
    if spec.options.overflow == "error":
        precheck([*tokens, question_tokens], budget, services.counter.expected_error)


def submit(services: Services, queue: JobQueue, spec: JobSpec, tenant: str) -> JobState:
    validate(services, spec, tenant)
    job = JobState(id=f"job_{uuid.uuid4().hex[:20]}", tenant=tenant, spec=spec)
    job.history.append(JobEvent(event="queued"))
    services.records.create_job(job)
    queue.submit_job(job.id)
    return job


def cancel(services: Services, queue: JobQueue, job_id: str, tenant: str) -> JobState:
    """Cancel a queued or running job: it is marked at once, and the worker stops at its next check."""
    services.records.get_job(job_id, tenant)

    def change(job: JobState) -> JobState | None:
        if job.status in TERMINAL_JOB_STATUSES:
            raise Conflict(f"job {job_id} is already {job.status}", code="job_finished")
        job.status, job.finished_at = "cancelled", utcnow()
        job.history.append(JobEvent(event="cancelled", detail="by request"))
        return job

    services.records.request_cancel(job_id)
    job = services.records.update_job(job_id, change)
    queue.revoke_job(job_id)
    return job
