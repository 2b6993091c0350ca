"""Job operations behind the API and CLI: validate and submit, dry-run, read, cancel."""

from __future__ import annotations

import contextlib
import uuid

from service import collections, egress, webhooks
from service.corpus import load_corpus
from service.errors import BadRequest, Conflict
from service.llm.cost import estimated_cost, free
from service.model_call import prepare
from service.models import (
    TERMINAL_JOB_STATUSES,
    CorpusDocument,
    DryRun,
    ErrorInfo,
    JobEvent,
    JobSpec,
    JobState,
    utcnow,
)
from service.pack import precheck
from service.pipeline import Services
from service.queue import JobQueue

DRY_RUN_WAIT_S = 5.0  # a dry run waits this long for documents still being extracted, then answers 409


def validate(services: Services, spec: JobSpec, tenant: str) -> None:
    """Refuse up front what can never succeed: missing questions, unknown documents, too many tokens."""
    if spec.collection and not spec.document_ids:  # resolved now: later uploads join later jobs
        spec.document_ids = collections.document_ids(services.records, tenant, spec.collection)
    limits = services.settings.limits
    if spec.callback_url:
        egress.check_submitted(spec.callback_url, services.settings.reporting.webhook_allow_private)
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
    has_logs = False
    for doc_id in spec.document_ids:
        doc = services.records.get_document(doc_id, tenant)  # unknown or foreign -> 404
        has_logs = has_logs or doc.kind == "log"
        content = services.records.get_content(doc.sha256)
        if content is not None and content.tokens is not None:
            tokens.append(content.tokens)
    counter = services.counter_for(spec.model)
    question_tokens = sum(counter.count(q) for q in questions)
    # Unset overflow means "compress" for logs (decided when packing), "error" for everything else.
    if spec.options.overflow == "error" or (spec.options.overflow is None and not has_logs):
        precheck([*tokens, question_tokens], budget, counter.expected_error)


def submit(services: Services, queue: JobQueue, spec: JobSpec, tenant: str) -> JobState:
    validate(services, spec, tenant)
    job = JobState(id=f"job_{uuid.uuid4().hex[:20]}", tenant=tenant, spec=spec)
    job.history.append(JobEvent(event="queued"))
    services.records.create_job(job)
    try:
        queue.submit_job(job.id)
    except Exception as exc:  # never leave a record "queued" that no worker will ever see
        _fail_unqueued(services, job.id, exc)
        raise
    return job


def _fail_unqueued(services: Services, job_id: str, exc: Exception) -> None:
    def change(job: JobState) -> JobState | None:
        job.status, job.finished_at = "failed", utcnow()
        job.error = ErrorInfo(
            code="queue_unavailable", message=f"the job could not be queued: {type(exc).__name__}"
        )
        job.history.append(JobEvent(event="failed", detail="queue_unavailable"))
        return job

    with contextlib.suppress(Exception):  # Redis may be the thing that is down
        services.records.update_job(job_id, change)


def ready_corpus(services: Services, spec: JobSpec, tenant: str, wait_s: float) -> list[CorpusDocument]:
    """The job's documents as extracted text, waiting up to `wait_s` for extraction to finish."""

    def too_late(pending: list[str]) -> Conflict:
        return Conflict(
            f"documents still being extracted: {', '.join(pending)}; retry once they are ready",
            code="document_not_ready",
            details={"document_ids": pending},
        )

    return load_corpus(services.records, services.blobs, spec.document_ids, tenant, wait_s, too_late)


def dry_run(services: Services, spec: JobSpec, tenant: str) -> DryRun:
    """Pack exactly as the worker would and price it, without calling the model or creating a job."""
    validate(services, spec, tenant)
    corpus = ready_corpus(services, spec, tenant, DRY_RUN_WAIT_S)
    prompt = prepare(services, corpus, spec)
    manifest = prompt.manifest
    if services.engine_name(spec.model) == "offline":
        cost, engine, model = free("offline"), "offline", "offline"
    else:
        info = services.catalog.get(manifest.model)
        cost, engine, model = (
            estimated_cost(info, manifest.total_tokens, manifest.reserved_output),
            "llm",
            info.id,
        )
    return DryRun(model=model, engine=engine, manifest=manifest, estimated_cost_usd=cost.usd, cost=cost)


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
    # A queued job is usually revoked before any worker sees it, so its callback is announced here; a
    # running one's worker announces it too, and the event id makes that a no-op.
    webhooks.notify_job_finished(queue.app, services.records, job)
    return job
