"""Reading a log document's stored template summary (for the API and CLI)."""

from __future__ import annotations

from typing import Any

from service.errors import BadRequest
from service.extract.logsummary import summarize_log, templates_page
from service.models import DocumentRecord
from service.pipeline import Services


def read_templates(
    services: Services, doc: DocumentRecord, file: str | None, offset: int, limit: int
) -> dict[str, Any]:
    """One page of the document's templates; mined now (and stored) if it predates stored summaries."""
    content = services.records.get_content(doc.sha256)
    if content is None or content.status != "ready":
        status = content.status if content else "failed"
        raise BadRequest(f"document {doc.id} is {status}, not ready", code="document_not_ready")
    if doc.kind != "log":
        raise BadRequest(f"document {doc.id} is {doc.kind}, not a log", code="not_a_log")
    summary = services.blobs.load_logsummary(doc.sha256)
    if summary is None:
        summary = summarize_log(services.blobs.load_text(doc.sha256))
        services.blobs.save_logsummary(doc.sha256, summary)
    if file is not None and all(f["path"] != file for f in summary["files"]):
        raise BadRequest(f"the document has no file {file!r}", code="bad_file")
    return {"document_id": doc.id, **templates_page(summary, file, offset, limit)}
