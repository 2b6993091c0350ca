"""The contract portfolio built from the offline engine's contract facts: renewals and notice deadlines
in the next `horizon_days` (counted from `as_of`), clauses that stand out, and one line per contract.

Dates are computed, not read: the current term ends at effective date + initial term, rolled forward by
the renewal period while it renews automatically; the notice deadline is that end minus the notice
period. Every item cites the clauses the computation used.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from typing import Any

from service.reports.facts import Findings, cite
from service.reports.models import Cite, Item

_DURATION = re.compile(r"(\d+)\s+(day|week|month|year)s?")
_NOTICE = re.compile(
    r"(?i)(?:\((\d{1,4})\)|\b(\d{1,4}))\s*(?:calendar\s+|business\s+)?days?\b[^.]{0,60}?\b(?:before|prior)"
)
LONG_NOTICE_DAYS = 90


def _months_days(value: str | None) -> tuple[int, int] | None:
    match = _DURATION.search(value or "")
    if match is None:
        return None
    n, unit = int(match.group(1)), match.group(2)
    return {"day": (0, n), "week": (0, 7 * n), "month": (n, 0), "year": (12 * n, 0)}[unit]


def _add(start: date, span: tuple[int, int]) -> date:
    months, days = span
    year, month = divmod(start.month - 1 + months, 12)
    target = date(start.year + year, month + 1, 1)
    last_day = ((target.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day
    return target.replace(day=min(start.day, last_day)) + timedelta(days=days)


def _notice_days(doc: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """The notice period of non-renewal or termination, and the fact it was read from."""
    renewal = doc.get("renewal")
    if renewal and (m := _NOTICE.search(renewal.get("quote", ""))):
        return int(m.group(1) or m.group(2)), renewal
    for fact in doc.get("termination", []):
        span = _months_days(fact.get("notice"))
        if span:
            return span[0] * 30 + span[1], fact
    return None


def _term_end(doc: dict[str, Any], as_of: date) -> tuple[date, bool] | None:
    """(end of the current term, renews automatically) or None without effective date and term."""
    effective, term = doc.get("effective_date"), doc.get("term")
    span = _months_days((term or {}).get("value"))
    try:
        start = date.fromisoformat(str((effective or {}).get("value")))
    except ValueError:
        return None
    if span is None:
        return None
    end = _add(start, span)
    renewal: dict[str, Any] = doc.get("renewal") or {}
    period = _months_days(renewal.get("value"))
    auto = "automatic" in str(renewal.get("value", ""))
    while auto and period and end < as_of:
        end = _add(end, period)
    return end, auto


def build_contract_portfolio(
    docs: list[dict[str, Any]], names: dict[str, str], as_of: date, horizon_days: int
) -> Findings:
    out = Findings()
    contracts = [d for d in docs if d.get("kind") == "contract"]
    laws = Counter(str(d["governing_law"]["value"]) for d in contracts if d.get("governing_law"))
    usual_law = laws.most_common(1)[0][0] if len(contracts) > 1 and laws else None
    until = as_of + timedelta(days=horizon_days)
    for doc in contracts:
        _dates(out, doc, names, as_of, until)
        _unusual(out, doc, names, usual_law)
        _summary(out, doc, names)
    window = f"between {as_of.isoformat()} and {until.isoformat()}"
    empty = {
        "renewals": f"No term ends or renewals {window}.",
        "termination_deadlines": f"No notice deadlines {window}.",
        "unusual_clauses": "Nothing unusual found by the offline rules.",
    }
    for key, note in empty.items():
        out.notes[key] = (
            note
            if not out.items.get(key)
            else f"As of {as_of.isoformat()}, looking {horizon_days} days ahead."
        )
    skipped = len(docs) - len(contracts)
    out.notes["contracts"] = f"{len(contracts)} contract{'s' if len(contracts) != 1 else ''}" + (
        f"; {skipped} other documents skipped" if skipped else ""
    )
    out.metrics["contracts"] = float(len(contracts))
    return out


def _dates(out: Findings, doc: dict[str, Any], names: dict[str, str], as_of: date, until: date) -> None:
    name = str(doc.get("name"))
    found = _term_end(doc, as_of)
    if found is None:
        return
    end, auto = found
    basis = (
        cite(doc.get("effective_date"), names)
        + cite(doc.get("term"), names)
        + cite(doc.get("renewal"), names)
    )
    if as_of <= end <= until:
        what = "renews automatically" if auto else "term ends"
        out.add(
            "renewals",
            Item(text=f"{name}: {what} on {end.isoformat()} (in {(end - as_of).days} days)", citations=basis),
        )
    notice = _notice_days(doc)
    if notice is None or end < as_of:
        return
    days, fact = notice
    deadline = end - timedelta(days=days)
    if deadline <= until and end <= until + timedelta(days=days):
        state = "has passed" if deadline < as_of else f"is in {(deadline - as_of).days} days"
        action = "non-renewal" if auto else "termination"
        text = f"{name}: last day to give {days} days' notice of {action} is {deadline.isoformat()} ({state}; term ends {end.isoformat()})"
        out.add("termination_deadlines", Item(text=text, citations=cite(fact, names) + basis[:2]))


def _unusual(out: Findings, doc: dict[str, Any], names: dict[str, str], usual_law: str | None) -> None:
    name = str(doc.get("name"))
    notice = _notice_days(doc)
    if doc.get("renewal") and notice and notice[0] >= LONG_NOTICE_DAYS:
        text = f"{name}: automatic renewal with a long notice period ({notice[0]} days)"
        out.add("unusual_clauses", Item(text=text, citations=cite(notice[1], names)))
    if not doc.get("liability_cap"):
        out.add("unusual_clauses", Item(text=f"{name}: no limitation of liability found"))
    law = doc.get("governing_law")
    if law and usual_law and law["value"] != usual_law:
        text = f"{name}: governed by {law['value']} (most contracts: {usual_law})"
        out.add("unusual_clauses", Item(text=text, citations=cite(law, names)))
    for fact in doc.get("payment", []):
        if str(fact.get("value", "")).startswith("late interest"):
            out.add("unusual_clauses", Item(text=f"{name}: {fact['value']}", citations=cite(fact, names)))


def _summary(out: Findings, doc: dict[str, Any], names: dict[str, str]) -> None:
    name = str(doc.get("name"))
    parts: list[str] = []
    cites: list[Cite] = []
    parties = doc.get("parties", [])
    if parties:
        parts.append("parties " + " and ".join(str(p["value"]) for p in parties[:4]))
        cites += cite(parties[0], names)
    for label, key in (("effective", "effective_date"), ("term", "term"), ("renewal", "renewal")):
        if doc.get(key):
            parts.append(f"{label} {doc[key]['value']}")
            cites += cite(doc[key], names)
    for label, key in (("governing law", "governing_law"), ("liability cap", "liability_cap")):
        if doc.get(key):
            parts.append(f"{label}: {doc[key]['value']}")
            cites += cite(doc[key], names)
    if doc.get("amounts"):
        parts.append("amounts " + ", ".join(str(a["value"]) for a in doc["amounts"][:3]))
        cites += cite(doc["amounts"][0], names)
    out.add("contracts", Item(text=f"{name}: " + "; ".join(parts), citations=cites))
    for key in ("term", "renewal", "governing_law", "liability_cap", "effective_date"):
        if doc.get(key):
            out.fact(
                f"{name}:{key}:{doc[key]['value']}",
                f"{name}: {key.replace('_', ' ')} {doc[key]['value']}",
                cite(doc[key], names),
            )
    for key in ("termination", "payment", "amounts"):
        for fact in doc.get(key, []):
            out.fact(f"{name}:{key}:{fact['value']}", f"{name}: {key} {fact['value']}", cite(fact, names))
