"""The offline engine's log analysis reads the packer's per-line table (service.logtable): the same levels,
timestamps and templates as service.logs, the job's time range, archives by member, and a compressed view
whose template-only lines it never quotes."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from service.citations import verify
from service.llm.base import NullHooks
from service.llm.offline import OfflineEngine
from service.logs import mine_file
from service.logtable import build_table
from service.logview import apply_filters
from service.models import CorpusDocument, EngineOutput, ExtractedText, JobOptions, JobSpec, TimeRange
from service.pack import Budget, pack
from service.tokens import make_counter

from .test_offline_engine import assert_exact, log_doc, run

COUNTER = make_counter(None, None, None, "MiniMax-M1")


def all_citations(output: EngineOutput) -> list[Any]:
    return [cite for answer in output.answers for cite in answer.citations]


def test_critical_counts_as_fatal_like_service_logs() -> None:
    lines = [
        "2026-03-04T10:00:00Z INFO  api started",
        "2026-03-04T10:00:01Z CRITICAL disk /var is full",
        "2026-03-04T10:00:02Z ERROR write failed on /var/data",
        "2026-03-04T10:00:03Z CRIT  disk /var is full",
        "2026-03-04T10:00:04Z WARNING retrying write",
        "2026-03-04T10:00:05Z FATAL giving up",
        "2026-03-04T10:00:06Z ERROR disk /var is full",  # one template, FATAL and ERROR events
        "2026-03-04T10:00:07Z DEBUG api started",  # one template, INFO and DEBUG events
    ]
    doc = log_doc(lines)
    output = run([doc], "qa", ["What errors occurred?"])
    facts = output.facts
    expected = {"INFO": 1, "DEBUG": 1, "FATAL": 3, "ERROR": 2, "WARN": 1}
    assert facts["levels"] == mine_file(lines).levels == expected
    assert facts["error_count"] == 5 and facts["first_error"]["line"] == 2
    disk = next(t for t in facts["top_templates"] if t["template"].startswith("disk"))
    assert disk["levels"] == {"ERROR": 1, "FATAL": 2}
    assert "CRITICAL" not in facts["levels"]
    summary = run([doc], "summarize").answers[0].answer
    assert "FATAL 3" in summary and "CRITICAL 1" not in summary
    for cite in all_citations(output):
        assert_exact(doc, cite)


def test_epoch_timestamp_log_gets_a_time_range() -> None:
    lines = [f"{1_700_000_000 + 30 * i} {'ERROR' if i == 4 else 'INFO'} worker {i} done" for i in range(8)]
    doc = log_doc(lines)
    output = run([doc], "summarize")
    span = output.facts["time_range"]
    assert span["first"]["time"] == "1700000000" and span["first"]["iso"] == "2023-11-14T22:13:20+00:00"
    assert span["last"]["time"] == "1700000210" and span["last"]["line"] == 8
    assert output.facts["first_error"]["iso"] == "2023-11-14T22:15:20+00:00"
    answer = output.answers[0].answer
    assert "`1700000000` (2023-11-14T22:13:20+00:00)" in answer  # an epoch is shown with its reading
    for cite in output.answers[0].citations:
        assert_exact(doc, cite)


def test_bgl_and_hdfs_logs_get_a_time_range() -> None:
    bgl = [
        f"- {1117838570 + i} 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.{50 + i:02d}.675872 "
        f"R02-M1-N0-C:J12-U11 RAS KERNEL {'FATAL data TLB error interrupt' if i == 3 else 'INFO instruction cache parity error corrected'}"
        for i in range(6)
    ]
    hdfs = [
        f"081109 2036{15 + i:02d} 148 {'WARN' if i == 2 else 'INFO'} dfs.DataNode$PacketResponder: "
        f"PacketResponder 1 for block blk_{3886504906413966 + i} terminating"
        for i in range(6)
    ]
    bgl_facts = run([log_doc(bgl)], "summarize").facts
    assert bgl_facts["time_range"]["first"]["time"] == "2005-06-03-15.42.50.675872"
    assert bgl_facts["time_range"]["last"]["iso"] == "2005-06-03T15:42:55+00:00"
    assert bgl_facts["levels"] == {"FATAL": 1, "INFO": 5}
    assert bgl_facts["first_error"]["line"] == 4
    hdfs_facts = run([log_doc(hdfs)], "summarize").facts
    assert hdfs_facts["time_range"]["first"]["time"] == "081109 203615"
    assert hdfs_facts["time_range"]["last"]["iso"] == "2008-11-09T20:36:20+00:00"
    assert hdfs_facts["levels"] == {"INFO": 5, "WARN": 1}


def _two_phase_log() -> list[str]:
    """First hour: 100 cache hits, 20 slow queries; second hour: 30 cache hits, 90 slow queries."""
    lines = []
    for i in range(240):
        minute = i // 2
        stamp = f"2026-03-04T{10 + minute // 60:02d}:{minute % 60:02d}:{30 * (i % 2):02d}Z"
        first_hour = minute < 60
        if i % 6 != 0 if first_hour else i % 4 == 0:
            lines.append(f"{stamp} INFO cache hit for key user:{i} in {i % 7} ms")
        else:
            lines.append(f"{stamp} WARN slow query on orders took {900 + i} ms")
    return lines


def test_top_templates_within_the_jobs_time_range() -> None:
    doc = log_doc(_two_phase_log())
    options = JobOptions(
        time_range=TimeRange(start=datetime(2026, 3, 4, 11, 0), end=datetime(2026, 3, 4, 12, 0))
    )
    [filtered] = apply_filters([doc], options)
    assert filtered.keep is not None and sum(filtered.keep) == 120
    spec = JobSpec(type="qa", document_ids=[doc.id], options=options)
    prompt = pack(
        [filtered], "qa", ["Which events are most frequent?"], Budget("m", 1_000_000, 1_000), COUNTER
    )
    output = OfflineEngine().run(prompt, spec, NullHooks())
    facts = output.facts
    in_range, overall = facts["top_templates"], facts["top_templates_overall"]
    assert in_range[0]["template"].startswith("slow query") and in_range[0]["events"] == 90
    assert in_range[1]["template"].startswith("cache hit") and in_range[1]["events"] == 30
    assert overall[0]["template"].startswith("cache hit") and overall[0]["events"] == 130
    assert overall[0]["first"]["shown"] is False and "quote" not in overall[0]["first"]  # line 2: outside
    assert facts["lines"] == 120 and facts["time_range"]["first"]["time"] == "2026-03-04T11:00:00Z"
    assert facts["source"]["filter"]["from"] == "2026-03-04T11:00:00"
    answer = output.answers[0].answer
    assert (
        "Top templates in the job's filter (time range 2026-03-04T11:00:00 to 2026-03-04T12:00:00)" in answer
    )
    assert "Top templates of the whole log" in answer
    cites = all_citations(output)
    assert cites
    for cite in cites:
        assert_exact(doc, cite)
        assert filtered.keep[cite.line_start - 1]  # only lines the model saw


def _burst_log() -> list[str]:
    """6,000 one-second events: requests, a warning every 5 lines, a 120-line db timeout burst late in the
    log and a rare disk error after it, each kind with its own template. Far more warnings than a small
    window can show, so the ones just before the first error are left to the template table."""
    lines = []
    for i in range(6000):
        stamp = datetime.fromtimestamp(1_772_618_400 + i, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if 4800 <= i < 4920:
            lines.append(f"{stamp} ERROR db timeout after {i % 50}s on shard {i % 7}")
        elif i in (5000, 5500, 5900):
            lines.append(f"{stamp} ERROR disk full on /var/lib/data{i}")
        elif i % 5 == 0:
            lines.append(f"{stamp} WARN connection pool {60 + i % 40}% used")
        else:
            lines.append(f"{stamp} INFO request id={i} took {i % 97}ms for tenant t{i % 13}")
    return lines


def test_offline_job_over_a_compressed_view_cites_only_shown_lines() -> None:
    doc = log_doc(_burst_log())
    questions = ["What errors occurred and when did they start?", "Which events are most frequent?"]
    prompt = pack([doc], "qa", questions, Budget("small", 12_000, 1_000), COUNTER, None)
    view = prompt.manifest.documents[0].view
    shown = prompt.documents[0].view_lines
    assert view is not None and shown is not None and 0 < len(shown) < 6000
    spec = JobSpec(type="qa", document_ids=[doc.id], questions=questions, options=JobOptions())
    output = OfflineEngine().run(prompt, spec, NullHooks())
    cites = all_citations(output)
    assert len(cites) >= 4
    for cite in cites:
        assert_exact(doc, cite)
        assert cite.line_start in shown and verify(cite, {doc.id: doc}).status == "verified"
    facts = output.facts
    table = build_table(doc.extracted)
    assert facts["lines"] == 6000 and facts["error_count"] == 123
    assert facts["levels"] == {"ERROR": 123, "WARN": 1173, "INFO": 4704}
    assert facts["source"]["view_verbatim_lines"] == len(shown) == view["verbatim_lines"]
    events = [facts["first_error"], *facts["warnings_before_first_error"]]
    events += [t["first"] for t in facts["top_errors"] + facts["top_templates"]]
    events += [b["first"] for b in facts["bursts"]]
    assert facts["view_bursts"] and facts["view_bursts"][0]["first"]["line"] == 4801  # the view's BURSTS
    events += [b[end] for b in facts["view_bursts"] for end in ("first", "last")]
    assert any(not e["shown"] for e in events), "the view should leave some reported event template-only"
    for event in events:
        assert event["shown"] == (event["line"] in shown)
        assert ("quote" in event) == event["shown"]
        assert event["iso"] == datetime.fromtimestamp(table.ts[event["line"] - 1], UTC).isoformat()
    errors_answer, templates_answer = (a.answer for a in output.answers)
    for text in (errors_answer, templates_answer):
        assert f"the model saw {len(shown):,} of 6,000 lines verbatim" in text
        assert "come from the template table" in text
    assert "(from the template table; not shown verbatim)" in errors_answer
    assert not math.isnan(table.ts[0])


def test_archive_citations_name_the_member_and_its_own_line_numbers() -> None:
    a = "".join(
        f"2026-01-01T00:00:{i:02d}Z {'ERROR db timeout after 30s' if i == 7 else f'INFO served id={i}'}\n"
        for i in range(12)
    )
    b = "".join(f"2026-01-01T00:01:{i:02d}Z ERROR checkpoint {i} failed\n" for i in range(4))
    files = [
        {"path": "api/app.log", "char_start": 0, "line_start": 1, "lines": 12},
        {"path": "db/db.log", "char_start": len(a), "line_start": 13, "lines": 4},
    ]
    doc = CorpusDocument("doc_a", "logs.tar.gz", "log", ExtractedText(a + b, "log", meta={"files": files}))
    output = run([doc], "qa", ["What errors occurred?"])
    answer = output.answers[0].answer
    assert "api/app.log line 8" in answer and "db/db.log line 1" in answer
    facts = output.facts
    assert facts["first_error"]["file"] == "api/app.log" and facts["first_error"]["file_line"] == 8
    assert {t["file"] for t in facts["top_errors"]} == {"api/app.log", "db/db.log"}
    cites = all_citations(output)
    assert {c.file for c in cites} == {"api/app.log", "db/db.log"}
    members = {"api/app.log": a.splitlines(), "db/db.log": b.splitlines()}
    for cite in cites:
        assert cite.file is not None and cite.line_start is not None
        assert cite.quote in members[cite.file][cite.line_start - 1]
        checked = verify(cite, {doc.id: doc})
        assert (checked.status, checked.file, checked.line_start) == ("verified", cite.file, cite.line_start)
