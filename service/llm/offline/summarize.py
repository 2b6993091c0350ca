"""Extractive summaries: central sentences (cosine to the TF-IDF centroid, linear time) plus key facts."""

from __future__ import annotations

import math
from collections import Counter

from service.models import EngineAnswer

from .analysis import Analysis
from .cite import Citations
from .corpus import Corpus
from .render import LABEL, fact_lines, log_errors, log_overview, log_source, log_templates, quote_line
from .runctl import Guard

MAX_CANDIDATES = 4000
CENTROID_TERMS = 300
REDUNDANCY = 0.5


def _candidates(corpus: Corpus, doc_index: int) -> list[int]:
    """Sentence-like segments; huge documents are sampled with a fixed stride (deterministic)."""
    indices = [i for i in corpus.doc_segments(doc_index) if 6 <= len(corpus.tokens[i]) <= 120]
    indices = indices or list(corpus.doc_segments(doc_index))
    if len(indices) > MAX_CANDIDATES:
        step = math.ceil(len(indices) / MAX_CANDIDATES)
        indices = sorted(set(indices[:200]) | set(indices[::step]))
    return indices


def _centroid(corpus: Corpus, indices: list[int], guard: Guard) -> tuple[dict[str, float], dict[str, float]]:
    """(idf, centroid) over the candidates; the centroid keeps its strongest terms only."""
    df: Counter[str] = Counter()
    for i in indices:
        guard.tick()
        df.update(set(corpus.tokens[i]))
    n = len(indices)
    idf = {term: math.log((1 + n) / (1 + count)) + 1.0 for term, count in df.items()}
    weights: dict[str, float] = {}
    for i in indices:
        for term, tf in Counter(corpus.tokens[i]).items():
            weights[term] = weights.get(term, 0.0) + tf * idf[term]
    strongest = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:CENTROID_TERMS]
    return idf, dict(strongest)


def _cosine(tokens: list[str], idf: dict[str, float], centroid: dict[str, float], norm_c: float) -> float:
    vector = {term: tf * idf.get(term, 1.0) for term, tf in Counter(tokens).items()}
    dot = sum(weight * centroid.get(term, 0.0) for term, weight in vector.items())
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return dot / (norm * norm_c) if norm and norm_c else 0.0


def central_segments(corpus: Corpus, doc_index: int, k: int, guard: Guard) -> list[int]:
    """Up to k central, mutually different segments of one document, in document order."""
    indices = _candidates(corpus, doc_index)
    if not indices:
        return []
    idf, centroid = _centroid(corpus, indices, guard)
    norm_c = math.sqrt(sum(w * w for w in centroid.values()))
    scored = [(_cosine(corpus.tokens[i], idf, centroid, norm_c), i) for i in indices]
    chosen: list[int] = []
    chosen_sets: list[set[str]] = []
    for _score, i in sorted(scored, key=lambda item: (-item[0], item[1])):
        words = set(corpus.tokens[i])
        if any(len(words & other) / max(1, len(words | other)) > REDUNDANCY for other in chosen_sets):
            continue
        chosen.append(i)
        chosen_sets.append(words)
        if len(chosen) >= k:
            break
    return sorted(chosen)


def _describe(analysis: Analysis, doc_index: int) -> str:
    doc = analysis.corpus.documents[doc_index]
    ext = doc.extracted
    if doc_index in analysis.logs:
        return f"log, {ext.line_count:,} lines"
    kind = "contract" if analysis.contracts[doc_index].is_contract else "document"
    size = f"{ext.page_count} pages" if ext.page_starts else f"{ext.line_count:,} lines"
    return f"{kind}, {ext.kind}, {size}"


def _document_section(
    analysis: Analysis, doc_index: int, k: int, cites: Citations, guard: Guard
) -> list[str]:
    corpus = analysis.corpus
    doc = corpus.documents[doc_index]
    lines = [f"### {doc.name} ({_describe(analysis, doc_index)})", ""]
    if doc_index in analysis.logs:
        stats = analysis.logs[doc_index]
        overview = log_source(stats) + log_overview(doc, stats, cites) + log_errors(doc, stats, cites)
        return lines + overview + log_templates(doc, stats, cites)
    lines.extend(fact_lines(analysis.contracts[doc_index], cites))
    central = central_segments(corpus, doc_index, k, guard)
    if central:
        lines += ["", "**Key sentences:**"]
        for i in central:
            segment = corpus.segments[i]
            lines.append(quote_line(doc, segment.start, segment.end, cites))
    return lines


def summarize(analysis: Analysis, sentences: int, max_citations: int, guard: Guard) -> EngineAnswer:
    """One answer covering every document: facts first, then its most central sentences."""
    cites = Citations(max_citations)
    count = len(analysis.corpus.documents)
    per_doc = max(3, sentences // max(1, count)) if count > 1 else sentences
    lines = [LABEL, "", f"Summary of {count} document{'s' if count != 1 else ''}."]
    for doc_index in range(count):
        guard.check()
        cites.share(count - doc_index)
        lines += [""] + _document_section(analysis, doc_index, per_doc, cites, guard)
    return EngineAnswer(question=None, answer="\n".join(lines).strip() + "\n", citations=cites.items)
