"""Which extractor handles which kind, and the in-process entry point."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from service.config import LimitSettings
from service.errors import ExtractionFailed
from service.models import DocumentKind, ExtractedText

from .archive import container_of, extract_archive
from .docx import extract_docx
from .logsummary import summarize_log
from .pdf import extract_pdf
from .text import extract_log, extract_plain

Extractor = Callable[[Path, LimitSettings], ExtractedText]


def extract_log_or_archive(path: Path, limits: LimitSettings) -> ExtractedText:
    """A log file (plain, .gz, .bz2, .zst), or an archive of them as one document with per-file anchors."""
    with path.open("rb") as fh:
        head = fh.read(8192)
    container = container_of(path, head)
    if container is not None:
        return extract_archive(path, container, limits)
    return extract_log(path, limits)


EXTRACTORS: dict[DocumentKind, Extractor] = {
    "pdf": extract_pdf,
    "docx": extract_docx,
    "text": extract_plain,
    "log": extract_log_or_archive,
}


def extract(path: Path, kind: DocumentKind, limits: LimitSettings) -> ExtractedText:
    """Extract `path` as `kind` in this process. Prefer `extract_isolated` for untrusted files."""
    try:
        extractor = EXTRACTORS[kind]
    except KeyError:
        raise ExtractionFailed(f"No extractor for kind {kind!r}.", code="unsupported_kind") from None
    try:
        extracted = extractor(path, limits)
        if extracted.kind == "log":  # templates without a model, mined while the text is at hand
            extracted.log_summary = summarize_log(extracted)
        return extracted
    except MemoryError as exc:
        raise ExtractionFailed("Extraction ran out of memory.", code="resource_limit") from exc
