"""Loading a job's documents as extracted text, once every one of them is ready."""

from __future__ import annotations

import time
from collections.abc import Callable

from service.blobs import BlobStore
from service.errors import ExtractionFailed, LongdocError
from service.models import CorpusDocument, DocumentRecord
from service.records import Records


def _pending(records: Records, docs: list[DocumentRecord]) -> list[str]:
    """Ids of documents still being extracted; raises if any failed for good."""
    pending = []
    for doc in docs:
        content = records.get_content(doc.sha256)
        if content is None or content.status == "failed":
            reason = content.error.message if content and content.error else "its content is gone"
            raise ExtractionFailed(
                f"document {doc.id} ({doc.name}) could not be extracted: {reason}",
                code="document_failed",
                details={"document_id": doc.id},
            )
        if content.status != "ready":
            pending.append(doc.id)
    return pending


def load_corpus(
    records: Records,
    blobs: BlobStore,
    document_ids: list[str],
    tenant: str,
    wait_s: float,
    too_late: Callable[[list[str]], LongdocError],
    on_wait: Callable[[], None] | None = None,
) -> list[CorpusDocument]:
    """The documents as extracted text, waiting up to `wait_s` while any is still being extracted.

    `too_late(pending_ids)` builds the error raised after the wait; `on_wait` runs on every poll and may
    raise (a cancelled job stops waiting)."""
    docs = [records.get_document(doc_id, tenant) for doc_id in document_ids]
    deadline = time.monotonic() + wait_s
    while pending := _pending(records, docs):
        if time.monotonic() >= deadline:
            raise too_late(pending)
        if on_wait is not None:
            on_wait()
        time.sleep(0.2)
    return [CorpusDocument(d.id, d.name, d.kind, blobs.load_text(d.sha256)) for d in docs]
