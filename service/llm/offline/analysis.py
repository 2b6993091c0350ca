"""Per-document analysis shared by summaries and answers, and its JSON-ready `facts` form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.models import CorpusDocument, JobOptions

from .cite import citation, clip, member_line
from .contract_facts import ContractFacts, extract_contract_facts
from .corpus import Corpus
from .log_stats import LogEvent, LogStats, TemplateCount, analyse_log
from .runctl import Guard


@dataclass
class Analysis:
    corpus: Corpus
    contracts: dict[int, ContractFacts] = field(default_factory=dict)
    logs: dict[int, LogStats] = field(default_factory=dict)


def analyse(corpus: Corpus, guard: Guard, options: JobOptions | None = None) -> Analysis:
    """Log statistics for log documents, contract facts for the others."""
    result = Analysis(corpus)
    for doc_index, doc in enumerate(corpus.documents):
        guard.check()
        if corpus.is_log[doc_index]:
            stats = analyse_log(doc, guard)
            if stats.filtered and options is not None:
                stats.filter = filter_of(options)
            result.logs[doc_index] = stats
        else:
            result.contracts[doc_index] = extract_contract_facts(corpus, doc_index, guard)
    return result


def filter_of(options: JobOptions) -> dict[str, Any]:
    """The job's log filter as stated in its options."""
    span = options.time_range
    return {
        "from": span.start.isoformat() if span and span.start else None,
        "to": span.end.isoformat() if span and span.end else None,
        "levels": list(options.levels) if options.levels else None,
    }


def event_citation_span(doc: CorpusDocument, event: LogEvent) -> tuple[int, int]:
    """The event's first line, trimmed and clipped to the quote limit."""
    start, end = doc.extracted.line_span(event.line, event.line)
    return clip(doc.extracted.text, start, end)


def event_dict(doc: CorpusDocument, event: LogEvent | None) -> dict[str, Any] | None:
    """An event as facts: always its line (whole text; archives also the member and member line) and
    time; its quote and cited lines only when the model saw the line."""
    if event is None:
        return None
    path, relative = member_line(doc.extracted, event.line)
    out: dict[str, Any] = {
        "line": event.line,
        "time": event.time_text or event.iso,
        "iso": event.iso,
        "document_id": doc.id,
        "file": path,
        "file_line": relative if path is not None else None,
        "template": event.template,
        "shown": event.shown,
    }
    if event.shown:
        quote = citation(doc, *event_citation_span(doc, event)).quote
        out |= {"quote": quote, "line_start": event.line, "line_end": event.line}  # whole-text lines
    return out


def _template_dict(doc: CorpusDocument, item: TemplateCount) -> dict[str, Any]:
    return {
        "template": item.template,
        "file": item.file,
        "events": item.events,
        "lines": item.lines,
        "levels": item.levels,
        "first_line": item.first.line,
        "last_line": item.last_line,
        "first": event_dict(doc, item.first),
    }


def log_dict(doc: CorpusDocument, stats: LogStats) -> dict[str, Any]:
    errors = [
        {
            "template": t.template,
            "file": t.file,
            "count": t.events,
            "first_line": t.first.line,
            "last_line": t.last_line,
            "first": event_dict(doc, t.first),
        }
        for t in stats.error_templates
    ]
    bursts = [
        {
            "start": b.start.strftime("%H:%M"),
            "end": b.end.strftime("%H:%M"),
            "start_time": b.start.isoformat(),
            "end_time": b.end.isoformat(),
            "errors": b.errors,
            "first": event_dict(doc, b.first),
            "first_shown": event_dict(doc, b.example) if b.example else None,
        }
        for b in stats.bursts
    ]
    out: dict[str, Any] = {
        "kind": "log",
        "lines": stats.line_count,
        "events": stats.events,
        "time_range": {"first": event_dict(doc, stats.first_time), "last": event_dict(doc, stats.last_time)},
        "levels": dict(sorted(stats.levels.items())),
        "error_count": stats.error_count,
        "first_error": event_dict(doc, stats.first_error),
        "top_errors": errors,
        "top_templates": [_template_dict(doc, t) for t in stats.templates],
        "bursts": bursts,
        "median_errors_per_minute": stats.median_errors_per_minute,
        "warnings_before_first_error": [event_dict(doc, w) for w in stats.warnings_before],
        "source": source_dict(stats),
    }
    if stats.view_bursts is not None:
        out["view_bursts"] = [
            {"first": event_dict(doc, b.first), "last": event_dict(doc, b.last), "error_lines": b.errors}
            for b in stats.view_bursts
        ]
    if stats.overall_templates is not None:
        out["top_templates_overall"] = [_template_dict(doc, t) for t in stats.overall_templates]
    return out


def source_dict(stats: LogStats) -> dict[str, Any]:
    """Where the numbers come from: the per-line template table, over the job's filter, and how many lines
    the model saw verbatim when the packer compressed the log."""
    return {
        "numbers": "template_table",
        "total_lines": stats.total_lines,
        "filter": stats.filter if stats.filtered else None,
        "view_verbatim_lines": stats.view_lines,
    }


def facts_dict(analysis: Analysis) -> dict[str, Any]:
    """One document: its facts at top level. Several: {"kind": "multi", "documents": [...]}."""
    per_doc: list[dict[str, Any]] = []
    for doc_index, doc in enumerate(analysis.corpus.documents):
        if doc_index in analysis.logs:
            body = log_dict(doc, analysis.logs[doc_index])
        else:
            body = analysis.contracts[doc_index].to_dict()
        per_doc.append({"document_id": doc.id, "name": doc.name, **body})
    if len(per_doc) == 1:
        return per_doc[0]
    return {"kind": "multi", "documents": per_doc}
