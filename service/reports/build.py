"""From a finished job to a report's content, and what changed since the previous report.

The offline engine's answers are extractive, so the built-in templates are built from its structured
`facts` instead (deterministic, labelled offline). With a language model, the job asked one question
per section (the template's prompt plus the section's instruction) and each answer, with its checked
citations, becomes that section.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from service.models import Citation, JobResult, JobState
from service.reports.facts import Findings, documents_of
from service.reports.models import Cite, Item, Report, ReportContent, Section
from service.reports.offline_contracts import build_contract_portfolio
from service.reports.offline_logs import build_log_digest

OFFLINE_LABEL = "Offline report: built from extractive facts and log statistics; no language model was used."
MAX_CHANGE_ITEMS = 50
# (document id, archive member path, member-relative line) -> the document's own line number
LineResolver = Callable[[str, str, int], int]


def _names(result: JobResult) -> dict[str, str]:
    names = {d.document_id: d.name for d in (result.manifest.documents if result.manifest else [])}
    for doc in documents_of(result.facts):
        names.setdefault(str(doc.get("document_id")), str(doc.get("name")))
    return names


def _offline(report: Report, result: JobResult, previous: dict[str, Any] | None) -> Findings:
    docs, names = documents_of(result.facts), _names(result)
    if report.spec.offline == "log_digest":
        return build_log_digest(docs, names, previous)
    horizon = report.options.horizon_days or int(report.spec.defaults.get("horizon_days", 90))
    as_of = report.options.as_of or (report.window["end"].date() if report.window else date.today())
    return build_contract_portfolio(docs, names, as_of, horizon)


def _cite(c: Citation, resolve: LineResolver) -> Cite:
    start, end = c.line_start, c.line_end
    if c.file and start is not None:  # archive members cite member-relative lines; links need the document's
        start, end = resolve(c.document_id, c.file, start), resolve(c.document_id, c.file, end or start)
    return Cite(
        document_id=c.document_id,
        document_name=c.document_name,
        quote=c.quote,
        page=c.page,
        line_start=start,
        line_end=end,
        status=c.status,
    )


def _strip_label(answer: str) -> str:
    lines = answer.strip().splitlines()
    if lines and lines[0].startswith("_Offline"):  # the report carries its own label
        lines = lines[1:]
    return "\n".join(lines).strip()


def _answers(report: Report, result: JobResult, resolve: LineResolver) -> Findings:
    out = Findings()
    for index, spec in enumerate(report.spec.sections):
        if index >= len(result.answers):
            out.notes[spec.key] = "The job returned no answer for this section."
            continue
        answer = result.answers[index]
        cites = [_cite(c, resolve) for c in answer.citations]
        out.add(spec.key, Item(text=_strip_label(answer.answer), citations=cites))
        for c in cites:
            out.fact(
                f"{spec.key}:{c.document_id}:{c.quote[:300]}",
                f"{spec.title}: \u201c{c.quote[:160]}\u201d",
                [c],
            )
    return out


def findings_for(
    report: Report, job: JobState, previous: dict[str, Any] | None, resolve: LineResolver
) -> Findings:
    assert job.result is not None
    if job.result.engine == "offline" and report.spec.offline != "answers":
        return _offline(report, job.result, previous)
    return _answers(report, job.result, resolve)


def changes_section(found: Findings, previous: ReportContent | None) -> Section:
    """New and vanished facts and changed metrics, against the previous report of the same series."""
    section = Section(key="changes", title="Changes since the previous report")
    if previous is None:
        section.note = "This is the first report of its series: nothing to compare with."
        return section
    before_facts: dict[str, str] = previous.snapshot.get("facts", {})
    before_metrics: dict[str, float] = previous.snapshot.get("metrics", {})
    new = [k for k in found.facts if k not in before_facts]
    gone = [k for k in before_facts if k not in found.facts]
    for key in new[:MAX_CHANGE_ITEMS]:
        section.items.append(Item(text=f"New: {found.facts[key]}", citations=found.fact_cites.get(key, [])))
    for key in gone[:MAX_CHANGE_ITEMS]:
        section.items.append(Item(text=f"No longer present: {before_facts[key]}"))
    for name, now in found.metrics.items():
        was = before_metrics.get(name)
        if was is not None and was != now:
            section.items.append(Item(text=f"{name}: {was:g} -> {now:g} ({now - was:+g})"))
    stamp = previous.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    section.note = (
        f"Compared with the previous report of {stamp}."
        if section.items
        else (f"No changes since the previous report of {stamp}.")
    )
    return section


def build_content(
    report: Report,
    job: JobState,
    previous: ReportContent | None,
    previous_id: str | None,
    resolve: LineResolver,
) -> ReportContent:
    """The report's content from its finished, succeeded job."""
    assert job.result is not None
    result = job.result
    found = findings_for(report, job, previous.snapshot if previous else None, resolve)
    sections = [
        Section(key=s.key, title=s.title, items=found.items.get(s.key, []), note=found.notes.get(s.key))
        for s in report.spec.sections
    ]
    offline = result.engine == "offline"
    return ReportContent(
        title=report.title,
        template=report.template,
        engine=result.engine,
        model=result.model,
        label=OFFLINE_LABEL
        if offline
        else f"Written by {result.model}; every citation was checked against the documents.",
        documents=[{"id": i, "name": n} for i, n in _names(result).items()],
        window=report.window,
        sections=sections,
        changes=changes_section(found, previous),
        previous_report_id=previous_id,
        snapshot=found.snapshot(),
    )
