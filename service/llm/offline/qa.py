"""Answers to questions: BM25 over every segment with topic expansion and fact boosts, and dedicated
paths for "what went wrong in the logs" and "which events are most frequent" questions about logs."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from service.models import EngineAnswer

from .analysis import Analysis
from .bm25 import tokenize, top
from .cite import QUOTE_LIMIT, Citations
from .render import LABEL, fact_lines, log_errors, log_overview, log_source, log_templates, quote_line


@dataclass(frozen=True)
class Topic:
    triggers: frozenset[str]
    expansion: tuple[str, ...]
    categories: tuple[str, ...]


def _topic(triggers: str, expansion: str, categories: str) -> Topic:
    return Topic(frozenset(tokenize(triggers)), tuple(tokenize(expansion)), tuple(categories.split()))


TOPICS = (
    _topic("termination terminate terminated cancel cancellation notice exit end", "terminate notice cure expiry breach", "termination"),
    _topic("payment pay paid fees fee invoice invoices price cost due", "fees invoice net due payable interest", "payment amount"),
    _topic("liability liable damages cap limit indemnity", "liability damages exceed aggregate cap indirect", "liability_cap"),
    _topic("parties party who between signatories", "between party provider customer", "party"),
    _topic("date dates effective commence start begin signed", "effective date commence", "effective_date date"),
    _topic("law governing jurisdiction court courts", "governed laws jurisdiction courts", "governing_law"),
    _topic("term duration renew renewal long expire", "term renew successive year month", "term renewal"),
)  # fmt: skip
LOG_INTENT = frozenset(
    tokenize(
        "error errors fail failed failure exception crash fatal critical incident outage problem issue burst"
    )
)
TEMPLATE_INTENT = frozenset(
    tokenize(
        "template templates frequent frequently common commonly pattern patterns recurring repeated top busiest"
    )
)
LOG_WORDS = frozenset(tokenize("log logs event events message messages line lines entry entries"))
PASSAGES = 5
RELATIVE_FLOOR = 0.35
FACT_BOOST = 0.5
NOT_FOUND = "The documents do not seem to answer this question. The nearest passages are quoted below."


def _query(terms: list[str], topics: list[Topic]) -> dict[str, float]:
    weights = dict.fromkeys(terms, 1.0)
    for topic in topics:
        for term in topic.expansion:
            weights.setdefault(term, 0.5)
    return weights


def _fact_segments(analysis: Analysis, topics: list[Topic]) -> set[int]:
    categories = {category for topic in topics for category in topic.categories}
    return {
        fact.segment
        for facts in analysis.contracts.values()
        for fact in facts.facts
        if fact.category in categories
    }


def _log_answer(analysis: Analysis, cites: Citations) -> list[str] | None:
    """Error analysis of every log that has errors, or None when no log has any."""
    corpus = analysis.corpus
    sections: list[str] = []
    failing = [(doc_index, stats) for doc_index, stats in sorted(analysis.logs.items()) if stats.error_count]
    for number, (doc_index, stats) in enumerate(failing):
        cites.share(len(failing) - number)
        doc = corpus.documents[doc_index]
        sections += ["", f"### {doc.name}", ""] + log_source(stats) + log_errors(doc, stats, cites)
    return sections or None


def _template_answer(analysis: Analysis, cites: Citations) -> list[str]:
    """Time range, levels and the most frequent templates of every log (within the job's filter)."""
    sections: list[str] = []
    logs = sorted(analysis.logs.items())
    for number, (doc_index, stats) in enumerate(logs):
        cites.share(len(logs) - number)
        doc = analysis.corpus.documents[doc_index]
        overview = log_source(stats) + log_overview(doc, stats, cites) + log_templates(doc, stats, cites)
        sections += ["", f"### {doc.name}", ""] + overview
    return sections


def _asks_templates(analysis: Analysis, terms: set[str]) -> bool:
    """A question about the most frequent events: only logs, or words that name the log's events."""
    if not analysis.logs or not TEMPLATE_INTENT & terms:
        return False
    return not analysis.contracts or bool(LOG_WORDS & terms)


def _rank(analysis: Analysis, terms: list[str], topics: list[Topic]) -> list[tuple[int, float]]:
    scores = analysis.corpus.index().scores(_query(terms, topics))
    boosted = _fact_segments(analysis, topics)
    if boosted:
        bonus = FACT_BOOST * max(scores.values(), default=1.0)
        for index in boosted:
            scores[index] = scores.get(index, 0.0) + bonus
    ranked = top(scores, PASSAGES)
    best = ranked[0][1] if ranked else 0.0
    return [(index, score) for index, score in ranked if score >= RELATIVE_FLOOR * best]


def _answered(analysis: Analysis, terms: list[str], ranked: list[tuple[int, float]], facts: bool) -> bool:
    """True when the best passage shares enough of the question's own words (or facts matched)."""
    if facts:
        return True
    if not ranked or not terms:
        return False
    words = set(analysis.corpus.tokens[ranked[0][0]])
    distinct = set(terms)
    return len(distinct & words) >= min(2, math.ceil(len(distinct) / 2))


def _focus(text: str, start: int, end: int, terms: list[str]) -> tuple[int, int] | None:
    """The stretch of [start, end) that holds the most query-term hits within one quote's length."""
    if not terms:
        return None
    pattern = re.compile(r"(?i)\b(?:" + "|".join(re.escape(term) for term in terms) + ")")
    hits = [match.span() for match in pattern.finditer(text, start, end)]
    if not hits:
        return None
    best, best_count, right = 0, 0, 0
    for left in range(len(hits)):
        right = max(right, left)
        while right + 1 < len(hits) and hits[right + 1][1] - hits[left][0] <= QUOTE_LIMIT:
            right += 1
        if right - left + 1 > best_count:
            best, best_count = left, right - left + 1
    return hits[best][0], hits[best + best_count - 1][1]


def _passages(
    analysis: Analysis, ranked: list[tuple[int, float]], terms: list[str], cites: Citations
) -> list[str]:
    corpus = analysis.corpus
    if not ranked:
        ranked = [(first, 0.0) for first, end in corpus.ranges[:2] if first < end]
    lines = []
    for index, _score in ranked:
        segment = corpus.segments[index]
        doc = corpus.documents[segment.doc_index]
        focus = _focus(doc.extracted.text, segment.start, segment.end, terms)
        lines.append(quote_line(doc, segment.start, segment.end, cites, named=True, focus=focus))
    return lines


def _fact_section(analysis: Analysis, topics: list[Topic], cites: Citations) -> list[str]:
    categories = [category for topic in topics for category in topic.categories]
    lines: list[str] = []
    for doc_index, facts in sorted(analysis.contracts.items()):
        found = fact_lines(facts, cites, categories) if categories else []
        if found:
            lines += [f"From **{analysis.corpus.documents[doc_index].name}**:"] + found
    return lines


def answer_question(analysis: Analysis, question: str, max_citations: int) -> EngineAnswer:
    """One cited answer: log error analysis for error questions about logs, otherwise ranked passages."""
    cites = Citations(max_citations)
    terms = list(dict.fromkeys(tokenize(question)))
    lines = [LABEL, ""]
    if analysis.logs and LOG_INTENT & set(terms) and (log_lines := _log_answer(analysis, cites)):
        lines.append("Error analysis of the log(s):")
        lines += log_lines
        return EngineAnswer(question, "\n".join(lines).strip() + "\n", cites.items)
    if _asks_templates(analysis, set(terms)):
        lines.append("Most frequent events of the log(s):")
        lines += _template_answer(analysis, cites)
        return EngineAnswer(question, "\n".join(lines).strip() + "\n", cites.items)
    topics = [topic for topic in TOPICS if topic.triggers & set(terms)]
    facts = _fact_section(analysis, topics, cites)
    ranked = _rank(analysis, terms, topics)
    if _answered(analysis, terms, ranked, bool(facts)):
        lines += facts + ([""] if facts else []) + ["Most relevant passages:"]
    else:
        lines.append(NOT_FOUND)
    lines += _passages(analysis, ranked, terms, cites)
    return EngineAnswer(question, "\n".join(lines).strip() + "\n", cites.items)
