"""The compressed log view, archive rendering with member-relative lines, citations into archives, filters."""

from __future__ import annotations

import re
import sys
from datetime import datetime
from pathlib import Path

import pytest

from service.citations import verify
from service.errors import ContextOverflow
from service.logtable import ERROR, build_table, keep_mask
from service.models import CorpusDocument, ExtractedText, RawCitation
from service.pack import Budget, pack
from service.tokens import make_counter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from logdata import multi_service_stream  # noqa: E402

COUNTER = make_counter(None, None, None, "MiniMax-M1")
_VERBATIM = re.compile(r"^(\d+)\| (.*)$", re.MULTILINE)


@pytest.fixture(scope="module")
def big_log() -> CorpusDocument:
    text = "\n".join(multi_service_stream(20_000)) + "\n"
    return CorpusDocument("doc_big", "big.log", "log", ExtractedText(text, "log"))


def _fresh(doc: CorpusDocument) -> CorpusDocument:
    return CorpusDocument(doc.id, doc.name, doc.kind, doc.extracted)


def test_log_that_does_not_fit_is_compressed_faithfully(big_log: CorpusDocument) -> None:
    doc = _fresh(big_log)
    prompt = pack([doc], "qa", ["what went wrong?"], Budget("small", 60_000, 2_000), COUNTER, None)
    m = prompt.manifest
    assert m.overflow_policy == "compress" and m.total_tokens + m.safety_margin <= 58_000
    view = m.documents[0].view
    assert view is not None and view["dropped_lines"] == 0
    assert view["verbatim_lines"] + view["template_only_lines"] == 20_000
    lines = big_log.extracted.text.split("\n")
    shown = {int(n): text for n, text in _VERBATIM.findall(prompt.user)}
    assert len(shown) == view["verbatim_lines"] > 100
    assert all(lines[n - 1] == text for n, text in shown.items())  # real numbers, exact text
    table = build_table(big_log.extracted)
    assert f'templates="{len(table.rows)}"' in prompt.user
    for row in table.rows:  # every template is in the table and has its first line verbatim
        assert row.pattern in prompt.user and row.first_line in shown
    errors = [i + 1 for i in range(table.lines) if table.level[i] == ERROR]
    onset = next(n for n in errors if n > 20_000 * 0.48)
    assert all(n in shown for n in errors if onset <= n < onset + 50)  # the burst's start, verbatim
    assert "How to read this view" in prompt.user
    assert prompt.documents[0].view_lines == set(shown)


def test_compress_is_not_used_for_non_logs_and_error_stays_default(big_log: CorpusDocument) -> None:
    text_doc = CorpusDocument("doc_t", "notes.txt", "text", big_log.extracted)
    with pytest.raises(ContextOverflow):
        pack([text_doc], "qa", ["q"], Budget("small", 60_000, 2_000), COUNTER, None)
    with pytest.raises(ContextOverflow):
        pack([_fresh(big_log)], "qa", ["q"], Budget("small", 60_000, 2_000), COUNTER, "error")


def _archive() -> ExtractedText:
    a = "2025-03-14T10:00:00Z INFO api started\n2025-03-14T10:00:01Z ERROR db timeout\n"
    b = "2025-03-14T10:00:02Z WARN disk at 91%\n"
    files = [
        {"path": "api/app.log", "char_start": 0, "line_start": 1, "lines": 2, "bytes": len(a)},
        {"path": "db/db.log", "char_start": len(a), "line_start": 3, "lines": 1, "bytes": len(b)},
    ]
    return ExtractedText(a + b, "log", meta={"files": files})


def test_archive_members_render_as_file_elements_with_relative_lines() -> None:
    doc = CorpusDocument("doc_a", "logs.tar.gz", "log", _archive())
    prompt = pack([doc], "qa", ["q"], Budget("m", 100_000, 1_000), COUNTER)
    assert '<file path="api/app.log">\n1| 2025-03-14T10:00:00Z INFO api started\n2| ' in prompt.user
    assert '<file path="db/db.log">\n1| 2025-03-14T10:00:02Z WARN disk at 91%\n</file>' in prompt.user


def test_citation_into_archive_member_verifies_and_reports_member_lines() -> None:
    doc = CorpusDocument("doc_a", "logs.tar.gz", "log", _archive())
    docs = {doc.id: doc}
    cited = verify(RawCitation("doc_a", "WARN disk at 91%", line_start=1, file="db/db.log"), docs)
    assert (cited.status, cited.file, cited.line_start) == ("verified", "db/db.log", 1)
    # a whole-text line number (as the offline engine gives) comes back member-relative too
    moved = verify(RawCitation("doc_a", "ERROR db timeout", line_start=2), docs)
    assert (moved.status, moved.file, moved.line_start, moved.line_end) == ("verified", "api/app.log", 2, 2)


def test_level_and_time_filters_keep_whole_events_with_original_numbers(big_log: CorpusDocument) -> None:
    table = build_table(big_log.extracted)
    errors = keep_mask(table, None, None, ["error", "fatal"])
    assert sum(errors) == sum(1 for lvl in table.level if lvl == ERROR) > 0
    start, end = datetime(2026, 3, 4, 10, 0, 10), datetime(2026, 3, 4, 10, 0, 20)
    window = keep_mask(table, start, end, None)
    assert 0 < sum(window) < table.lines
    doc = _fresh(big_log)
    doc.keep = errors
    prompt = pack([doc], "qa", ["q"], Budget("m", 1_000_000, 1_000), COUNTER, "error")
    shown = {int(n) for n, _ in _VERBATIM.findall(prompt.user)}
    assert shown == {i + 1 for i in range(table.lines) if errors[i]}
    assert "lines outside the filter" in prompt.user
    assert prompt.manifest.documents[0].filtered == {"kept_lines": sum(errors), "total_lines": table.lines}
