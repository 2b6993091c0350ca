"""Event template mining: group log lines into templates with their variable parts masked.

Per line: the learned header split (see `header`) isolates the message, tokens are masked
(see `masking`), and the masked token tuple is looked up in a cache; only on a miss is the
Drain-like search run over clusters keyed by (token count, first token). A cluster matches a
line when every non-wildcard token is equal. New clusters trigger a periodic generalisation
(see `clusters.generalize`) that merges clusters differing in one high-cardinality position.

Template ids returned by `add` stay valid handles: when clusters merge, `resolve` maps an old
id to the surviving one. Memory is bounded by the number of templates: per template only
counts, first/last positions and a few examples per slot are kept; the caches are capped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .clusters import Cluster, collapse, generalize
from .header import HeaderModel, learn_header
from .masking import WILDCARD, TokenMasker, tokenize

__all__ = ["Template", "TemplateMiner"]

_CACHE_LIMIT = 100_000
_LINE_CACHE_LIMIT = 50_000
_WINDOW = 4096
# Every digit becomes '0' (bytes.translate + replace is ~10x faster than a regex substitution).
_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_WARMUP = (16, 128)  # relearn the header shape at these line counts when no sample was given


@dataclass(frozen=True)
class Template:
    """A reported template: `pattern` uses ``<*>`` for variable slots, `examples` one list per slot."""

    id: int
    pattern: str
    count: int
    first_line: int
    last_line: int
    first_ts: datetime | None
    last_ts: datetime | None
    levels: dict[str, int] = field(default_factory=dict)
    examples: list[list[str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (timestamps as ISO 8601 strings)."""
        return {
            "id": self.id,
            "pattern": self.pattern,
            "count": self.count,
            "first_line": self.first_line,
            "last_line": self.last_line,
            "first_ts": self.first_ts.isoformat() if self.first_ts else None,
            "last_ts": self.last_ts.isoformat() if self.last_ts else None,
            "levels": dict(self.levels),
            "examples": self.examples,
        }


def _slot_value(pattern_token: str, raw: str) -> str:
    """The variable part of `raw` under a pattern token like ``size=<*>,``."""
    prefix, _, suffix = pattern_token.partition(WILDCARD)
    if raw.startswith(prefix) and raw.endswith(suffix) and len(raw) >= len(prefix) + len(suffix):
        return raw[len(prefix) : len(raw) - len(suffix)]
    return raw


class TemplateMiner:
    """Streaming template miner. Pass a `sample` (the first lines) so the header shape is known
    up front; without one it is learned from the first lines added and relearned twice."""

    def __init__(
        self,
        sample: Iterable[str] = (),
        *,
        reference_year: int | None = None,
        min_distinct: int = 5,
        max_examples: int = 3,
    ) -> None:
        self.reference_year = reference_year
        self.min_distinct = min_distinct
        self.max_examples = max_examples
        sample = list(sample)
        self.header: HeaderModel = learn_header(sample, reference_year)
        self._warm: list[str] | None = None if sample else []
        self._masker = TokenMasker()
        self._cache: dict[tuple[str, ...], Cluster] = {}
        self._lines: dict[bytes, tuple[str | None, Cluster]] = {}
        # > 0: lines left in the current line-cache trial window; < 0: lines left paused.
        self._line_window = _WINDOW
        self._line_hits = 0
        self._buckets: dict[tuple[int, str], list[Cluster]] = {}
        self._clusters: dict[int, Cluster] = {}
        self._alias: dict[int, int] = {}
        # Survivors of wildcard-run merges, by collapsed tokens: lists of any length find them.
        self._runs: dict[tuple[str, ...], Cluster] = {}
        self._created_since_merge = 0
        self._next_id = 0

    def add(self, line_no: int, line: str, ts: datetime | None = None, level: str | None = None) -> int:
        """Add one line (or the first line of an event); return its template id."""
        if self._warm is not None:
            self._warm_up(line)
        ts_match = self.header.detector.match(line)
        found_level, cluster = self.classify(ts_match, line, line_no)
        cluster.count += 1
        cluster.last_line = line_no
        stamp = ts if ts is not None else ts_match
        if stamp is not None:
            cluster.last_ts = stamp
            if cluster.first_ts is None:
                cluster.first_ts = stamp
        level = level or found_level
        if level is not None:
            cluster.levels[level] += 1
        return cluster.id

    def classify(self, ts_match: re.Match[str] | None, line: str, line_no: int) -> tuple[str | None, Cluster]:
        """The level found in the header and the cluster of one line (`ts_match`: its timestamp), without
        counting it; lines equal up to their digits are looked up in a cache while that pays off."""
        if self._line_window > 0:
            return self._via_line_cache(ts_match, line, line_no)
        self._line_window += 1
        if self._line_window == 0:
            self._line_window = _WINDOW  # pause over: try the cache again
        return self._classify(ts_match, line, line_no)

    def _via_line_cache(
        self, ts_match: re.Match[str] | None, line: str, line_no: int
    ) -> tuple[str | None, Cluster]:
        # Masking only looks at whether a token has digits, so lines equal up to their digits
        # mask alike: this key skips header cutting, tokenising and masking for most lines.
        key = (line[ts_match.end() :] if ts_match else "\0" + line).encode().translate(_ZEROS)
        # Shrink digit runs so numbers of different lengths mostly share a key.
        key = key.replace(b"0000", b"0").replace(b"00", b"0").replace(b"00", b"0")
        hit = self._lines.get(key)
        self._line_window -= 1
        if self._line_window == 0:
            self._judge_line_cache()
        if hit is not None and hit[1].sample_budget <= 0:  # a template still sampling sees its lines
            self._line_hits += 1
            return hit
        found = self._classify(ts_match, line, line_no)
        if len(self._lines) >= _LINE_CACHE_LIMIT:
            self._lines.clear()
        self._lines[key] = found
        return found

    def _judge_line_cache(self) -> None:
        """Keep the line cache for another window if it paid off, else pause it (hex-heavy
        logs never hit, and the key costs a regex pass over the line)."""
        paid = self._line_hits >= _WINDOW // 2
        self._line_hits = 0
        self._line_window = _WINDOW if paid else -_WINDOW * 8

    def _classify(
        self, ts_match: re.Match[str] | None, line: str, line_no: int
    ) -> tuple[str | None, Cluster]:
        if ts_match is None:
            found_level, message = None, line.strip()
        else:
            found_level, message = self.header.cut_rest(line[ts_match.end() :])
        raw = tokenize(message)
        masked = tuple(map(self._masker.__getitem__, raw))
        cluster = self._cache.get(masked)
        if cluster is None:
            cluster = self._place(masked, line_no)
        if cluster.sample_budget > 0:
            cluster.record_examples(raw, self.max_examples)
        return found_level, cluster

    def resolve(self, template_id: int) -> int:
        """The current id of a template id returned earlier by `add` (merges rename)."""
        while template_id in self._alias:
            template_id = self._alias[template_id]
        return template_id

    def templates(self) -> list[Template]:
        """Generalise, then report all templates sorted by count (descending)."""
        self._generalize()
        out = [self._report(c) for c in self._clusters.values()]
        out.sort(key=lambda t: (-t.count, t.id))
        return out

    def __len__(self) -> int:
        return len(self._clusters)

    def _warm_up(self, line: str) -> None:
        assert self._warm is not None
        self._warm.append(line)
        if len(self._warm) == 1 or len(self._warm) in _WARMUP:
            self.header = learn_header(self._warm, self.reference_year)
        if len(self._warm) >= _WARMUP[-1]:
            self._warm = None

    def _place(self, masked: tuple[str, ...], line_no: int) -> Cluster:
        key = (len(masked), masked[0] if masked else "")
        all_wild = all(m == WILDCARD for m in masked)
        for bucket_key in (key, (key[0], WILDCARD)):
            for c in self._buckets.get(bucket_key, ()):
                if not all_wild and all(t == WILDCARD for t in c.tokens):
                    continue  # a template of only variables would swallow every line of its length
                if all(t in (WILDCARD, m) for t, m in zip(c.tokens, masked, strict=True)):
                    return self._remember(masked, c)
        runs = self._runs.get(collapse(masked)) if self._runs else None
        if runs is not None:
            return self._remember(masked, runs)
        cluster = Cluster(self._next_id, masked, line_no)
        self._next_id += 1
        self._clusters[cluster.id] = cluster
        self._buckets.setdefault(key, []).append(cluster)
        self._created_since_merge += 1
        if self._created_since_merge >= max(64, len(self._clusters) // 2):
            self._generalize()
        return self._remember(masked, cluster)

    def _remember(self, masked: tuple[str, ...], cluster: Cluster) -> Cluster:
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[masked] = cluster
        return cluster

    def _generalize(self) -> None:
        self._created_since_merge = 0
        absorbed = generalize(list(self._clusters.values()), self.min_distinct, self.max_examples)
        if not absorbed:
            return
        for old, survivor in absorbed.items():
            del self._clusters[old]
            self._alias[old] = survivor.id
        # Merged clusters changed tokens: rebuild the buckets and drop stale cache entries.
        self._cache.clear()
        self._lines.clear()
        self._buckets = {}
        self._runs = {collapse(c.tokens): c for c in self._clusters.values() if WILDCARD in c.tokens}
        for c in self._clusters.values():
            key = (len(c.tokens), c.tokens[0] if c.tokens else "")
            self._buckets.setdefault(key, []).append(c)

    def _stamp(self, raw: Any) -> datetime | None:
        if isinstance(raw, re.Match):
            return self.header.detector.convert(raw)
        return raw if isinstance(raw, datetime) else None

    def _report(self, c: Cluster) -> Template:
        examples = [[_slot_value(c.tokens[pos], v) for v in c.examples[pos]] for pos in sorted(c.examples)]
        return Template(
            id=c.id,
            pattern=" ".join(c.tokens),
            count=c.count,
            first_line=c.first_line,
            last_line=c.last_line,
            first_ts=self._stamp(c.first_ts),
            last_ts=self._stamp(c.last_ts),
            levels=dict(c.levels),
            examples=examples,
        )
