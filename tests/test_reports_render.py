"""Report content from a model's answers, rendered: one section per answer, nothing rendered as markup."""

from __future__ import annotations

from service.models import AnswerItem, Citation, JobResult, JobSpec, JobState
from service.reports.build import build_content
from service.reports.models import Report
from service.reports.render import to_html, to_markdown
from service.reports.templates import get_template

HOSTILE = '<script>alert("x")</script> **bold** [link](javascript:alert(1)) <img src=x onerror=alert(1)>'


def _report_and_job() -> tuple[Report, JobState]:
    tpl = get_template(None, "daily_log_digest")
    cite = Citation(document_id="doc_1", document_name="a<b>.log", quote=HOSTILE, line_start=7, line_end=8)
    answers = [
        AnswerItem(question=q, answer=f"Section {i}: {HOSTILE}", citations=[cite])
        for i, q in enumerate(tpl.questions())
    ]
    result = JobResult(engine="llm", model="MiniMax-M1", answer="", answers=answers)
    spec = JobSpec(type="qa", document_ids=["doc_1"], questions=tpl.questions())
    job = JobState(id="job_1", status="succeeded", spec=spec, result=result)
    report = Report(
        id="rep_1", tenant="t", template=tpl.name, title=tpl.title, spec=tpl, job_id="job_1", series="s"
    )
    return report, job


def test_model_answers_become_sections_and_are_escaped() -> None:
    report, job = _report_and_job()
    assert all(q.startswith(report.spec.prompt.strip()) for q in report.spec.questions())
    content = build_content(report, job, None, None, lambda doc, file, line: line)
    assert [s.key for s in content.sections] == [s.key for s in report.spec.sections]
    assert content.sections[2].items[0].text.startswith("Section 2:")
    assert content.engine == "llm" and "MiniMax-M1" in content.label
    page = to_html(report, content)
    assert "<script" not in page and "<img" not in page and "&lt;script&gt;" in page
    assert 'href="/v1/documents/doc_1/text?line_start=7&amp;line_end=8"' in page
    assert "a&lt;b&gt;.log, lines 7-8" in page
    md = to_markdown(report, content)
    assert "<script" not in md and "<img" not in md and "&lt;script&gt;" in md
    assert "[link](" not in md  # no links or images from a model
    assert "(/v1/documents/doc_1/text?line_start=7&line_end=8)" in md


def test_second_report_lists_new_and_vanished_citations() -> None:
    report, job = _report_and_job()
    first = build_content(report, job, None, None, lambda doc, file, line: line)
    assert job.result is not None
    for answer in job.result.answers:
        answer.citations[0].quote = "a different passage"
    second = build_content(report, job, first, "rep_0", lambda doc, file, line: line)
    assert second.changes is not None and second.previous_report_id == "rep_0"
    texts = [i.text for i in second.changes.items]
    assert (
        sum(t.startswith("New: ") for t in texts) == 4
        and sum(t.startswith("No longer present") for t in texts) == 4
    )
