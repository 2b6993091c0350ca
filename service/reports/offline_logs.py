"""The daily log digest built from the offline engine's log facts: incidents (error bursts), error
templates not seen in the previous report, error-rate changes (within the period and against the
previous report) and a timeline, every item citing the log line it rests on."""

from __future__ import annotations

from typing import Any

from service.reports.facts import Findings, cite
from service.reports.models import Item

TEMPLATE_CHANGE_MIN = 0.5  # a template's count must move by half to count as an error-rate change


def build_log_digest(
    docs: list[dict[str, Any]], names: dict[str, str], previous: dict[str, Any] | None
) -> Findings:
    """Findings for every log document; `previous` is the previous report's snapshot (or None)."""
    out = Findings()
    logs = [d for d in docs if d.get("kind") == "log"]
    many = len(logs) > 1
    counts: dict[str, int] = {}
    for doc in logs:
        prefix = f"{doc.get('name')}: " if many else ""
        _incidents(out, doc, prefix, names)
        _timeline(out, doc, prefix, names)
        _rate_within(out, doc, prefix, names)
        for tpl in doc.get("top_errors", []):
            counts[tpl["template"]] = counts.get(tpl["template"], 0) + int(tpl.get("count", 0))
            out.fact(
                f"error_template:{tpl['template']}",
                f"error template {tpl['template']}",
                cite(tpl.get("first"), names),
            )
    _new_templates(out, logs, names, previous)
    _rate_against(out, counts, previous)
    out.metrics.update(
        {
            "error lines": float(sum(int(d.get("error_count", 0)) for d in logs)),
            "lines": float(sum(int(d.get("lines", 0)) for d in logs)),
            "incidents": float(sum(len(d.get("bursts", [])) for d in logs)),
        }
    )
    out.extra["error_templates"] = counts
    if not logs:
        out.notes["incidents"] = "No log documents in this report."
    return out


def _incidents(out: Findings, doc: dict[str, Any], prefix: str, names: dict[str, str]) -> None:
    for burst in doc.get("bursts", []):
        span = burst["start"] if burst["start"] == burst["end"] else f"{burst['start']}-{burst['end']}"
        text = f"{prefix}error burst at {span}: {burst['errors']} errors in a minute"
        out.add("incidents", Item(text=text, citations=cite(burst.get("first"), names)))
    first = doc.get("first_error")
    if not doc.get("bursts") and first:
        text = f"{prefix}{doc.get('error_count', 0)} error lines, the first at {first.get('time') or 'line ' + str(first['line'])}"
        out.add("incidents", Item(text=text, citations=cite(first, names)))
    if not doc.get("error_count"):
        out.notes.setdefault("incidents", "No errors in the period.")


def _timeline(out: Findings, doc: dict[str, Any], prefix: str, names: dict[str, str]) -> None:
    events: list[tuple[int, str, dict[str, Any]]] = []
    span = doc.get("time_range") or {}
    if span.get("first"):
        events.append((span["first"]["line"], "log starts", span["first"]))
    for warning in doc.get("warnings_before_first_error", []):
        events.append((warning["line"], "warning before the first error", warning))
    if doc.get("first_error"):
        events.append((doc["first_error"]["line"], "first error", doc["first_error"]))
    for burst in doc.get("bursts", []):
        if burst.get("first") and burst["first"]["line"] != (doc.get("first_error") or {}).get("line"):
            events.append((burst["first"]["line"], f"error burst ({burst['errors']} errors)", burst["first"]))
    if span.get("last") and span["last"]["line"] != (span.get("first") or {}).get("line"):
        events.append((span["last"]["line"], "log ends", span["last"]))
    for line, label, event in sorted(events, key=lambda e: e[0]):
        when = event.get("time") or f"line {line}"
        out.add("timeline", Item(text=f"{prefix}{when}: {label}", citations=cite(event, names)))


def _rate_within(out: Findings, doc: dict[str, Any], prefix: str, names: dict[str, str]) -> None:
    lines, errors = int(doc.get("lines", 0)), int(doc.get("error_count", 0))
    if lines:
        share = 100.0 * errors / lines
        text = f"{prefix}{errors} error lines of {lines} ({share:.1f}%)"
        out.add("error_rate", Item(text=text, citations=cite(doc.get("first_error"), names)))
    bursts = doc.get("bursts", [])
    if bursts:
        peak = max(bursts, key=lambda b: b["errors"])
        median = doc.get("median_errors_per_minute", 0)
        text = f"{prefix}peak of {peak['errors']} errors/minute at {peak['start']}, against a median of {median:g}/minute"
        out.add("error_rate", Item(text=text, citations=cite(peak.get("first"), names)))


def _new_templates(
    out: Findings, logs: list[dict[str, Any]], names: dict[str, str], previous: dict[str, Any] | None
) -> None:
    known = set((previous or {}).get("error_templates", {}))
    for doc in logs:
        for tpl in doc.get("top_errors", []):
            if tpl["template"] in known:
                continue
            where = (
                f"lines {tpl['first_line']}-{tpl['last_line']}"
                if tpl["count"] > 1
                else f"line {tpl['first_line']}"
            )
            text = f"{doc.get('name')}: {tpl['count']} occurrence{'s' if tpl['count'] != 1 else ''}, {where}"
            out.add(
                "new_error_templates",
                Item(text=text, code=tpl["template"], citations=cite(tpl.get("first"), names)),
            )
    if previous is None:
        out.notes["new_error_templates"] = (
            "No previous report to compare with: every error template is listed."
        )
    elif not out.items.get("new_error_templates"):
        out.notes["new_error_templates"] = (
            f"No new error templates since the previous report ({len(known)} known)."
        )


def _rate_against(out: Findings, counts: dict[str, int], previous: dict[str, Any] | None) -> None:
    if previous is None:
        return
    before = previous.get("error_templates", {})
    for template, now in sorted(counts.items(), key=lambda kv: -kv[1]):
        was = int(before.get(template, 0))
        if was and abs(now - was) >= TEMPLATE_CHANGE_MIN * was:
            direction = "up" if now > was else "down"
            text = f"{direction} from {was} to {now} occurrences since the previous report"
            out.add(
                "error_rate",
                Item(
                    text=text, code=template, citations=out.fact_cites.get(f"error_template:{template}", [])
                ),
            )
