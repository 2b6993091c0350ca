"""Slices of a stored extraction read by seeking, without loading the whole text.

`GET /v1/documents/{id}/text` serves pages, line ranges and character windows of texts that can be
gigabytes long. When the stored UTF-8 text is pure ASCII (its byte size equals its character count,
which logs almost always are) a character offset is a byte offset, so a slice is one seek and one read,
and a line range reads two entries of the stored line index. Other texts are loaded whole.
"""

from __future__ import annotations

from array import array
from pathlib import Path
from typing import Protocol

from service.blobs import BlobStore
from service.models import ExtractedText

__all__ = ["TextSlices", "open_text"]

_ITEM = array("q").itemsize


class TextSlices(Protocol):
    """What a reader of slices needs; ExtractedText provides it too."""

    page_starts: list[int]

    @property
    def page_count(self) -> int: ...
    @property
    def line_count(self) -> int: ...
    def page_span(self, page: int) -> tuple[int, int]: ...
    def line_span(self, first: int, last: int) -> tuple[int, int]: ...
    def total_chars(self) -> int: ...
    def slice(self, start: int, end: int) -> str: ...


class WholeText:
    """A loaded ExtractedText behind the TextSlices interface."""

    def __init__(self, extracted: ExtractedText):
        self.ex = extracted
        self.page_starts = extracted.page_starts

    @property
    def page_count(self) -> int:
        return self.ex.page_count

    @property
    def line_count(self) -> int:
        return self.ex.line_count

    def page_span(self, page: int) -> tuple[int, int]:
        return self.ex.page_span(page)

    def line_span(self, first: int, last: int) -> tuple[int, int]:
        return self.ex.line_span(first, last)

    def total_chars(self) -> int:
        return len(self.ex.text)

    def slice(self, start: int, end: int) -> str:
        return self.ex.text[start:end]


class AsciiText:
    """An ASCII stored text read by seeks: the same spans as ExtractedText's, from the files."""

    def __init__(self, text_path: Path, lines_path: Path, page_starts: list[int]):
        self.text_path, self.lines_path = text_path, lines_path
        self.page_starts = page_starts
        self._size = text_path.stat().st_size
        self._entries = lines_path.stat().st_size // _ITEM

    @property
    def page_count(self) -> int:
        return len(self.page_starts)

    @property
    def line_count(self) -> int:
        ends_with_newline = self._size > 0 and self.slice(self._size - 1, self._size) == "\n"
        return self._entries - 1 if ends_with_newline else self._entries

    def total_chars(self) -> int:
        return self._size

    def page_span(self, page: int) -> tuple[int, int]:
        start = self.page_starts[page - 1]
        end = self.page_starts[page] if page < len(self.page_starts) else self._size
        return start, end

    def line_span(self, first: int, last: int) -> tuple[int, int]:
        first = min(max(first, 1), self._entries)
        last = min(max(last, first), self._entries)
        start = self._entry(first - 1)
        end = self._entry(last) - 1 if last < self._entries else self._size
        return start, max(end, start)

    def slice(self, start: int, end: int) -> str:
        if end <= start:
            return ""
        with self.text_path.open("rb") as fh:
            fh.seek(start)
            return fh.read(end - start).decode("ascii")

    def _entry(self, index: int) -> int:
        with self.lines_path.open("rb") as fh:
            fh.seek(index * _ITEM)
            entry = array("q")
            entry.frombytes(fh.read(_ITEM))
            return entry[0]


def open_text(blobs: BlobStore, sha256: str, chars: int | None) -> TextSlices:
    """Seek-based slices when the stored text is ASCII (`chars`, the character count, equals its size)."""
    text, lines = blobs.text_path(sha256), blobs.text_path(sha256).with_suffix(".lines")
    if chars is not None and lines.exists() and text.stat().st_size == chars:
        return AsciiText(text, lines, blobs.load_meta(sha256)["page_starts"])
    return WholeText(blobs.load_text(sha256))
