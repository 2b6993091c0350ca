"""The only module that composes store -> extract -> pack -> model -> result. No Celery, no FastAPI.

Both entry points are idempotent, because Celery delivers at least once (acks_late): extraction of
content that is already ready does nothing, and a job that is finished, cancelled or running elsewhere
(per-job lock) is left alone. Attempts are counted in the job record so a poison job ends as failed.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from service.blobs import BlobStore, count_text_file
from service.calibration import CalibrationStore
from service.citations import verify_all
from service.config import LimitSettings, Settings
from service.corpus import load_corpus
from service.errors import BadRequest, ExtractionFailed, JobCancelled, LongdocError
from service.extract import extract, extract_isolated, ingest_isolated
from service.extract.logstore import ingest_log
from service.llm.base import Engine
from service.llm.catalog import Catalog, load_catalog
from service.llm.ratelimit import NoRateLimit, RateLimiter, RedisRateLimiter
from service.logview import apply_filters
from service.model_call import generate
from service.models import (
    TERMINAL_JOB_STATUSES,
    AnswerItem,
    Citation,
    ContentRecord,
    CorpusDocument,
    ErrorInfo,
    ExtractedText,
    JobEvent,
    JobResult,
    JobState,
    utcnow,
)
from service.pack import Budget
from service.records import Records
from service.redis_conn import LeaseKeeper, connect
from service.tokens import TokenCounter, make_counter
from service.usage import record_job_usage

log = logging.getLogger("longdoc.pipeline")

OFFLINE_MODEL = "offline"


@dataclass
class Services:
    """What the stages need, built once per process from settings."""

    settings: Settings
    records: Records
    blobs: BlobStore

    @cached_property
    def counter(self) -> TokenCounter:
        """The deployment's base counter (exact when configured); see `counter_for` for packing."""
        m = self.settings.model
        default = m.default_model
        served = self.catalog.get(default).provider_model_id if default in self.catalog else default
        return make_counter(m.tokenizer_path, m.tokenizer_name, m.tokenize_endpoint, served)

    @cached_property
    def calibration(self) -> CalibrationStore:
        return CalibrationStore(self.records.r, self.settings.key_prefix)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        if not self.settings.model.rate_limit:
            return NoRateLimit()
        return RedisRateLimiter(self.records.r, self.settings.key_prefix)

    def model_id(self, model: str | None) -> str:
        """The catalog id a job's `model` field stands for (the default when unset or offline)."""
        return model if model and model != OFFLINE_MODEL else self.settings.model.default_model

    def counter_for(self, model: str | None) -> TokenCounter:
        """The base counter, scaled by what the provider reported for this model (estimators only)."""
        return self.calibration.calibrated(self.model_id(model), self.counter)

    @cached_property
    def catalog(self) -> Catalog:
        return load_catalog(self.settings.model.catalog_path)

    def engine_name(self, model: str | None) -> str:
        """ "offline" or "llm": which engine `engine_for(model)` builds, without building it."""
        return "offline" if not self.settings.online or model == OFFLINE_MODEL else "llm"

    def engine_for(self, model: str | None) -> Engine:
        if self.engine_name(model) == "offline":
            from service.llm.offline import OfflineEngine

            return OfflineEngine()
        from service.llm.openai_compat import OpenAICompatEngine

        return OpenAICompatEngine(self.settings.model, self.catalog, rate_limiter=self.rate_limiter)

    def budget_for(self, model: str | None, max_output: int | None) -> Budget:
        info = self.catalog.get(self.model_id(model))
        reserved = max_output or min(self.settings.model.default_max_output_tokens, info.max_output)
        if reserved > info.max_output:
            raise BadRequest(
                f"options.max_output_tokens={reserved:,} exceeds {info.id}'s maximum output of {info.max_output:,}",
                code="max_output_too_large",
            )
        return Budget(model=info.id, window=info.context_window, reserved_output=reserved)


def build_services(settings: Settings) -> Services:
    records = Records(connect(settings.effective_redis_url()), settings.key_prefix, settings.result_ttl_s)
    return Services(settings, records, BlobStore(settings.storage_dir))


# ---------------------------------------------------------------- extraction


# Plain text is decoded by our own bounded code, not a third-party parser, so small files skip the
# isolation child and its ~1 s of interpreter start-up and imports (bench/README.md).
_IN_PROCESS_MEDIA = frozenset({"text/plain", "text/markdown", "text/csv", "application/json"})


def _small_text(path: Path, content: ContentRecord, limits: LimitSettings) -> bool:
    return content.media_type in _IN_PROCESS_MEDIA and path.stat().st_size <= limits.in_process_text_max_bytes


def _ingest_log(services: Services, sha256: str, content: ContentRecord) -> None:
    """Every log, small or large, gets its text, line index, per-line table, unit counts and summary
    written under the store's tmp/ (service.extract.logstore; by the isolation child unless it is small
    plain text), renamed into place here, and `content` filled in. Jobs never mine a log again."""
    blobs, counter = services.blobs, services.counter
    work = blobs.root / "tmp" / f"ingest-{uuid.uuid4().hex}"
    try:
        path, limits = blobs.blob_path(sha256), services.settings.limits
        if _small_text(path, content, limits):  # same store files, without the child's start-up
            work.mkdir(parents=True)
            result = ingest_log(path, limits, work)
        else:
            result = ingest_isolated(path, limits, work)
        blobs.adopt_log(sha256, work, result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    content.status, content.pages, content.lines = "ready", None, result["lines"]
    content.chars = result["chars"]
    if result["token_method"] == counter.method:
        content.tokens = result["tokens"]  # the packer's units, counted by the child
    else:
        content.tokens = count_text_file(counter, blobs.text_path(sha256))
    content.token_method = counter.method
    content.encoding = result["meta"].get("encoding")
    content.extracted_at = utcnow()


def _extract(path: Path, content: ContentRecord, limits: LimitSettings) -> ExtractedText:
    if _small_text(path, content, limits):
        return extract(path, content.kind, limits)
    return extract_isolated(path, content.kind, limits)


def extract_content(services: Services, sha256: str) -> ContentRecord | None:
    records, blobs = services.records, services.blobs
    content = records.get_content(sha256)
    if content is None:  # every document with these bytes was deleted meanwhile
        return None
    if content.status == "ready" and blobs.has_text(sha256):
        return content
    content.status, content.error = "extracting", None
    records.put_content(content)
    try:
        if content.kind == "log":
            _ingest_log(services, sha256, content)
            records.put_content(content)
            return content
        extracted = _extract(blobs.blob_path(sha256), content, services.settings.limits)
        blobs.save_text(sha256, extracted)
        if extracted.log_summary is not None:
            blobs.save_logsummary(sha256, extracted.log_summary)
    except LongdocError as exc:
        log.info("extraction of %s failed: %s", sha256[:12], exc.code)
        content.status = "failed"
        content.error = ErrorInfo(code=exc.code, message=exc.message, details=exc.details)
        records.put_content(content)
        return content
    except Exception as exc:  # a bug or an I/O failure must not leave the content "extracting" forever
        log.exception("extraction of %s crashed", sha256[:12])
        content.status = "failed"
        content.error = ErrorInfo(
            code="crashed", message=f"extraction failed unexpectedly ({type(exc).__name__})"
        )
        records.put_content(content)
        return content
    content.status = "ready"
    content.pages = extracted.page_count or None
    content.lines = extracted.line_count
    content.chars = len(extracted.text)
    content.tokens = services.counter.count(extracted.text)
    content.token_method = services.counter.method
    content.encoding = extracted.meta.get("encoding")
    content.extracted_at = utcnow()
    records.put_content(content)
    return content


# ---------------------------------------------------------------- jobs


class JobHooks:
    """Progress and cancellation for a running job, throttled so Redis sees a few writes a second."""

    def __init__(self, records: Records, job_id: str, min_interval_s: float = 0.5):
        self.records = records
        self.job_id = job_id
        self.min_interval_s = min_interval_s
        self._last_write = 0.0
        self._last_check = 0.0
        self._cancelled = False

    def progress(self, stage: str, percent: float, output_tokens: int = 0) -> None:
        now = time.monotonic()
        if now - self._last_write < self.min_interval_s and stage == "generating":
            return
        self._last_write = now

        def change(job: JobState) -> JobState | None:
            percent_ = round(min(max(percent, 0.0), 100.0), 1)
            tokens = max(job.progress.output_tokens, output_tokens)
            p = job.progress
            if job.status != "running" or (p.stage, p.percent, p.output_tokens) == (stage, percent_, tokens):
                return None  # nothing visible changed: no write, no event
            p.stage, p.percent, p.output_tokens = stage, percent_, tokens
            return job

        self.records.update_job(self.job_id, change)

    def cancelled(self) -> bool:
        now = time.monotonic()
        if not self._cancelled and now - self._last_check >= 0.2:
            self._last_check = now
            self._cancelled = self.records.cancel_requested(self.job_id)
        return self._cancelled


def _event(job: JobState, event: str, detail: str | None = None) -> None:
    job.history.append(JobEvent(event=event, detail=detail))


def _start(services: Services, job_id: str) -> JobState | None:
    """Move a job to running and count the attempt; None when there is nothing (more) to do."""
    max_attempts = services.settings.worker.max_job_attempts

    def change(job: JobState) -> JobState | None:
        if job.status in TERMINAL_JOB_STATUSES:
            return None
        job.attempts += 1
        if job.attempts > max_attempts:
            job.status, job.finished_at = "failed", utcnow()
            job.error = ErrorInfo(
                code="too_many_attempts",
                message=f"the job was started {max_attempts} times without finishing (a worker died each time)",
            )
            _event(job, "failed", "too_many_attempts")
            return job
        _event(job, "started" if job.attempts == 1 else "retried", f"attempt {job.attempts}")
        job.status, job.started_at = "running", utcnow()
        job.progress.stage, job.progress.percent = "starting", 1.0
        return job

    job = services.records.update_job(job_id, change)
    return job if job.status == "running" else None


def fail_job(services: Services, job_id: str, error: LongdocError) -> JobState:
    """End a job as failed from outside its run (e.g. its process was killed by the hard time limit)."""
    return _finish(services, job_id, None, error)


def _finish(
    services: Services, job_id: str, result: JobResult | None, error: LongdocError | None
) -> JobState:
    def change(job: JobState) -> JobState | None:
        if job.status in TERMINAL_JOB_STATUSES:  # cancelled while we worked: keep that
            return None
        job.finished_at = utcnow()
        if isinstance(error, JobCancelled):
            job.status = "cancelled"
            _event(job, "cancelled")
        elif error is not None:
            job.status = "failed"
            job.error = ErrorInfo(code=error.code, message=error.message, details=error.details)
            _event(job, "failed", error.code)
        else:
            job.status, job.result = "succeeded", result
            if result is not None:  # the stream's progress is throttled; the final count is exact
                job.progress.output_tokens = max(job.progress.output_tokens, result.usage.completion_tokens)
            job.progress.stage, job.progress.percent = "done", 100.0
            _event(job, "succeeded")
        return job

    return services.records.update_job(job_id, change)


def _wait_for_documents(services: Services, job: JobState, hooks: JobHooks) -> list[CorpusDocument]:
    def on_wait() -> None:
        if hooks.cancelled():
            raise JobCancelled("cancelled while waiting for documents")
        hooks.progress("waiting_for_documents", 2.0)

    def too_late(pending: list[str]) -> LongdocError:
        return ExtractionFailed(
            f"documents were not extracted in time: {', '.join(pending)}", code="document_timeout"
        )

    wait_s = services.settings.limits.extract_timeout_s + 120
    return load_corpus(
        services.records, services.blobs, job.spec.document_ids, job.tenant, wait_s, too_late, on_wait
    )


def _result(services: Services, job: JobState, hooks: JobHooks) -> JobResult:
    spec = job.spec
    corpus = apply_filters(_wait_for_documents(services, job, hooks), spec.options)
    hooks.progress("packing", 5.0)
    generation = generate(services, corpus, spec, hooks)
    output, prompt = generation.output, generation.prompt
    hooks.progress("verifying", 95.0)
    by_id = {d.id: d for d in corpus}
    answers = [
        AnswerItem(question=a.question, answer=a.answer, citations=verify_all(a.citations, by_id))
        for a in output.answers
    ]
    citations: list[Citation] = [c for a in answers for c in a.citations]
    if not answers or not any(a.answer.strip() for a in answers):
        raise LongdocError("the engine returned an empty answer", code="empty_answer")
    answer_text = (
        answers[0].answer
        if len(answers) == 1
        else "\n\n".join(f"**Q: {a.question}**\n\n{a.answer}" for a in answers)
    )
    return JobResult(
        engine=output.engine,
        model=output.model,
        answer=answer_text,
        answers=answers,
        citations=citations,
        reasoning=output.reasoning if spec.options.include_reasoning else None,
        usage=output.usage,
        manifest=prompt.manifest,
        finish_reason=output.finish_reason,
        facts=output.facts,
        unverified_citations=sum(1 for c in citations if c.status != "verified"),
        cost=generation.cost,
        repacked=generation.repacked,
    )


def _account(services: Services, job: JobState) -> JobState:
    """Add a finished job's tokens and cost to its tenant's usage (counted once per job id)."""
    if job.result is not None and job.status == "succeeded":
        record_job_usage(services.records.r, services.settings.key_prefix, job)
    return job


def run_job(services: Services, job_id: str) -> JobState:
    """Run one job to a terminal state. Safe to call again for the same job (redelivery)."""
    records = services.records
    owner = uuid.uuid4().hex
    lock_ttl = services.settings.worker.job_lock_ttl_s  # renewed while we live (LeaseKeeper)
    if not records.acquire_lock(f"job:{job_id}", owner, lock_ttl):
        log.info("job %s is already running elsewhere; leaving it", job_id)
        return records.get_job(job_id)
    keeper = LeaseKeeper(records.r, records.lock_key(f"job:{job_id}"), owner, lock_ttl).start()
    try:
        job = _start(services, job_id)
        if job is None:
            return records.get_job(job_id)
        hooks = JobHooks(records, job_id)
        try:
            result = _result(services, job, hooks)
        except LongdocError as exc:
            return _finish(services, job_id, None, exc)
        except Exception as exc:  # a bug or a time limit must still end the job, with a reason
            log.exception("job %s crashed", job_id)
            code = "timeout" if type(exc).__name__ == "SoftTimeLimitExceeded" else "internal_error"
            return _finish(services, job_id, None, LongdocError(f"{type(exc).__name__}: {exc}", code=code))
        return _account(services, _finish(services, job_id, result, None))
    finally:
        keeper.stop()
        records.release_lock(f"job:{job_id}", owner)
