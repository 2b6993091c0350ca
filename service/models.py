"""Value objects passed between the stages upload -> store -> extract -> pack -> model -> result.

Pydantic models are the ones that travel as JSON (Redis records, API bodies); plain dataclasses stay in
process. Offsets are Python string (code point) offsets into the extracted text.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DocumentKind = Literal["pdf", "docx", "text", "log"]
DocumentStatus = Literal["uploaded", "extracting", "ready", "failed"]
JobType = Literal["summarize", "qa"]
JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
OverflowPolicy = Literal["error", "truncate", "compress"]
CitationStatus = Literal["verified", "approximate", "not_found"]

TERMINAL_JOB_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})


def utcnow() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- extraction


@dataclass
class ExtractedText:
    """Text of one document plus the anchors that map offsets back to pages and lines.

    `page_starts[i]` is the offset where page i+1 begins (empty for unpaged formats). Lines are the
    '\\n'-separated lines of `text`; for text and log files they match the file's own line numbers.
    """

    text: str
    kind: DocumentKind
    page_starts: list[int] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    _line_starts: list[int] | None = field(default=None, repr=False)
    # Logs: the model-free summary (service.logs) mined at extraction, stored apart from the text.
    log_summary: dict[str, Any] | None = field(default=None, repr=False)
    # Logs ingested by the streaming child: token counts of the packer's 500-line units
    # ({"method", "lines_per_unit", "units"}) and a loader of the stored per-line table (service.logtable).
    unit_tokens: dict[str, Any] | None = field(default=None, repr=False)
    table_loader: Callable[[], Any] | None = field(default=None, repr=False)

    @property
    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            find = self.text.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._line_starts = starts
        return self._line_starts

    @property
    def line_count(self) -> int:
        count = len(self.line_starts)
        return count - 1 if self.text.endswith("\n") else count

    @property
    def page_count(self) -> int:
        return len(self.page_starts)

    def page_at(self, offset: int) -> int | None:
        """1-based page containing `offset`, or None for unpaged text."""
        if not self.page_starts:
            return None
        return max(1, bisect.bisect_right(self.page_starts, offset))

    def line_at(self, offset: int) -> int:
        """1-based line containing `offset`."""
        return max(1, bisect.bisect_right(self.line_starts, offset))

    def page_span(self, page: int) -> tuple[int, int]:
        """Character range [start, end) of a 1-based page."""
        start = self.page_starts[page - 1]
        end = self.page_starts[page] if page < len(self.page_starts) else len(self.text)
        return start, end

    def line_span(self, first: int, last: int) -> tuple[int, int]:
        """Character range [start, end) of 1-based lines first..last inclusive."""
        starts = self.line_starts
        first = min(max(first, 1), len(starts))
        last = min(max(last, first), len(starts))
        end = starts[last] - 1 if last < len(starts) else len(self.text)
        return starts[first - 1], max(end, starts[first - 1])


# ---------------------------------------------------------------- stored records


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ContentRecord(BaseModel):
    """Extraction state of one distinct blob (keyed by sha256): shared by every upload of the same bytes."""

    sha256: str
    kind: DocumentKind
    media_type: str
    status: DocumentStatus = "uploaded"
    error: ErrorInfo | None = None
    pages: int | None = None
    lines: int | None = None
    chars: int | None = None
    tokens: int | None = None
    token_method: str | None = None
    encoding: str | None = None
    extracted_at: datetime | None = None


class DocumentRecord(BaseModel):
    """One upload: a name and an owner pointing at a content blob."""

    id: str
    tenant: str = "default"
    name: str
    media_type: str
    kind: DocumentKind
    size: int
    sha256: str
    created_at: datetime = Field(default_factory=utcnow)
    collection: str | None = Field(None, description="Named collection, e.g. contracts/acme.")


# ---------------------------------------------------------------- jobs


class TimeRange(BaseModel):
    """A closed time interval over log events; either end may be open. Naive times are compared as written."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: datetime | None = Field(None, alias="from")
    end: datetime | None = Field(None, alias="to")


class JobOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_output_tokens: int | None = Field(None, ge=1, le=200_000, description="Output budget to reserve.")
    overflow: OverflowPolicy | None = Field(
        None,
        description="When documents exceed the window: error, truncate, or compress (logs only). "
        "Unset: compress logs, error for anything else.",
    )
    time_range: TimeRange | None = Field(None, description="Logs: keep only events in this time range.")
    levels: list[str] | None = Field(
        None, description="Logs: keep only events of these levels (ERROR, WARN...)."
    )
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    include_reasoning: bool = Field(False, description="Return the model's reasoning in the result.")
    summary_sentences: int = Field(8, ge=1, le=50, description="Offline engine: sentences per summary.")
    max_citations: int = Field(8, ge=1, le=100)


class JobSpec(BaseModel):
    """What a client asks for. Unknown fields are refused so typos do not silently change a job."""

    model_config = ConfigDict(extra="forbid")

    type: JobType
    document_ids: list[str] = Field(default_factory=list, description="The documents (or a collection).")
    collection: str | None = Field(None, description="Use this collection's documents (resolved at submit).")
    question: str | None = None
    questions: list[str] | None = None
    model: str | None = None
    options: JobOptions = Field(default_factory=JobOptions)
    dry_run: bool = Field(
        False, description="Pack and price only: return the manifest and estimated cost, run nothing."
    )
    callback_url: str | None = Field(
        None, pattern=r"^https?://", max_length=2000, description="Signed webhook when the job ends."
    )

    @model_validator(mode="after")
    def _documents_or_collection(self) -> JobSpec:
        if not self.document_ids and not self.collection:
            raise ValueError("name document_ids or a collection")
        return self

    def all_questions(self) -> list[str]:
        found = [q for q in ([self.question] if self.question else []) + (self.questions or []) if q.strip()]
        return found


class Progress(BaseModel):
    stage: str = "queued"
    percent: float = 0.0
    output_tokens: int = 0
    message: str | None = None


class JobEvent(BaseModel):
    at: datetime = Field(default_factory=utcnow)
    event: str
    detail: str | None = None


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    cached_tokens: int = 0
    total_tokens: int = 0
    estimated: bool = Field(False, description="True when counted by us, not reported by the provider.")


class Cost(BaseModel):
    usd: float
    estimated: bool = Field(description="True when not from the provider's reported usage.")
    pricing: str = Field(description="The prices applied, in words.")


class DocumentBudget(BaseModel):
    document_id: str
    name: str
    kind: DocumentKind
    chars: int
    tokens: int
    truncated: dict[str, Any] | None = Field(None, description="What was cut, when overflow=truncate cut it.")
    view: dict[str, Any] | None = Field(
        None,
        description="Set when a log was packed as its compressed view (overflow=compress): verbatim_lines, "
        "template_only_lines, dropped_lines, templates, error_lines, error_lines_verbatim, bursts, "
        "burst_error_lines, burst_error_lines_verbatim, and tiers (verbatim lines per tier: template_ends, "
        "bursts, rare, burst_context, errors, error_context, warnings).",
    )
    filtered: dict[str, Any] | None = Field(None, description="Lines kept by options.time_range/levels.")


class PackManifest(BaseModel):
    model: str
    window: int
    reserved_output: int
    safety_margin: int
    instruction_tokens: int
    document_tokens: int
    total_tokens: int
    remaining: int
    token_method: str
    token_error: str
    overflow_policy: OverflowPolicy
    documents: list[DocumentBudget]
    truncated: bool = False
    neutralized_markup: int = Field(0, description="Delimiter look-alikes defused inside documents.")


class Citation(BaseModel):
    document_id: str
    document_name: str | None = None
    quote: str
    file: str | None = Field(None, description="Archives: the member path; lines are relative to it.")
    page: int | None = None
    line_start: int | None = None
    line_end: int | None = None
    status: CitationStatus = "verified"
    closest_match: str | None = None


class AnswerItem(BaseModel):
    question: str | None
    answer: str
    citations: list[Citation] = Field(default_factory=list)


class JobResult(BaseModel):
    engine: str
    model: str
    answer: str
    answers: list[AnswerItem] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    reasoning: str | None = None
    usage: Usage = Field(default_factory=Usage)
    manifest: PackManifest | None = None
    finish_reason: str | None = None
    facts: dict[str, Any] = Field(default_factory=dict, description="Structured findings (offline engine).")
    unverified_citations: int = 0
    cost: Cost | None = None
    repacked: dict[str, Any] | None = Field(
        None,
        description="Set when the provider counted more tokens than we did and the prompt was re-packed.",
    )


class DryRun(BaseModel):
    """What a job would send and cost, without running it (POST /v1/jobs with dry_run)."""

    dry_run: Literal[True] = True
    model: str
    engine: str
    manifest: PackManifest
    estimated_cost_usd: float
    cost: Cost


class JobState(BaseModel):
    id: str
    tenant: str = "default"
    status: JobStatus = "queued"
    spec: JobSpec
    progress: Progress = Field(default_factory=Progress)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = 0
    history: list[JobEvent] = Field(default_factory=list)
    result: JobResult | None = None
    error: ErrorInfo | None = None


# ---------------------------------------------------------------- engine boundary


@dataclass
class CorpusDocument:
    """A ready document as the packer and engines see it."""

    id: str
    name: str
    kind: DocumentKind
    extracted: ExtractedText
    # Logs: 1 per line kept by options.time_range/levels (None: all), and the packer's per-line analysis
    # (service.logtable.LogTable, built once per job and reused by re-packs).
    keep: bytearray | None = field(default=None, repr=False)
    table: Any = field(default=None, repr=False)
    # Set on the packed copy when the packer showed a compressed view: the verbatim 1-based line numbers.
    view_lines: set[int] | None = field(default=None, repr=False)


@dataclass
class PackedPrompt:
    system: str
    user: str
    manifest: PackManifest
    documents: list[CorpusDocument]
    questions: list[str]
    job_type: JobType


@dataclass
class RawCitation:
    """A citation as an engine states it, before verification against the source."""

    document_id: str
    quote: str
    page: int | None = None
    line_start: int | None = None
    line_end: int | None = None
    file: str | None = None  # archives: member path, lines relative to it


@dataclass
class EngineAnswer:
    question: str | None
    answer: str
    citations: list[RawCitation] = field(default_factory=list)


@dataclass
class EngineOutput:
    engine: str
    model: str
    answers: list[EngineAnswer]
    reasoning: str | None = None
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
