"""Markdown for contract facts, log statistics and quoted passages, with [n] citation markers."""

from __future__ import annotations

from service.models import CorpusDocument

from .analysis import event_citation_span
from .cite import Citations, citation, clip, location
from .contract_facts import ContractFacts, Fact
from .log_stats import LogEvent, LogStats

LABEL = "_Offline extractive analysis (no language model was used)._"
FACT_LABELS = {
    "party": "Parties",
    "effective_date": "Effective date",
    "term": "Term",
    "renewal": "Renewal",
    "termination": "Termination",
    "liability_cap": "Liability cap",
    "governing_law": "Governing law",
    "payment": "Payment",
    "amount": "Amounts",
    "date": "Other dates",
}
FACT_LIMITS = {"amount": 6, "date": 6}


def one_line(text: str) -> str:
    """Display form of a quote (the citation keeps the exact text)."""
    return " ".join(text.split()).replace("`", "'")


def _fact_text(fact: Fact, cites: Citations) -> str:
    value = fact.value
    if fact.category == "party" and fact.detail.get("role"):
        value = f'{value} (the "{fact.detail["role"]}")'
    return value + cites.mark(citation(fact.doc, fact.start, fact.end))


def fact_lines(facts: ContractFacts, cites: Citations, categories: list[str] | None = None) -> list[str]:
    """One '- **Label:** value [n]; value [m]' line per category that has findings."""
    lines = []
    for category in categories or list(FACT_LABELS):
        found = facts.of(category)[: FACT_LIMITS.get(category, 6)]
        if found:
            values = "; ".join(_fact_text(fact, cites) for fact in found)
            lines.append(f"- **{FACT_LABELS[category]}:** {values}")
    return lines


def quote_line(
    doc: CorpusDocument,
    start: int,
    end: int,
    cites: Citations,
    named: bool = False,
    focus: tuple[int, int] | None = None,
) -> str:
    """'- "quote" [n]' for an exact span (clipped to the quote limit around `focus`)."""
    start, end = clip(doc.extracted.text, start, end, focus)
    cite = citation(doc, start, end)
    where = f"**{doc.name}**, {location(cite)}: " if named else ""
    return f'- {where}"{one_line(cite.quote)}"{cites.mark(cite)}'


def _event(doc: CorpusDocument, event: LogEvent, cites: Citations) -> str:
    cite = citation(doc, *event_citation_span(doc, event))
    when = f" at `{event.time_text}`" if event.time_text else ""
    return f'line {event.line}{when}: "{one_line(cite.quote)}"{cites.mark(cite)}'


def log_overview(doc: CorpusDocument, stats: LogStats, cites: Citations) -> list[str]:
    lines = [f"- **Lines:** {stats.line_count:,}"]
    if stats.first_time and stats.last_time:
        first = cites.mark(citation(doc, *event_citation_span(doc, stats.first_time)))
        last = cites.mark(citation(doc, *event_citation_span(doc, stats.last_time)))
        lines.append(
            f"- **Time range:** `{stats.first_time.time_text}`{first} to `{stats.last_time.time_text}`{last}"
        )
    if stats.levels:
        counts = sorted(stats.levels.items(), key=lambda item: (-item[1], item[0]))
        lines.append("- **Levels:** " + ", ".join(f"{level} {count:,}" for level, count in counts))
    return lines


def log_errors(doc: CorpusDocument, stats: LogStats, cites: Citations) -> list[str]:
    """First error, most frequent error templates, bursts, and the warnings that preceded the first error."""
    if stats.first_error is None:
        return ["No ERROR, CRITICAL or FATAL lines were found."]
    lines = [
        f"- **Errors:** {stats.error_count:,} error-level lines",
        f"- **First error:** {_event(doc, stats.first_error, cites)}",
    ]
    lines.append("- **Most frequent errors** (numbers, ids and addresses masked as `<*>`):")
    for rank, item in enumerate(stats.templates, 1):
        cite = cites.mark(citation(doc, *event_citation_span(doc, item.first)))
        span = f"lines {item.first.line}-{item.last_line}" if item.count > 1 else f"line {item.first.line}"
        lines.append(f"{rank}. `{one_line(item.template)}` x{item.count:,} ({span}){cite}")
    median = f"{stats.median_errors_per_minute:g}"
    for burst in stats.bursts:
        window = (
            f"{burst.start:%H:%M}-{burst.end:%H:%M}" if burst.end != burst.start else f"{burst.start:%H:%M}"
        )
        head = (
            f"- **Error burst:** {window}, {burst.errors:,} errors (median {median} per active minute), from "
        )
        lines.append(head + _event(doc, burst.first, cites))
    if stats.warnings_before:
        lines.append("- **Warnings shortly before the first error:**")
        lines.extend(f"- {_event(doc, warning, cites)}" for warning in stats.warnings_before)
    return lines
