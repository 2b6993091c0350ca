"""Seek-based slices of stored ASCII text equal slices of the loaded text; other text is loaded whole."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from service.blobs import BlobStore
from service.models import ExtractedText
from service.stored_text import AsciiText, WholeText, open_text


def _stored(tmp_path: Path, text: str, pages: list[int]) -> tuple[BlobStore, str]:
    blobs = BlobStore(tmp_path / "store")
    sha = "ab" * 32
    blobs.save_text(sha, ExtractedText(text=text, kind="pdf" if pages else "log", page_starts=pages))
    return blobs, sha


@pytest.mark.parametrize("text", ["", "\n", "one line", "a\nb\n", "a\n\nb", "x\n" * 50 + "tail"])
def test_ascii_spans_equal_the_loaded_text(tmp_path: Path, text: str) -> None:
    pages = [0, len(text) // 2] if text else []
    blobs, sha = _stored(tmp_path, text, pages)
    fast = open_text(blobs, sha, len(text))
    whole = WholeText(blobs.load_text(sha))
    assert isinstance(fast, AsciiText)
    assert fast.line_count == whole.line_count and fast.total_chars() == whole.total_chars()
    for first in range(1, whole.line_count + 2):
        for last in range(first, whole.line_count + 3):
            assert fast.line_span(first, last) == whole.line_span(first, last)
            assert fast.slice(*fast.line_span(first, last)) == whole.slice(*whole.line_span(first, last))
    for page in range(1, whole.page_count + 1):
        assert fast.page_span(page) == whole.page_span(page)
    rng = random.Random(1)
    for _ in range(50):
        start = rng.randrange(len(text) + 2)
        end = start + rng.randrange(8)
        bounded = (min(start, len(text)), min(end, len(text)))
        assert fast.slice(*bounded) == text[bounded[0] : bounded[1]]


def test_non_ascii_text_is_loaded_whole(tmp_path: Path) -> None:
    text = "prix: 5 €\nsuite\n"
    blobs, sha = _stored(tmp_path, text, [])
    reader = open_text(blobs, sha, len(text))
    assert isinstance(reader, WholeText)
    assert reader.slice(*reader.line_span(1, 1)) == "prix: 5 €"
