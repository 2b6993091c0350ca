"""Document operations behind the API and CLI: accept an upload, describe, read text, delete.

Extraction is content-addressed: identical bytes share one content record and are extracted once,
whatever their names or how often they are uploaded.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from service.blobs import BlobWriter
from service.errors import BadRequest, LongdocError
from service.extract import sniff
from service.models import ContentRecord, DocumentRecord, ErrorInfo
from service.pipeline import Services
from service.queue import JobQueue
from service.stored_text import open_text

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")


def safe_filename(raw: str | None) -> str:
    """The last path component, without control characters, at most 200 characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", _UNSAFE_NAME.sub("", name)).strip().lstrip(".")
    return name[:200] or "upload"


@dataclass
class Accepted:
    document: DocumentRecord
    needs_extraction: bool


def accept_upload(services: Services, writer: BlobWriter, filename: str, tenant: str) -> Accepted:
    """Finish a streamed upload: sniff the bytes, store the blob once, record the document."""
    try:
        sha = writer.finish()
        kind, media_type = sniff(writer.tmp_path, filename)
    except LongdocError:
        writer.abort()
        raise
    records = services.records
    doc = DocumentRecord(
        id=f"doc_{uuid.uuid4().hex[:20]}",
        tenant=tenant,
        name=filename,
        media_type=media_type,
        kind=kind,
        size=writer.size,
        sha256=sha,
    )
    # Same lock as `delete`: a deletion of the last document with these bytes cannot remove the blob
    # between our commit (which may drop our copy because the blob exists) and our reference to it.
    try:
        with records.locked(f"content:{sha}"):
            writer.commit(sha)
            content = ContentRecord(sha256=sha, kind=kind, media_type=media_type)
            needs_extraction = records.claim_content(content)
            if not needs_extraction:
                existing = records.get_content(sha)
                if existing is None or existing.status == "failed" or not _text_present(services, existing):
                    # a failed (or lost) extraction is tried again on re-upload; limits may have changed
                    records.put_content(content)
                    needs_extraction = True
            records.put_document(doc)
    except BaseException:
        writer.abort()  # nothing of this upload stays behind (no-op once committed)
        raise
    return Accepted(doc, needs_extraction)


def enqueue_extraction(services: Services, queue: JobQueue, sha256: str) -> None:
    """Queue extraction; if the queue is unreachable, mark the content failed so a re-upload retries it."""
    try:
        queue.submit_extraction(sha256)
    except Exception:
        content = services.records.get_content(sha256)
        if content is not None:
            content.status = "failed"
            content.error = ErrorInfo(
                code="queue_unavailable", message="extraction could not be queued; upload the file again"
            )
            services.records.put_content(content)
        raise


def _text_present(services: Services, content: ContentRecord) -> bool:
    return content.status != "ready" or services.blobs.has_text(content.sha256)


def describe(services: Services, doc: DocumentRecord) -> dict[str, Any]:
    content = services.records.get_content(doc.sha256)
    view: dict[str, Any] = doc.model_dump(mode="json")
    view.pop("tenant", None)
    if content is None:
        view["status"] = "failed"
        view["error"] = ErrorInfo(
            code="content_missing", message="the extracted content is gone"
        ).model_dump()
        return view
    # the extraction state (status, error, pages, lines, chars, tokens, ...) comes from the shared content
    view.update(content.model_dump(mode="json", exclude={"sha256", "kind", "media_type"}))
    return view


def read_text(
    services: Services,
    doc: DocumentRecord,
    offset: int = 0,
    limit: int = 100_000,
    page: int | None = None,
    line_start: int | None = None,
    line_end: int | None = None,
) -> dict[str, Any]:
    """A slice of the extracted text: by character offset/limit, or one page, or a range of lines."""
    content = services.records.get_content(doc.sha256)
    if content is None or content.status != "ready":
        status = content.status if content else "failed"
        raise BadRequest(f"document {doc.id} is {status}, not ready", code="document_not_ready")
    ex = open_text(services.blobs, doc.sha256, content.chars)
    total = ex.total_chars()
    start, end = offset, offset + limit
    if page is not None:
        if not ex.page_starts or not 1 <= page <= ex.page_count:
            raise BadRequest(f"page {page} does not exist (pages: {ex.page_count})", code="bad_page")
        start, end = ex.page_span(page)
    elif line_start is not None:
        last = line_end if line_end is not None else line_start
        if line_start < 1 or last < line_start or line_start > ex.line_count:
            raise BadRequest(
                f"lines {line_start}-{last} do not exist (lines: {ex.line_count})", code="bad_lines"
            )
        start, end = ex.line_span(line_start, last)
    start, end = min(max(start, 0), total), min(end, total)
    return {
        "document_id": doc.id,
        "offset": start,
        "limit": end - start,
        "total_chars": total,
        "next_offset": end if end < total else None,
        "page": page,
        "line_start": line_start,
        "line_end": line_end if line_start is not None else None,
        "text": ex.slice(start, end),
    }


def delete(services: Services, doc: DocumentRecord) -> None:
    """Remove the record; the blob and text go too once no document refers to them."""
    with services.records.locked(f"content:{doc.sha256}"):
        if services.records.delete_document(doc):
            services.blobs.delete_blob(doc.sha256)
