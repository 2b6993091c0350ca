"""Verification of every citation against the extracted text.

A citation is `verified` when its quote occurs (ignoring case and runs of whitespace) at the page or
lines it names, or somewhere else in the document, in which case its anchor is corrected to the real
place. It is `approximate` when only a close match exists (the closest text is returned), and
`not_found` otherwise. Nothing unverifiable is passed on silently.

Archives (`meta["files"]`): a citation may name a member `file` with lines relative to that member; it
is checked against the whole text and always returned with the member and member-relative lines.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import re
from typing import Any

from service.models import Citation, CitationStatus, CorpusDocument, ExtractedText, RawCitation

_APPROXIMATE_RATIO = 0.8
_MAX_FUZZY_SPAN = 40_000


def _pattern(quote: str) -> re.Pattern[str] | None:
    words = quote.split()
    if not words:
        return None
    return re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)


def _cited_span(ex: ExtractedText, raw: RawCitation) -> tuple[int, int] | None:
    if raw.page is not None and ex.page_starts and 1 <= raw.page <= ex.page_count:
        return ex.page_span(raw.page)
    if raw.line_start is not None:
        last = raw.line_end if raw.line_end is not None else raw.line_start
        return ex.line_span(raw.line_start, max(last, raw.line_start))
    return None


def _anchored(
    doc: CorpusDocument,
    raw: RawCitation,
    start: int,
    end: int,
    status: CitationStatus = "verified",
    closest: str | None = None,
) -> Citation:
    ex = doc.extracted
    citation = Citation(
        document_id=doc.id, document_name=doc.name, quote=raw.quote, status=status, closest_match=closest
    )
    if ex.page_starts:
        citation.page = ex.page_at(start)
    else:
        citation.line_start = ex.line_at(start)
        citation.line_end = ex.line_at(max(start, end - 1))
        member = _file_at(ex, citation.line_start)
        if member is not None:
            citation.file = member["path"]
            citation.line_start -= member["line_start"] - 1
            citation.line_end -= member["line_start"] - 1
    return citation


def _file_at(ex: ExtractedText, line: int) -> dict[str, Any] | None:
    """The archive member holding whole-text line `line`, or None for single files."""
    files: list[dict[str, Any]] = ex.meta.get("files") or []
    if not files:
        return None
    index = bisect.bisect_right([f["line_start"] for f in files], line) - 1
    return files[max(index, 0)]


def to_whole_text(ex: ExtractedText, raw: RawCitation) -> RawCitation:
    """A citation with member-relative lines (`file`) turned into whole-text lines; others unchanged."""
    files: list[dict[str, Any]] = ex.meta.get("files") or []
    if raw.file is None or raw.line_start is None or not files:
        return raw
    member = next((f for f in files if f["path"] == raw.file), None)
    member = member or next((f for f in files if f["path"].endswith("/" + raw.file.lstrip("/"))), None)
    if member is None:
        return dataclasses.replace(raw, line_start=None, line_end=None)  # unknown file: search everywhere
    shift = member["line_start"] - 1
    end = raw.line_end if raw.line_end is not None else raw.line_start
    return dataclasses.replace(raw, line_start=raw.line_start + shift, line_end=end + shift)


def _closest(text: str, quote: str) -> tuple[float, int, int]:
    """Best fuzzy window of `text` for `quote`: (ratio, start, end)."""
    size = len(quote)
    step = max(1, size // 4)
    best = (0.0, 0, 0)
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(quote.lower())
    for start in range(0, max(1, len(text) - size + 1), step):
        matcher.set_seq1(text[start : start + size].lower())
        if matcher.real_quick_ratio() <= best[0] or matcher.quick_ratio() <= best[0]:
            continue
        ratio = matcher.ratio()
        if ratio > best[0]:
            best = (ratio, start, start + size)
    return best


def _not_found(raw: RawCitation, doc: CorpusDocument | None = None) -> Citation:
    """The citation as the engine stated it, marked unverifiable."""
    return Citation(
        document_id=raw.document_id,
        document_name=doc.name if doc else None,
        quote=raw.quote,
        file=raw.file,
        page=raw.page,
        line_start=raw.line_start,
        line_end=raw.line_end,
        status="not_found",
    )


def verify(raw: RawCitation, documents: dict[str, CorpusDocument]) -> Citation:
    doc = documents.get(raw.document_id)
    if doc is None or not raw.quote.strip():
        return _not_found(raw)
    ex = doc.extracted
    cited = raw
    raw = to_whole_text(ex, raw)
    pattern = _pattern(raw.quote)
    span = _cited_span(ex, raw)
    if pattern is not None:
        if span is not None:
            found = pattern.search(ex.text, span[0], span[1])
            if found:
                return _anchored(doc, raw, found.start(), found.end())
        found = pattern.search(ex.text)
        if found:
            return _anchored(doc, raw, found.start(), found.end())
    region = span or (0, min(len(ex.text), _MAX_FUZZY_SPAN))
    ratio, start, end = _closest(ex.text[region[0] : region[1]][:_MAX_FUZZY_SPAN], raw.quote)
    if ratio >= _APPROXIMATE_RATIO:
        match = ex.text[region[0] + start : region[0] + end]
        return _anchored(doc, raw, region[0] + start, region[0] + end, "approximate", match)
    return _not_found(cited, doc)


def verify_all(raws: list[RawCitation], documents: dict[str, CorpusDocument]) -> list[Citation]:
    return [verify(raw, documents) for raw in raws]
