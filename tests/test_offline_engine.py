"""The offline engine on in-memory documents: exact citations, contract facts, log analysis, BM25,
cancellation, determinism and a 4 MB corpus."""

from __future__ import annotations

import time
from typing import Any

import pytest

from service.errors import JobCancelled
from service.llm.base import NullHooks
from service.llm.offline import OfflineEngine
from service.llm.offline.bm25 import BM25Index, tokenize, top
from service.models import (
    CorpusDocument,
    DocumentBudget,
    EngineOutput,
    ExtractedText,
    JobOptions,
    JobSpec,
    PackedPrompt,
    PackManifest,
    RawCitation,
)

CONTRACT_PAGES = [
    """MASTER SERVICES AGREEMENT

This Master Services Agreement (the "Agreement") is entered into as of January 15, 2026 (the "Effective Date")
by and between Acme Cloud Services, Inc., a Delaware corporation ("Provider"), and Globex Retail GmbH,
a German limited liability company ("Customer").

1. Services. Provider shall provide the hosted analytics services described in each Order Form.
The Services will be available 99.9% of the time, measured monthly.

2. Term. The initial term of this Agreement is twenty-four (24) months from the Effective Date.
Thereafter this Agreement shall automatically renew for successive twelve (12) month periods unless either
party gives notice of non-renewal.
""",
    """3. Fees and Payment. Customer shall pay the annual subscription fee of USD 120,000 in advance.
All invoices are payable net 30 days from the invoice date. Late payments bear interest at 1.5% per month.

4. Termination. Either party may terminate this Agreement for convenience upon ninety (90) days' prior
written notice to the other party. Either party may terminate this Agreement for material breach if the
breach is not cured within thirty (30) days after written notice describing it.

5. Limitation of Liability. In no event shall either party's aggregate liability arising out of this
Agreement exceed the fees paid by Customer in the twelve (12) months preceding the claim.
""",
    """6. Confidentiality. Each party shall protect the other party's Confidential Information with at least
reasonable care and shall not disclose it to third parties.

7. Governing Law. This Agreement shall be governed by and construed in accordance with the laws of the
State of New York, without regard to its conflict of laws principles.

8. Data Protection. Provider shall process personal data only on documented instructions from Customer.
""",
]

LOG_LINES = [
    "2026-03-04T10:00:00Z INFO  api started on port 8080",
    "2026-03-04T10:00:05Z INFO  connected to db-01 at 10.0.0.5:5432",
    "2026-03-04T10:01:10Z DEBUG cache warmup finished in 120 ms",
    "2026-03-04T10:02:30Z WARN  connection pool 85% used (17/20)",
    "2026-03-04T10:03:45Z WARN  slow query took 2300 ms on orders",
    "2026-03-04T10:04:12Z ERROR database timeout after 5000 ms on query 4411",
    "2026-03-04T10:04:13Z ERROR database timeout after 5000 ms on query 4412",
    "2026-03-04T10:04:20Z ERROR database timeout after 5000 ms on query 4413",
    "2026-03-04T10:04:31Z ERROR request 9f1c2d3e-1111-2222-3333-444455556666 failed: upstream 502",
    "2026-03-04T10:04:40Z ERROR database timeout after 5000 ms on query 4414",
    "2026-03-04T10:05:02Z INFO  retrying connection to db-01",
    "2026-03-04T10:06:00Z INFO  health check ok",
    "2026-03-04T10:07:00Z INFO  health check ok",
    "2026-03-04T10:08:00Z ERROR database timeout after 5000 ms on query 4415",
    "2026-03-04T10:09:00Z INFO  health check ok",
]


class CancelAfter:
    """Hooks that report cancellation after `calls` checks."""

    def __init__(self, calls: int) -> None:
        self.calls = calls
        self.progress_seen: list[float] = []

    def progress(self, stage: str, percent: float, output_tokens: int = 0) -> None:
        self.progress_seen.append(percent)

    def cancelled(self) -> bool:
        self.calls -= 1
        return self.calls < 0


def paged(pages: list[str], kind: Any = "pdf") -> ExtractedText:
    starts, offset = [], 0
    for page in pages:
        starts.append(offset)
        offset += len(page)
    return ExtractedText(text="".join(pages), kind=kind, page_starts=starts)


def prompt_for(docs: list[CorpusDocument], job_type: Any, questions: list[str] | None = None) -> PackedPrompt:
    tokens = sum(len(d.extracted.text) // 4 for d in docs)
    budgets = [
        DocumentBudget(document_id=d.id, name=d.name, kind=d.kind, chars=len(d.extracted.text), tokens=0)
        for d in docs
    ]
    manifest = PackManifest(
        model="longdoc-offline-1",
        window=2_000_000,
        reserved_output=4096,
        safety_margin=1024,
        instruction_tokens=200,
        document_tokens=tokens,
        total_tokens=tokens + 200,
        remaining=2_000_000 - tokens - 200 - 4096 - 1024,
        token_method="chars/4",
        token_error="+-25%",
        overflow_policy="error",
        documents=budgets,
    )
    return PackedPrompt("system", "user", manifest, docs, questions or [], job_type)


def spec_for(job_type: Any, docs: list[CorpusDocument], **options: Any) -> JobSpec:
    return JobSpec(type=job_type, document_ids=[d.id for d in docs], options=JobOptions(**options))


def run(
    docs: list[CorpusDocument], job_type: Any, questions: list[str] | None = None, **opts: Any
) -> EngineOutput:
    prompt = prompt_for(docs, job_type, questions)
    return OfflineEngine().run(prompt, spec_for(job_type, docs, **opts), NullHooks())


def contract_doc() -> CorpusDocument:
    return CorpusDocument("doc-contract", "msa.pdf", "pdf", paged(CONTRACT_PAGES))


def log_doc(lines: list[str] = LOG_LINES) -> CorpusDocument:
    text = "\n".join(lines) + "\n"
    return CorpusDocument("doc-log", "api.log", "log", ExtractedText(text=text, kind="log"))


def assert_exact(doc: CorpusDocument, cite: RawCitation) -> None:
    """The quote must sit verbatim inside the cited page or lines, and be short."""
    ext = doc.extracted
    assert cite.document_id == doc.id
    assert 0 < len(cite.quote) <= 300
    if ext.page_starts:
        assert cite.page is not None
        start, end = ext.page_span(cite.page)
    else:
        assert cite.line_start is not None and cite.line_end is not None
        start, end = ext.line_span(cite.line_start, cite.line_end)
    assert cite.quote in ext.text[start:end]


def test_contract_summary_names_parties_law_and_notice_with_exact_citations() -> None:
    doc = contract_doc()
    output = run([doc], "summarize", max_citations=40)
    answer = output.answers[0]
    assert output.engine == "offline" and output.model == "longdoc-offline-1"
    assert answer.answer.startswith("_Offline extractive analysis (no language model was used)._")
    for expected in ("Acme Cloud Services, Inc.", "Globex Retail GmbH", "State of New York", "90 days"):
        assert expected in answer.answer
    assert answer.citations
    for cite in answer.citations:
        assert_exact(doc, cite)
    facts = output.facts
    assert facts["kind"] == "contract"
    assert [p["value"] for p in facts["parties"]] == ["Acme Cloud Services, Inc.", "Globex Retail GmbH"]
    assert facts["governing_law"]["value"] == "State of New York" and facts["governing_law"]["page"] == 3
    assert facts["effective_date"]["value"] == "2026-01-15"
    assert facts["term"]["value"] == "24 months"
    assert facts["termination"][0]["notice"] == "90 days"
    assert any(p["value"] == "net 30 days" for p in facts["payment"])
    assert facts["amounts"][0]["currency"] == "USD" and facts["amounts"][0]["amount"] == 120000
    assert "fees paid" in facts["liability_cap"]["value"]
    assert output.usage.estimated and output.usage.completion_tokens == len(answer.answer) // 4


def test_log_question_gives_first_error_time_line_and_exact_line_citations() -> None:
    doc = log_doc()
    output = run([doc], "qa", ["What errors occurred and when did they start?"])
    answer = output.answers[0]
    assert answer.question == "What errors occurred and when did they start?"
    assert "line 6" in answer.answer and "2026-03-04T10:04:12Z" in answer.answer
    assert "database timeout after <*> ms on query <*>" in answer.answer
    assert "slow query" in answer.answer  # a warning shortly before the first error
    for cite in answer.citations:
        assert_exact(doc, cite)
    facts = output.facts
    assert facts["kind"] == "log" and facts["levels"]["ERROR"] == 6
    assert facts["first_error"]["line"] == 6
    assert facts["top_errors"][0]["count"] == 5
    assert facts["bursts"] and facts["bursts"][0]["start"] == "10:04"


def test_log_summary_reports_time_range_and_levels() -> None:
    doc = log_doc()
    answer = run([doc], "summarize").answers[0]
    assert "2026-03-04T10:00:00Z" in answer.answer and "2026-03-04T10:09:00Z" in answer.answer
    assert "ERROR 6" in answer.answer and "WARN 2" in answer.answer
    for cite in answer.citations:
        assert_exact(doc, cite)


def test_bm25_ranks_the_relevant_passage_first() -> None:
    passages = [
        "The provider hosts the analytics platform in two regions.",
        "Either party may terminate this agreement with ninety days notice.",
        "Invoices are payable within thirty days.",
    ]
    index = BM25Index([tokenize(p) for p in passages])
    ranked = top(index.scores(dict.fromkeys(tokenize("How can the agreement be terminated?"), 1.0)), 3)
    assert ranked[0][0] == 1


def test_contract_question_quotes_the_termination_clause_first() -> None:
    doc = contract_doc()
    answer = run([doc], "qa", ["How much notice is needed to terminate?"]).answers[0]
    assert "Most relevant passages" in answer.answer
    assert "ninety (90) days" in answer.answer
    for cite in answer.citations:
        assert_exact(doc, cite)


def test_unanswerable_question_says_so_and_still_cites() -> None:
    doc = contract_doc()
    answer = run([doc], "qa", ["What colour is the office carpet in Lisbon?"]).answers[0]
    assert "do not seem to answer" in answer.answer


def test_plain_text_sentences_cite_line_ranges() -> None:
    text = (
        "Notes from the review.\n\nThe supplier must deliver\nthe hardware by March 3, 2026 at the latest.\n"
    )
    doc = CorpusDocument("doc-text", "notes.txt", "text", ExtractedText(text=text, kind="text"))
    answer = run([doc], "qa", ["When must the hardware be delivered?"]).answers[0]
    assert answer.citations and answer.citations[0].line_start == 3 and answer.citations[0].line_end == 4
    for cite in answer.citations:
        assert_exact(doc, cite)


def test_timestamps_are_read_as_written_and_error_templates_masked() -> None:
    shapes = {
        "iso": "2026-03-04 10:0{i}:00,123 ERROR user {i}2 from 10.1.2.{i}:443 req {i}f1c2d3e-1111-2222-3333-444455556666",
        "syslog": "Mar  4 10:0{i}:00 web-1 app[311]: ERROR user {i}2 from 10.1.2.{i}:443",
        "clf": '10.0.0.{i} - - [04/Mar/2026:10:0{i}:00 +0000] "GET /orders/{i}1 HTTP/1.1" 500 12',
    }
    first_times = {}
    for name, shape in shapes.items():
        doc = log_doc([shape.format(i=i) for i in range(6)])
        facts = run([doc], "qa", ["What errors occurred?"]).facts
        first_times[name] = facts["time_range"]["first"]["time"]
        assert facts["time_range"]["last"]["line"] == 6
        if name != "clf":
            assert facts["error_count"] == 6 and len(facts["top_errors"]) == 1
            assert "user <*> from <*>" in facts["top_errors"][0]["template"]
    assert first_times == {
        "iso": "2026-03-04 10:00:00,123",
        "syslog": "Mar  4 10:00:00",
        "clf": "04/Mar/2026:10:00:00 +0000",
    }


def test_syslog_errors_are_found_with_line_citations() -> None:
    lines = [f"Mar  4 10:0{i}:00 web-1 app[311]: INFO tick {i}" for i in range(5)]
    lines += [
        "Mar  4 10:05:00 web-1 app[311]: WARNING disk 91% full",
        "Mar  4 10:05:30 web-1 app[311]: ERROR disk full",
    ]
    doc = CorpusDocument("doc-sys", "syslog", "text", ExtractedText(text="\n".join(lines), kind="text"))
    answer = run([doc], "qa", ["Did anything fail?"]).answers[0]
    assert "line 7" in answer.answer and "Mar  4 10:05:30" in answer.answer
    for cite in answer.citations:
        assert_exact(doc, cite)


def test_long_unpunctuated_page_gives_short_exact_quotes() -> None:
    words = " ".join(f"word{i}" for i in range(600))
    doc = CorpusDocument(
        "doc-long", "scan.pdf", "pdf", paged([words + " escrow deposit\n", "Second page.\n"])
    )
    answer = run([doc], "qa", ["Where is the escrow deposit?"]).answers[0]
    assert answer.citations
    for cite in answer.citations:
        assert_exact(doc, cite)
    assert "escrow deposit" in answer.citations[0].quote


def test_cancellation_raises_job_cancelled() -> None:
    docs = [contract_doc(), log_doc()]
    prompt = prompt_for(docs, "summarize")
    with pytest.raises(JobCancelled):
        OfflineEngine().run(prompt, spec_for("summarize", docs), CancelAfter(calls=2))


def test_output_is_deterministic() -> None:
    docs = [contract_doc(), log_doc()]
    first = run(docs, "qa", ["Who are the parties?", "What errors occurred?"])
    second = run(docs, "qa", ["Who are the parties?", "What errors occurred?"])
    assert first == second
    assert first.facts["kind"] == "multi" and len(first.facts["documents"]) == 2


def big_corpus() -> list[CorpusDocument]:
    """About 4 MB: a long paged contract and a long log with an error burst."""
    pages = []
    for n in range(1, 700):
        pages.append(
            "".join(
                f"Clause {n}.{k}. The supplier shall maintain service level {k} for region {n % 17} and report "
                f"incidents within {k + 2} hours to the customer's operations team at site {n * 7 + k}.\n"
                for k in range(1, 24)
            )
        )
    pages[350] += "Either party may terminate this Agreement upon sixty (60) days' prior written notice.\n"
    lines = []
    for i in range(30000):
        minute, second = divmod(i // 10, 60)
        stamp = f"2026-03-04T{10 + minute // 60:02d}:{minute % 60:02d}:{second:02d}Z"
        level = "ERROR" if 20000 <= i < 20300 else ("WARN" if i % 997 == 0 else "INFO")
        lines.append(f"{stamp} {level} worker {i % 13} handled job {i} for tenant t{i % 101} in {i % 89} ms")
    return [CorpusDocument("big-contract", "big.pdf", "pdf", paged(pages)), log_doc(lines)]


def test_four_megabyte_corpus_runs_quickly() -> None:
    docs = big_corpus()
    size = sum(len(d.extracted.text) for d in docs)
    assert size > 3_500_000
    began = time.perf_counter()
    summary = run(docs, "summarize")
    answers = run(docs, "qa", ["What is the termination notice period?", "What errors occurred and when?"])
    elapsed = time.perf_counter() - began
    print(f"\noffline engine: {size / 1e6:.1f} MB summarized and queried in {elapsed:.2f} s")
    assert elapsed < 30
    assert "sixty (60) days" in answers.answers[0].answer
    assert "line 20001" in answers.answers[1].answer
    for answer in summary.answers + answers.answers:
        for cite in answer.citations:
            assert_exact(next(d for d in docs if d.id == cite.document_id), cite)
