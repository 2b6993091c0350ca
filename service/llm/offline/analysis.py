"""Per-document analysis shared by summaries and answers, and its JSON-ready `facts` form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.models import CorpusDocument

from .cite import citation, clip
from .contract_facts import ContractFacts, extract_contract_facts
from .corpus import Corpus
from .log_stats import LogEvent, LogStats, analyse_log
from .runctl import Guard


@dataclass
class Analysis:
    corpus: Corpus
    contracts: dict[int, ContractFacts] = field(default_factory=dict)
    logs: dict[int, LogStats] = field(default_factory=dict)


def analyse(corpus: Corpus, guard: Guard) -> Analysis:
    """Log statistics for log documents, contract facts for the others."""
    result = Analysis(corpus)
    for doc_index, doc in enumerate(corpus.documents):
        guard.check()
        if corpus.is_log[doc_index]:
            result.logs[doc_index] = analyse_log(doc, guard)
        else:
            result.contracts[doc_index] = extract_contract_facts(corpus, doc_index, guard)
    return result


def event_citation_span(doc: CorpusDocument, event: LogEvent) -> tuple[int, int]:
    return clip(doc.extracted.text, event.start, event.end)


def event_dict(doc: CorpusDocument, event: LogEvent | None) -> dict[str, Any] | None:
    if event is None:
        return None
    cite = citation(doc, *event_citation_span(doc, event))
    return {
        "line": event.line,
        "time": event.time_text,
        "quote": cite.quote,
        "document_id": doc.id,
        "line_start": cite.line_start,
        "line_end": cite.line_end,
    }


def log_dict(doc: CorpusDocument, stats: LogStats) -> dict[str, Any]:
    templates = [
        {"template": t.template, "count": t.count, "first_line": t.first.line, "last_line": t.last_line}
        | {"first": event_dict(doc, t.first)}
        for t in stats.templates
    ]
    bursts = [
        {"start": b.start.strftime("%H:%M"), "end": b.end.strftime("%H:%M"), "errors": b.errors}
        | {"first": event_dict(doc, b.first)}
        for b in stats.bursts
    ]
    return {
        "kind": "log",
        "lines": stats.line_count,
        "time_range": {"first": event_dict(doc, stats.first_time), "last": event_dict(doc, stats.last_time)},
        "levels": dict(sorted(stats.levels.items())),
        "error_count": stats.error_count,
        "first_error": event_dict(doc, stats.first_error),
        "top_errors": templates,
        "bursts": bursts,
        "median_errors_per_minute": stats.median_errors_per_minute,
        "warnings_before_first_error": [event_dict(doc, w) for w in stats.warnings_before],
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
