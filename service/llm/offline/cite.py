"""Turn character spans into exact, bounded quotes and numbered citations."""

from __future__ import annotations

import bisect
from typing import Any

from service.models import CorpusDocument, ExtractedText, RawCitation

from .segment import trim

QUOTE_LIMIT = 300


def _word_start(text: str, pos: int, floor: int, limit: int) -> int:
    """Move `pos` forward (not past `limit`) to the start of a word."""
    while floor < pos < limit and not text[pos - 1].isspace():
        pos += 1
    return pos


def _word_end(text: str, pos: int, floor: int, limit: int) -> int:
    """Move `pos` back (not before `floor`) to the end of a word."""
    while floor < pos < limit and not text[pos].isspace():
        pos -= 1
    return pos


def clip(
    text: str, start: int, end: int, focus: tuple[int, int] | None = None, limit: int = QUOTE_LIMIT
) -> tuple[int, int]:
    """A sub-span of [start, end) of at most `limit` chars, cut at word boundaries, around `focus`."""
    start, end = trim(text, start, end)
    if end - start <= limit:
        return start, end
    f_start, f_end = focus if focus else (start, start)
    f_start, f_end = max(start, f_start), min(end, max(f_end, f_start))
    if f_end - f_start >= limit:
        return trim(text, f_start, f_start + limit)
    w_start = max(start, min(f_start - (limit - (f_end - f_start)) // 2, end - limit))
    w_start = _word_start(text, w_start, start, f_start)
    w_end = min(end, w_start + limit)
    w_end = _word_end(text, w_end, f_end, end)
    return trim(text, w_start, w_end)


def member_of(ext: ExtractedText, line: int) -> dict[str, Any] | None:
    """The archive member holding whole-text `line`, or None for single files."""
    files: list[dict[str, Any]] = ext.meta.get("files") or []
    if not files:
        return None
    return files[max(bisect.bisect_right([f["line_start"] for f in files], line) - 1, 0)]


def member_line(ext: ExtractedText, line: int) -> tuple[str | None, int]:
    """(member path, member-relative line) of whole-text `line`; (None, line) for single files."""
    member = member_of(ext, line)
    if member is None:
        return None, line
    return member["path"], line - member["line_start"] + 1


def citation(doc: CorpusDocument, start: int, end: int) -> RawCitation:
    """Cite `text[start:end]`: by page for paged documents, by line range otherwise (archives: the member
    file and lines relative to it)."""
    ext = doc.extracted
    quote = ext.text[start:end]
    if ext.page_starts:
        return RawCitation(document_id=doc.id, quote=quote, page=ext.page_at(start))
    first, last = ext.line_at(start), ext.line_at(max(start, end - 1))
    path, relative = member_line(ext, first)
    if path is not None and member_line(ext, last)[0] == path:
        return RawCitation(
            document_id=doc.id, quote=quote, line_start=relative, line_end=relative + last - first, file=path
        )
    return RawCitation(document_id=doc.id, quote=quote, line_start=first, line_end=last)


def location(cite: RawCitation) -> str:
    if cite.page is not None:
        return f"p. {cite.page}"
    where = f"{cite.file} " if cite.file else ""
    if cite.line_start == cite.line_end:
        return f"{where}line {cite.line_start}"
    return f"{where}lines {cite.line_start}-{cite.line_end}"


class Citations:
    """The numbered citation list of one answer; `[n]` markers in the text refer to it."""

    def __init__(self, limit: int) -> None:
        self.items: list[RawCitation] = []
        self._numbers: dict[tuple[str, str, str | None, int | None, int | None], int] = {}
        self._limit = limit
        self._ceiling = limit

    def share(self, sections_left: int) -> None:
        """Cap the next section at its fair share of the citations still free (the last gets the rest)."""
        free = self._limit - len(self.items)
        self._ceiling = len(self.items) + max(1, free // max(1, sections_left))

    def add(self, cite: RawCitation) -> int | None:
        """1-based number of `cite`, reusing an identical earlier one; None once the list is full."""
        key = (cite.document_id, cite.quote, cite.file, cite.page, cite.line_start)
        if key in self._numbers:
            return self._numbers[key]
        if len(self.items) >= min(self._limit, self._ceiling) or not cite.quote:
            return None
        self.items.append(cite)
        self._numbers[key] = len(self.items)
        return len(self.items)

    def mark(self, cite: RawCitation | None) -> str:
        """' [n]' for the text, or '' when the citation could not be added."""
        if cite is None:
            return ""
        number = self.add(cite)
        return f" [{number}]" if number is not None else ""
