"""PDF text via pypdf, one page at a time.

Each page's text is exactly `page.extract_text()`; pages are joined with "\\n" so every page is one
contiguous slice starting at `page_starts[i]`. pypdf raises arbitrary exceptions on hostile input (its
security model says so), so every call is wrapped and translated here, once, into ExtractionFailed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError

from service.config import LimitSettings
from service.errors import ExtractionFailed, LongdocError
from service.models import ExtractedText

from ._common import check_chars


def extract_pdf(path: Path, limits: LimitSettings) -> ExtractedText:
    """Extract the text layer of a PDF, with one page anchor per page."""
    with _pypdf_errors():
        reader = PdfReader(path, strict=False)
        was_encrypted = reader.is_encrypted
        if was_encrypted:
            _unlock(reader)
        count = len(reader.pages)
        if count > limits.max_pdf_pages:
            raise ExtractionFailed(
                f"The PDF has {count:,} pages; the limit is {limits.max_pdf_pages:,}.",
                code="too_many_pages",
                details={"pages": count, "max_pdf_pages": limits.max_pdf_pages},
            )
        pages = _page_texts(reader, limits)
    if not any(page.strip() for page in pages):
        raise ExtractionFailed(
            "The PDF has no text layer (scanned images?); OCR is not supported.", code="no_text_layer"
        )
    starts: list[int] = []
    offset = 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + 1
    meta: dict[str, object] = {"pages": count, "encrypted": was_encrypted}
    title = _title(reader)
    if title:
        meta["title"] = title
    return ExtractedText(text="\n".join(pages), kind="pdf", page_starts=starts, meta=meta)


def _unlock(reader: PdfReader) -> None:
    """Open PDFs that only carry an owner password (empty user password); refuse the rest."""
    try:
        result = reader.decrypt("")
    except DependencyError as exc:
        raise ExtractionFailed("The PDF uses an unsupported encryption.", code="encrypted") from exc
    if result == PasswordType.NOT_DECRYPTED:
        raise ExtractionFailed("The PDF is password-protected.", code="encrypted")


def _page_texts(reader: PdfReader, limits: LimitSettings) -> list[str]:
    texts: list[str] = []
    total = 0
    for page in reader.pages:
        text = page.extract_text()
        total = check_chars(total + len(text) + 1, limits)
        texts.append(text)
    return texts


def _title(reader: PdfReader) -> str | None:
    try:
        info = reader.metadata
        title = info.title if info is not None else None
    except Exception:  # a broken /Info dictionary must not fail an otherwise readable PDF
        return None
    return str(title).strip() or None if title else None


@contextmanager
def _pypdf_errors() -> Iterator[None]:
    try:
        yield
    except (LongdocError, MemoryError):
        raise
    except Exception as exc:  # pypdf's documented contract: any exception may come out of a bad file
        raise ExtractionFailed(
            f"The PDF could not be read: {type(exc).__name__}: {exc}"[:500], code="malformed"
        ) from exc
