"""Markdown for contract facts, log statistics and quoted passages, with [n] citation markers."""

from __future__ import annotations

import itertools

from service.models import CorpusDocument

from .analysis import event_citation_span
from .cite import Citations, citation, clip, location, member_line
from .contract_facts import ContractFacts, Fact
from .log_stats import LogEvent, LogStats, TemplateCount

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
ERROR_TEMPLATES_SHOWN = 10
VIEW_BURSTS_SHOWN = 5
NOT_SHOWN = "from the template table; not shown verbatim"


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


def _where(doc: CorpusDocument, line: int) -> str:
    """'line N', or 'path line N' (member-relative) inside an archive."""
    path, relative = member_line(doc.extracted, line)
    return f"{path} line {relative}" if path else f"line {line}"


def _span(doc: CorpusDocument, first: int, last: int) -> str:
    if first == last:
        return _where(doc, first)
    path, relative = member_line(doc.extracted, first)
    end_path, end_relative = member_line(doc.extracted, last)
    if path is None or path != end_path:
        return f"lines {first}-{last}"
    return f"{path} lines {relative}-{end_relative}"


def _time(event: LogEvent) -> str:
    """'`time as written`' for shown lines (with the ISO time when the written one has no clock, as
    epochs), the table's ISO time otherwise; '' when the event has no time."""
    if event.time_text:
        extra = f" ({event.iso})" if ":" not in event.time_text and event.iso else ""
        return f"`{event.time_text}`{extra}"
    return event.iso or ""


def _when(event: LogEvent) -> str:
    time = _time(event)
    return f" at {time}" if time else ""


def _event(doc: CorpusDocument, event: LogEvent, cites: Citations) -> str:
    """The event with its exact quote and citation when the model saw its line; else its template."""
    if not event.shown:
        return f"{_where(doc, event.line)}{_when(event)}, template `{one_line(event.template)}` ({NOT_SHOWN})"
    cite = citation(doc, *event_citation_span(doc, event))
    return f'{_where(doc, event.line)}{_when(event)}: "{one_line(cite.quote)}"{cites.mark(cite)}'


def _mark(doc: CorpusDocument, event: LogEvent, cites: Citations) -> str:
    """A citation marker for a shown event, or a note that the number comes from the template table."""
    if event.shown:
        return cites.mark(citation(doc, *event_citation_span(doc, event)))
    return f" ({NOT_SHOWN})"


def _filter_text(stats: LogStats) -> str:
    found = stats.filter or {}
    parts = []
    if found.get("from") or found.get("to"):
        parts.append(f"time range {found.get('from') or 'start'} to {found.get('to') or 'end'}")
    if found.get("levels"):
        parts.append("levels " + ", ".join(found["levels"]))
    return "; ".join(parts) or "options.time_range/levels"


def log_source(stats: LogStats) -> list[str]:
    """Where the numbers come from, when the model did not see the whole log verbatim."""
    if stats.view_lines is None:
        return []
    return [
        f"- **Compressed view:** the log did not fit the window, so the model saw {stats.view_lines:,} of "
        f"{stats.total_lines:,} lines verbatim. Line, event and level counts, the time range, template "
        "counts and error bursts come from the template table (every line counted); quotes cite only lines "
        "shown verbatim."
    ]


def log_overview(doc: CorpusDocument, stats: LogStats, cites: Citations) -> list[str]:
    if stats.filtered:
        lines = [
            f"- **Lines:** {stats.line_count:,} of {stats.total_lines:,} ({stats.events:,} events) in the "
            f"job's filter ({_filter_text(stats)})"
        ]
    else:
        lines = [f"- **Lines:** {stats.line_count:,} ({stats.events:,} events)"]
    if stats.first_time and stats.last_time:
        first, last = stats.first_time, stats.last_time
        lines.append(
            f"- **Time range:** {_time(first)}{_mark(doc, first, cites)} to {_time(last)}{_mark(doc, last, cites)}"
        )
    if stats.levels:
        counts = sorted(stats.levels.items(), key=lambda item: (-item[1], item[0]))
        lines.append("- **Levels:** " + ", ".join(f"{level} {count:,}" for level, count in counts))
    return lines


def _template_line(doc: CorpusDocument, rank: int, item: TemplateCount, cites: Citations) -> str:
    levels = ", ".join(f"{name} {count:,}" for name, count in item.levels.items())
    span = _span(doc, item.first.line, item.last_line)
    detail = f"{levels}; {span}" if levels else span
    return f"{rank}. `{one_line(item.template)}` x{item.events:,} ({detail}){_mark(doc, item.first, cites)}"


def log_templates(doc: CorpusDocument, stats: LogStats, cites: Citations) -> list[str]:
    """The most frequent templates (events) in the job's filter, and the whole log's when filtered."""
    where = f" in the job's filter ({_filter_text(stats)})" if stats.filtered else ""
    lines = [f"- **Top templates{where}** (events; numbers, ids and addresses masked as `<*>`):"]
    lines += [_template_line(doc, rank, item, cites) for rank, item in enumerate(stats.templates, 1)]
    if stats.overall_templates:
        lines.append("- **Top templates of the whole log** (from the template table):")
        lines += [
            _template_line(doc, rank, item, cites) for rank, item in enumerate(stats.overall_templates, 1)
        ]
    return lines


def log_errors(doc: CorpusDocument, stats: LogStats, cites: Citations) -> list[str]:
    """First error, the error templates with their first occurrence, bursts, and the warnings that preceded
    the first error."""
    if stats.first_error is None:
        return ["No ERROR or FATAL (including CRITICAL) events were found."]
    lines = [
        f"- **Errors:** {stats.error_count:,} error-level events (ERROR, FATAL)",
        f"- **First error:** {_event(doc, stats.first_error, cites)}",
    ]
    lines.append(
        "- **Most frequent errors** (numbers, ids and addresses masked as `<*>`), each with its first occurrence:"
    )
    for rank, item in enumerate(stats.error_templates[:ERROR_TEMPLATES_SHOWN], 1):
        first = f"first seen {_where(doc, item.first.line)}{_when(item.first)}"
        span = _span(doc, item.first.line, item.last_line)
        lines.append(
            f"{rank}. `{one_line(item.template)}` x{item.events:,} ({span}), {first}{_mark(doc, item.first, cites)}"
        )
    hidden = len(stats.error_templates) - ERROR_TEMPLATES_SHOWN
    if hidden > 0:
        lines.append(f"- ...and {hidden:,} more error templates (facts: top_errors).")
    median = f"{stats.median_errors_per_minute:g}"
    for burst in stats.bursts:
        window = (
            f"{burst.start:%H:%M}-{burst.end:%H:%M}" if burst.end != burst.start else f"{burst.start:%H:%M}"
        )
        head = (
            f"- **Error burst:** {window}, {burst.errors:,} errors (median {median} per active minute), from "
        )
        line = head + _event(doc, burst.first, cites)
        if burst.example is not None:
            line += f"; first error shown verbatim: {_event(doc, burst.example, cites)}"
        lines.append(line)
    lines += _view_bursts(doc, stats, cites)
    if stats.warnings_before:
        lines.append("- **Warnings shortly before the first error:**")
        lines.extend(f"- {text}" for text in _events(doc, stats.warnings_before, cites))
    return lines


def _view_bursts(doc: CorpusDocument, stats: LogStats, cites: Citations) -> list[str]:
    """The bursts of the view's BURSTS section, largest first, each from its first error line."""
    if not stats.view_bursts:
        return []
    lines = [
        "- **Bursts listed in the compressed view** (runs of lines with far more errors than usual in their "
        "file; error lines from the template table):"
    ]
    largest = sorted(stats.view_bursts, key=lambda b: (-b.errors, b.first.line))[:VIEW_BURSTS_SHOWN]
    for rank, burst in enumerate(largest, 1):
        span = _span(doc, burst.first.line, burst.last.line)
        times = f", {burst.first.iso} to {burst.last.iso}" if burst.first.iso and burst.last.iso else ""
        head = f"{rank}. {span}{times}, {burst.errors:,} error lines, from "
        lines.append(head + _event(doc, burst.first, cites))
    return lines


def _events(doc: CorpusDocument, events: list[LogEvent], cites: Citations) -> list[str]:
    """One item per event; consecutive events of one template the model did not see as one item."""
    out: list[str] = []
    for template, group in itertools.groupby(events, key=lambda e: None if e.shown else e.template):
        run = list(group)
        if template is None or len(run) == 1:
            out += [_event(doc, event, cites) for event in run]
            continue
        span = _span(doc, run[0].line, run[-1].line)
        times = f" at {run[0].iso} to {run[-1].iso}" if run[0].iso and run[-1].iso else ""
        out.append(f"{len(run)} events, {span}{times}, template `{one_line(template)}` ({NOT_SHOWN})")
    return out
