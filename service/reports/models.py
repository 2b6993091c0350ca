"""Report templates, report records and the rendered content, as stored in Redis and shown over the API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.models import ErrorInfo, utcnow

ReportStatus = Literal["pending", "ready", "failed"]
OfflineBuilder = Literal["log_digest", "contract_portfolio", "answers"]


class SectionSpec(BaseModel):
    """One part of a report's output structure: a heading and what to put under it."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    title: str = Field(min_length=1, max_length=200)
    ask: str = Field(min_length=1, max_length=4000, description="What the model must write in this section.")


class ReportTemplate(BaseModel):
    """A prompt plus an output structure. User templates are TOML files with exactly these fields."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    prompt: str = Field(min_length=1, max_length=8000, description="Sent to the model before each section.")
    sections: list[SectionSpec] = Field(min_length=1, max_length=20)
    offline: OfflineBuilder = Field(
        "answers", description="Offline engine: built from its facts (built-ins) or its per-section answers."
    )
    defaults: dict[str, Any] = Field(default_factory=dict, description="Default report options.")
    source: str = Field("builtin", description="builtin, or the file the template came from.")

    def questions(self) -> list[str]:
        """One question per section: the prompt, then the section's heading and instruction."""
        return [f'{self.prompt.strip()}\n\nSection "{s.title}": {s.ask.strip()}' for s in self.sections]


class ReportOptions(BaseModel):
    """Options a report request may set; templates read the ones they know."""

    model_config = ConfigDict(extra="forbid")

    horizon_days: int | None = Field(None, ge=1, le=3660, description="Contracts: look this far ahead.")
    as_of: date | None = Field(None, description="Contracts: the day deadlines are counted from (today).")


class ReportIn(BaseModel):
    """POST /v1/reports: a template over documents or a collection."""

    model_config = ConfigDict(extra="forbid")

    template: str
    document_ids: list[str] = Field(default_factory=list)
    collection: str | None = None
    options: ReportOptions = Field(default_factory=ReportOptions)
    model: str | None = None
    callback_url: str | None = Field(None, pattern=r"^https?://", max_length=2000)

    @model_validator(mode="after")
    def _documents_or_collection(self) -> ReportIn:
        if not self.document_ids and not self.collection:
            raise ValueError("name document_ids or a collection")
        return self


class Cite(BaseModel):
    """A citation as a report shows it: where the quote is, and a link to that slice of text."""

    document_id: str
    document_name: str | None = None
    quote: str
    page: int | None = None
    line_start: int | None = None
    line_end: int | None = None
    status: str = "verified"

    @property
    def href(self) -> str:
        if self.page is not None:
            query = {"page": self.page}
        elif self.line_start is not None:
            query = {"line_start": self.line_start, "line_end": self.line_end or self.line_start}
        else:
            query = {}
        suffix = f"?{urlencode(query)}" if query else ""
        return f"/v1/documents/{self.document_id}/text{suffix}"

    @property
    def where(self) -> str:
        name = self.document_name or self.document_id
        if self.page is not None:
            return f"{name}, page {self.page}"
        if self.line_start is not None and self.line_end not in (None, self.line_start):
            return f"{name}, lines {self.line_start}-{self.line_end}"
        return f"{name}, line {self.line_start}" if self.line_start is not None else name


class Item(BaseModel):
    text: str
    code: str | None = Field(None, description="A verbatim token shown as code, e.g. a log template.")
    citations: list[Cite] = Field(default_factory=list)


class Section(BaseModel):
    key: str
    title: str
    items: list[Item] = Field(default_factory=list)
    note: str | None = Field(None, description="Shown when there are no items, or above them.")


class ReportContent(BaseModel):
    """Everything a rendering needs; kept once built so later reports can compare with it."""

    title: str
    template: str
    engine: str
    model: str
    label: str
    generated_at: datetime = Field(default_factory=utcnow)
    documents: list[dict[str, str]] = Field(default_factory=list)
    window: dict[str, datetime] | None = None
    sections: list[Section] = Field(default_factory=list)
    changes: Section | None = None
    previous_report_id: str | None = None
    snapshot: dict[str, Any] = Field(default_factory=dict, description="What the next report compares with.")


class Report(BaseModel):
    id: str
    tenant: str
    template: str
    title: str
    spec: ReportTemplate = Field(description="The template as it was when the report was asked for.")
    status: ReportStatus = "pending"
    job_id: str | None = None
    document_ids: list[str] = Field(default_factory=list)
    collection: str | None = None
    options: ReportOptions = Field(default_factory=ReportOptions)
    schedule_id: str | None = None
    run_id: str | None = None
    series: str = Field(description="Reports of one series are compared with each other.")
    window: dict[str, datetime] | None = None
    created_at: datetime = Field(default_factory=utcnow)
    ready_at: datetime | None = None
    error: ErrorInfo | None = None
    content: ReportContent | None = None
