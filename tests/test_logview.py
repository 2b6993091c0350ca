"""The compressed log view, archive rendering with member-relative lines, citations into archives, filters."""

from __future__ import annotations

import math
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from service.citations import verify
from service.errors import ContextOverflow
from service.logbursts import WINDOW, find_bursts, masks
from service.logtable import ERROR, LogTable, build_table, keep_mask
from service.logview import HISTOGRAM_BINS, _binner, _in_order, _sorted_binner, _spread
from service.models import CorpusDocument, ExtractedText, PackedPrompt, RawCitation
from service.pack import Budget, pack
from service.tokens import make_counter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from logdata import burst_span, multi_service_stream  # noqa: E402

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


# --- error bursts: found, shown first, every error line of a burst verbatim when they fit -------------

MEMBERS, MEMBER_LINES = 4, 50_000


@pytest.fixture(scope="module")
def archive() -> CorpusDocument:
    """Four services' logs in one archive, each with its own error burst (~1,600 error lines)."""
    texts = ["\n".join(multi_service_stream(MEMBER_LINES, seed=s)) + "\n" for s in range(MEMBERS)]
    files, char = [], 0
    for s, text in enumerate(texts):
        line_start = 1 + s * MEMBER_LINES
        files.append(
            {"path": f"svc{s}/app.log", "char_start": char, "line_start": line_start, "lines": MEMBER_LINES}
        )
        char += len(text)
    return CorpusDocument(
        "doc_arch", "logs.tar.gz", "log", ExtractedText("".join(texts), "log", meta={"files": files})
    )


@pytest.fixture(scope="module")
def archive_table(archive: CorpusDocument) -> LogTable:
    return build_table(archive.extracted)


def _with_table(doc: CorpusDocument, table: LogTable) -> CorpusDocument:
    fresh = _fresh(doc)
    fresh.table = table  # mined once for the module (what extraction stores for the packer)
    return fresh


def _shown(user: str, doc: CorpusDocument) -> dict[int, str]:
    """Whole-text line number -> text of every verbatim line of the view (member-relative inside <file>)."""
    starts = {f["path"]: f["line_start"] for f in doc.extracted.meta["files"]}
    view = user[user.index("\nVERBATIM\n") : user.index("</log-view>")]
    shown, offset = {}, 0
    for line in view.split("\n"):
        if line.startswith('<file path="'):
            offset = starts[line[len('<file path="') : -2]] - 1
        elif match := _VERBATIM.match(line):
            shown[int(match[1]) + offset] = match[2]
    return shown


def _burst_errors(doc: CorpusDocument, table: LogTable) -> list[list[int]]:
    """Per member, the whole-text numbers of the ERROR lines inside the generator's burst."""
    return [
        [f["line_start"] + k for k in burst_span(f["lines"]) if table.level[f["line_start"] + k - 1] == ERROR]
        for f in doc.extracted.meta["files"]
    ]


def _check_faithful(
    prompt: PackedPrompt, doc: CorpusDocument, table: LogTable
) -> tuple[dict[str, Any], set[int]]:
    view = prompt.manifest.documents[0].view
    assert prompt.manifest.overflow_policy == "compress" and view is not None
    shown = _shown(prompt.user, doc)
    lines = doc.extracted.text.split("\n")
    assert all(lines[n - 1] == text for n, text in shown.items())  # real numbers, exact text
    assert set(shown) == prompt.documents[0].view_lines
    assert view["dropped_lines"] == 0 and view["verbatim_lines"] == len(shown)
    assert view["verbatim_lines"] + view["template_only_lines"] == table.lines
    assert sum(view["tiers"].values()) == view["verbatim_lines"]
    errors = [n for n in range(1, table.lines + 1) if table.level[n - 1] == ERROR]
    assert view["error_lines"] == len(errors)
    assert view["error_lines_verbatim"] == sum(1 for n in errors if n in shown)
    for row in table.rows:  # every template listed, with its first line verbatim
        assert row.pattern in prompt.user and row.first_line in shown
    return view, set(shown)


def test_every_error_line_of_each_burst_is_verbatim_when_they_fit(
    archive: CorpusDocument, archive_table: LogTable
) -> None:
    doc = _with_table(archive, archive_table)
    prompt = pack([doc], "qa", ["what went wrong?"], Budget("m", 600_000, 2_000), COUNTER, None)
    table = doc.table
    assert isinstance(table, LogTable)
    assert archive.extracted.unit_tokens is None and COUNTER.count(archive.extracted.text) > 10 * 600_000
    view, shown = _check_faithful(prompt, doc, table)
    truth = _burst_errors(doc, table)
    assert all(len(errors) > 1_000 for errors in truth)
    assert [n for errors in truth for n in errors if n not in shown] == []
    assert view["bursts"] >= MEMBERS and view["burst_error_lines"] >= sum(map(len, truth))
    assert view["burst_error_lines_verbatim"] == view["burst_error_lines"]
    assert view["tiers"]["burst_context"] > 0  # room was left after the bursts, for the next tier


def test_a_burst_larger_than_the_window_is_shown_from_both_ends_and_evenly(
    archive: CorpusDocument, archive_table: LogTable
) -> None:
    doc = _with_table(archive, archive_table)
    prompt = pack([doc], "qa", ["what went wrong?"], Budget("s", 150_000, 2_000), COUNTER, None)
    table = doc.table
    assert isinstance(table, LogTable)
    view, shown = _check_faithful(prompt, doc, table)
    assert 0 < view["burst_error_lines_verbatim"] < view["burst_error_lines"] // 2
    # strict priority: the bursts tier was cut, so no later tier has a line
    assert [t for t, n in view["tiers"].items() if n and t not in ("template_ends", "bursts")] == []
    for errors in _burst_errors(doc, table):
        assert errors[0] in shown and errors[-1] in shown  # how it started and how it ended
        half = len(errors) // 2
        first, second = (sum(1 for n in part if n in shown) for part in (errors[:half], errors[half:]))
        assert min(first, second) > 0.7 * max(first, second)  # spread, not cut in time order
    listed = re.findall(r"^B\d+ \| .* \| ([\d,]+) \| ([\d,]+)$", prompt.user, re.MULTILINE)
    assert sum(int(shown_n.replace(",", "")) for _, shown_n in listed) == view["burst_error_lines_verbatim"]


def _log(events: list[tuple[str, int]]) -> ExtractedText:
    """A log of (level, continuation lines) events, one second apart."""
    out = []
    for k, (level, trace) in enumerate(events):
        out.append(
            f"2026-03-04 10:{k // 3600 % 60:02d}:{k // 60 % 60:02d}.{k % 60:02d} {level} worker: step {k} done\n"
        )
        out += [f"    at frame {j}\n" for j in range(trace)]
    return ExtractedText("".join(out), "log")


def test_bursts_are_dense_error_events_not_long_traces() -> None:
    calm = [("ERROR" if k % 20 == 0 else "INFO", 0) for k in range(3_000)]
    trace = calm[:1_500] + [("ERROR", 60)] + calm[1_500:]
    table = build_table(_log(trace))
    assert find_bursts(table, masks(table, bytearray(b"\x01") * table.lines)) == []
    storm = calm[:1_500] + [("ERROR", 0)] * 150 + calm[1_500:]
    table = build_table(_log(storm))
    bursts = find_bursts(table, masks(table, bytearray(b"\x01") * table.lines))
    assert len(bursts) == 1  # the storm, widened by up to two windows on each side (window grid)
    first, last, errors = bursts[0].first, bursts[0].last, bursts[0].errors
    assert 1_500 - 2 * WINDOW < first <= 1_500 and 1_649 <= last < 1_650 + 2 * WINDOW
    assert errors == 150 + sum(
        1 for k in range(3_000) if k % 20 == 0 and first <= (k if k < 1_500 else k + 150) <= last
    )


def _eager_spread(items: list[int]) -> list[int]:
    bits = (len(items) - 1).bit_length()
    order = [int(format(k, f"0{bits}b")[::-1], 2) if bits else 0 for k in range(1 << bits)]
    return [items[k] for k in order if k < len(items)]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 8, 9, 100, 1025])
def test_spread_is_the_bit_reversal_order_taken_lazily(n: int) -> None:
    items = list(range(1000, 1000 + n))
    assert list(_spread(items)) == _eager_spread(items)
    assert sorted(_spread(items)) == items  # each item exactly once


def test_histogram_bins_agree_whether_times_are_in_order_or_not() -> None:
    table = build_table(_log([("ERROR" if k % 7 == 0 else "INFO", k % 3) for k in range(2_000)]))
    m = masks(table, bytearray(b"\x01") * table.lines)
    assert _in_order(table.ts, 0, table.lines)  # the fast path: no sort
    fast, slow = _binner(table, m.starts), _sorted_binner(table, m.starts)
    assert fast is not None and slow is not None and fast[1:] == slow[1:]
    for marks in (m.starts, m.error_starts, m.warning_starts):
        assert fast[0](marks) == slow[0](marks) and len(fast[0](marks)) == HISTOGRAM_BINS + 1
    assert sum(fast[0](m.error_starts)) == m.error_starts.count(1) > 0
    table.ts[5], table.ts[900] = table.ts[900], math.nan  # out of order, and a line without a time
    m = masks(table, bytearray(b"\x01") * table.lines)
    assert not _in_order(table.ts, 0, table.lines)
    sorted_path = _binner(table, m.starts)
    assert sorted_path is not None and table.starts[900]
    assert sum(sorted_path[0](m.starts)) == m.starts.count(1) - 1  # the line without a time is in no bin
