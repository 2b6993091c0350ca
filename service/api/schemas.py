"""HTTP response models (request bodies reuse the domain's JobSpec)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from service.models import DocumentKind, DocumentStatus, ErrorInfo, JobState, JobStatus


class DocumentOut(BaseModel):
    id: str
    name: str
    media_type: str
    kind: DocumentKind
    size: int
    sha256: str
    status: DocumentStatus
    created_at: datetime
    error: ErrorInfo | None = None
    pages: int | None = None
    lines: int | None = None
    chars: int | None = None
    tokens: int | None = None
    token_method: str | None = None
    encoding: str | None = None
    extracted_at: datetime | None = None
    collection: str | None = None


class DocumentList(BaseModel):
    total: int
    items: list[DocumentOut]


class TextSlice(BaseModel):
    document_id: str
    offset: int
    limit: int
    total_chars: int
    next_offset: int | None
    page: int | None = None
    line_start: int | None = None
    line_end: int | None = None
    text: str


class JobAccepted(BaseModel):
    id: str
    status: JobStatus
    created_at: datetime


class JobOut(JobState):
    """The job's state; `result` appears once it succeeded, `error` once it failed."""


class JobList(BaseModel):
    total: int
    items: list[JobOut]
