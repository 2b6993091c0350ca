"""Tokenisation and an Okapi BM25 index over segments, scored through postings lists only."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")

_STOPWORD_TEXT = """
    a about above after again all also am an and any are as at be been before being below between both
    but by can could did do does doing down during each few for from further had has have having he her
    here hers him his how i if in into is it its itself just me more most my no nor not now of off on once
    only or other our ours out over own same she should so some such than that the their theirs them then
    there these they this those through to too under until up very was we were what when where which while
    who whom why will with would you your yours shall may must hereby herein thereof"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light, consistent suffix stripper (plural, -ing, -ed, -ation, final e)."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and word.endswith("ed"):
        word = word[:-2]
    if len(word) > 6 and word.endswith("ation"):
        word = word[:-3]
    if len(word) >= 4 and word.endswith("e") and not word.endswith("ee"):
        word = word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased, stopword-free, stemmed word tokens."""
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


class BM25Index:
    """Okapi BM25 (k1, b) over tokenised passages; scoring touches only the query terms' postings."""

    def __init__(self, passages: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._postings: dict[str, list[tuple[int, int]]] = {}
        self._lengths = [len(tokens) for tokens in passages]
        self._avg = (sum(self._lengths) / len(self._lengths)) if self._lengths else 1.0
        for index, tokens in enumerate(passages):
            for term, count in Counter(tokens).items():
                self._postings.setdefault(term, []).append((index, count))

    def __len__(self) -> int:
        return len(self._lengths)

    def idf(self, term: str) -> float:
        df = len(self._postings.get(term, ()))
        return math.log(1.0 + (len(self._lengths) - df + 0.5) / (df + 0.5))

    def scores(self, query: Mapping[str, float]) -> dict[int, float]:
        """BM25 score of every passage that holds at least one query term; `query` maps term -> weight."""
        totals: dict[int, float] = {}
        k1, b, avg, lengths = self.k1, self.b, max(self._avg, 1e-9), self._lengths
        for term, weight in query.items():
            postings = self._postings.get(term)
            if not postings or weight <= 0:
                continue
            idf = self.idf(term) * weight
            for index, tf in postings:
                norm = tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[index] / avg))
                totals[index] = totals.get(index, 0.0) + idf * norm
        return totals


def top(scores: Mapping[int, float], k: int) -> list[tuple[int, float]]:
    """The k best (index, score) pairs, best first; ties go to the earlier passage."""
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
