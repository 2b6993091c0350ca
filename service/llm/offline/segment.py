"""Split extracted text into citable segments with exact character offsets.

Segments never cross a page boundary (paged formats) and never cross a paragraph. Log segments are single
lines. Plain-text sentences may wrap over several lines of one paragraph; their citation then names the
line range, and the quote stays an exact substring of those lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from service.models import CorpusDocument, ExtractedText

MAX_SEGMENT = 600
MIN_FRAGMENT = 40

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_NEWLINE = re.compile(r"\n\s*")
_BOUNDARY = re.compile(r"[.!?][\"'\u201d\u2019)\]]*(?=\s+[\"'\u201c\u2018(\[]?[A-Z0-9])")
_LAST_WORD = re.compile(r"([A-Za-z.]+)$")
_ABBREVIATION_TEXT = (
    "mr mrs ms dr prof inc ltd co corp no nos sec art e.g i.e vs etc st jr sr u.s para cl approx fig "
    "pp vol dept est min max jan feb mar apr jun jul aug sep sept oct nov dec"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_TEXT.split())


@dataclass(frozen=True, slots=True)
class Segment:
    """A sentence (or log line) of one document: `text[start:end]` of `doc_index`'s extracted text."""

    doc_index: int
    start: int
    end: int


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) so it neither starts nor ends with whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _spans_between(pattern: re.Pattern[str], text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    for match in pattern.finditer(text, start, end):
        yield pos, match.start()
        pos = match.end()
    yield pos, end


def _is_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word = _LAST_WORD.search(text, max(0, dot - 12), dot)
    if word is None:
        return False
    token = word.group(1).lower()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    for match in _BOUNDARY.finditer(text, start, end):
        if _is_abbreviation(text, match.start()):
            continue
        yield pos, match.end()
        pos = match.end()
    yield pos, end


def _chunks(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Cut an over-long span at whitespace so no segment exceeds MAX_SEGMENT characters."""
    while end - start > MAX_SEGMENT:
        cut = start + MAX_SEGMENT
        space = max(text.rfind(" ", start + MAX_SEGMENT // 2, cut), text.rfind("\n", start, cut))
        if space > start:
            cut = space
        yield trim(text, start, cut)
        start = cut
    yield trim(text, start, end)


def _paragraph_sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Sentences of one paragraph, tiny fragments (numbering, headings) merged into the next one."""
    pending: int | None = None
    for s, e in _sentences(text, start, end):
        s, e = trim(text, s, e)
        if s >= e:
            continue
        if pending is not None:
            s = pending
        if e - s < MIN_FRAGMENT:
            pending = s
            continue
        pending = None
        yield from _chunks(text, s, e)
    if pending is not None:
        yield from _chunks(text, pending, trim(text, pending, end)[1])


def _unit_spans(ext: ExtractedText) -> Iterator[tuple[int, int]]:
    """Hard boundaries no segment may cross: pages when paged, else the whole text."""
    if ext.page_starts:
        for page in range(1, len(ext.page_starts) + 1):
            yield ext.page_span(page)
    else:
        yield 0, len(ext.text)


def prose_segments(doc_index: int, ext: ExtractedText) -> list[Segment]:
    """Sentences of a pdf/docx/text document."""
    text = ext.text
    paragraph = _NEWLINE if ext.kind == "docx" else _BLANK_LINE
    found: list[Segment] = []
    for unit_start, unit_end in _unit_spans(ext):
        for p_start, p_end in _spans_between(paragraph, text, unit_start, unit_end):
            for s, e in _paragraph_sentences(text, p_start, p_end):
                if s < e:
                    found.append(Segment(doc_index, s, e))
    return found


def line_segments(doc_index: int, ext: ExtractedText) -> list[Segment]:
    """One segment per non-blank line (long lines cut into chunks that stay on the line)."""
    text = ext.text
    starts = ext.line_starts
    found: list[Segment] = []
    for i, start in enumerate(starts):
        end = starts[i + 1] - 1 if i + 1 < len(starts) else len(text)
        s, e = trim(text, start, end)
        if s >= e:
            continue
        if e - s <= MAX_SEGMENT:
            found.append(Segment(doc_index, s, e))
        else:
            found.extend(Segment(doc_index, cs, ce) for cs, ce in _chunks(text, s, e) if cs < ce)
    return found


def segment_document(doc_index: int, doc: CorpusDocument, as_log: bool) -> list[Segment]:
    if as_log:
        return line_segments(doc_index, doc.extracted)
    return prose_segments(doc_index, doc.extracted)
