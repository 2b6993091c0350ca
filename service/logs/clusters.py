"""Mutable template clusters and their generalisation (the post-merge).

A cluster is one masked token sequence with statistics. Clusters of equal length are merged
when they differ in one position only and that position shows at least `min_distinct` values
(or already holds a wildcard): a slot with many values is a variable the masking regexes could
not recognise (user names, host names). A pair like "opened"/"closed" stays apart, which is
where a plain similarity threshold (Drain) tends to over-merge.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from .masking import AMOUNT_UNITS, WILDCARD

__all__ = ["Cluster", "collapse", "generalize"]


class Cluster:
    """Internal mutable template state; memory is O(tokens + bounded examples)."""

    __slots__ = (
        "id",
        "tokens",
        "count",
        "first_line",
        "last_line",
        "first_ts",
        "last_ts",
        "levels",
        "examples",
        "sample_budget",
    )

    def __init__(self, cid: int, tokens: tuple[str, ...], line_no: int) -> None:
        self.id = cid
        self.tokens = tokens
        self.count = 0
        self.first_line = line_no
        self.last_line = line_no
        # Raw timestamps (a datetime, or a regex match converted only when reported).
        self.first_ts: Any = None
        self.last_ts: Any = None
        self.levels: Counter[str] = Counter()
        self.examples: dict[int, list[str]] = {i: [] for i, t in enumerate(tokens) if WILDCARD in t}
        self.sample_budget = 256

    def record_examples(self, raw: list[str], limit: int) -> None:
        """Keep up to `limit` distinct raw values per slot; stop looking once all are full."""
        self.sample_budget -= 1
        if len(raw) != len(self.tokens):  # a line of another length found a wildcard-run survivor
            return
        full = True
        for pos, values in self.examples.items():
            if len(values) < limit:
                value = raw[pos]
                if value not in values:
                    values.append(value)
                full = full and len(values) >= limit
        if full:
            self.sample_budget = 0

    def widen(self, pos: int, pattern: str = WILDCARD) -> None:
        """Turn position `pos` into a variable slot masked as `pattern`."""
        old = self.tokens[pos]
        self.tokens = self.tokens[:pos] + (pattern,) + self.tokens[pos + 1 :]
        values = self.examples.setdefault(pos, [])
        if WILDCARD not in old and old not in values:
            values.append(old)
        self.sample_budget = max(self.sample_budget, 64)

    def absorb(self, other: Cluster, limit: int) -> None:
        """Add `other`'s statistics to this cluster."""
        if other.first_line < self.first_line:
            self.first_line, self.first_ts = other.first_line, other.first_ts
        if other.last_line > self.last_line:
            self.last_line, self.last_ts = other.last_line, other.last_ts
        self.count += other.count
        self.levels.update(other.levels)
        if len(other.tokens) != len(self.tokens):
            return  # a wildcard-run merge: slots do not line up, keep our own examples
        for pos, values in self.examples.items():
            theirs = other.examples.get(pos) or (
                [other.tokens[pos]] if WILDCARD not in other.tokens[pos] else []
            )
            for value in theirs:
                if len(values) < limit and value not in values:
                    values.append(value)


def _fits(pattern: str, value: str) -> bool:
    prefix, _, suffix = pattern.partition(WILDCARD)
    return len(value) >= len(prefix) + len(suffix) and value.startswith(prefix) and value.endswith(suffix)


# Units of sizes and durations: written after a number, they change with its magnitude (93.0 B,
# 5.2 KB; 800 ms, 2 s), so a slot of units right after a masked number is part of the value.
_UNITS = frozenset([*AMOUNT_UNITS, "min", "mins", "h", "hrs"])
_UNIT_TRAIL = ",;:.)]}>"


def _unit_targets(values: set[str], after_number: bool) -> dict[str, str]:
    """{value: '<*>' plus its trailing punctuation} when every value is an amount masked with its
    unit ('<*> KB,') or, right after a masked number, a unit token ('KB,'); else empty."""
    out = {}
    for v in values:
        amount = v.startswith(WILDCARD + " ")
        if not (amount or after_number):
            return {}
        body = v[len(WILDCARD) + 1 :] if amount else v
        unit = body.rstrip(_UNIT_TRAIL)
        if unit not in _UNITS:
            return {}
        out[v] = WILDCARD + body[len(unit) :]
    return out


def _targets(
    key: tuple[str, ...],
    values: set[str],
    min_distinct: int,
    after_number: bool = False,
    names: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """Map the values at one position to the value they merge into (empty: no merge)."""
    if WILDCARD in values:
        if all(WILDCARD in t for t in key):
            # Nothing constant would be left ('<*>', '<*> <*>'): one-word messages ('initEnviroument',
            # 'clear()', a bare number) are different events, not values of one slot.
            values = values - {WILDCARD}
        else:
            return dict.fromkeys(values, WILDCARD)
    units = _unit_targets(values, after_number)
    if units:
        return units
    patterns = [v for v in values if WILDCARD in v and " " not in v]
    if patterns:
        # '"-"' fits the masked '"<*>"': the same slot, sometimes empty or unmasked.
        return {v: p for v in values for p in patterns if v != p and WILDCARD not in v and _fits(p, v)}
    # Enough constant words around the slot ('(<*>' is masked, not constant) to call it a name.
    anchored = sum(WILDCARD not in t for t in key) >= max(1, len(key) / 2)
    distinct = len(values) if len(values) >= min_distinct else len(values & names)
    if anchored and distinct >= min(min_distinct, _SHARED_NAMES) and all(" " not in v for v in values):
        return dict.fromkeys(values, _slot_pattern(values))
    return {}


def _slot_pattern(values: set[str]) -> str:
    """'user=<*>' when every value is the same key with a different word (user=root, user=uucp),
    else a bare wildcard."""
    key, eq, _ = next(iter(values)).partition("=")
    if eq and key and all(v.startswith(key + "=") for v in values):
        return key + "=" + WILDCARD
    return WILDCARD


# A slot is a name slot, below `min_distinct` values, when this many of its words are also the
# alternatives of a slot in another template: "session opened for user cyrus|news|test by ..." and
# "session closed for user cyrus|news|test|root" name the same users. Verb pairs (opened/closed)
# rarely recur as the same set of three.
_SHARED_NAMES = 3


def shared_names(clusters: list[Cluster], min_distinct: int) -> frozenset[str]:
    """Words that are, together with at least two others, the alternatives of a slot in two or more
    templates (clusters equal but for that slot)."""
    slots: list[frozenset[str]] = []
    by_length: defaultdict[int, list[Cluster]] = defaultdict(list)
    for c in clusters:
        by_length[len(c.tokens)].append(c)
    for same in by_length.values():
        if len(same) < _SHARED_NAMES:
            continue
        for pos in range(len(same[0].tokens)):
            groups: defaultdict[tuple[str, ...], set[str]] = defaultdict(set)
            for c in same:
                t = c.tokens[pos]
                if WILDCARD not in t and " " not in t:
                    groups[c.tokens[:pos] + c.tokens[pos + 1 :]].add(t)
            slots.extend(frozenset(v) for v in groups.values() if _SHARED_NAMES <= len(v) < min_distinct)
    where: defaultdict[str, list[int]] = defaultdict(list)
    for i, values in enumerate(slots):
        for v in values:
            where[v].append(i)
    names: set[str] = set()
    for i, values in enumerate(slots):
        shared = Counter(j for v in values for j in where[v] if j != i)
        for j, n in shared.items():
            if n >= _SHARED_NAMES:
                names |= values & slots[j]
    return frozenset(names)


def _merge_position(
    live: list[Cluster], pos: int, min_distinct: int, limit: int, names: frozenset[str] = frozenset()
) -> dict[int, Cluster]:
    groups: defaultdict[tuple[str, ...], list[Cluster]] = defaultdict(list)
    for c in live:
        groups[c.tokens[:pos] + c.tokens[pos + 1 :]].append(c)
    absorbed: dict[int, Cluster] = {}
    for key, members in groups.items():
        if len(members) < 2:
            continue
        after_number = pos > 0 and WILDCARD in key[pos - 1]
        targets = _targets(key, {c.tokens[pos] for c in members}, min_distinct, after_number, names)
        if not targets:
            continue
        members.sort(key=lambda c: c.id)
        by_target: defaultdict[str, list[Cluster]] = defaultdict(list)
        for c in members:
            by_target[targets.get(c.tokens[pos], c.tokens[pos])].append(c)
        for target, group in by_target.items():
            if len(group) < 2 and group[0].tokens[pos] == target:
                continue
            survivor = group[0]
            survivor.widen(pos, target)
            for other in group[1:]:
                survivor.absorb(other, limit)
                absorbed[other.id] = survivor
    return absorbed


def collapse(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Collapse runs of wildcards: "delete <*> <*> <*>" and "delete <*>" are one list slot."""
    out: list[str] = []
    for t in tokens:
        if t != WILDCARD or not out or out[-1] != WILDCARD:
            out.append(t)
    return tuple(out)


def merge_runs(clusters: list[Cluster], limit: int) -> dict[int, Cluster]:
    """Merge clusters equal up to the length of wildcard runs; the earliest survives."""
    groups: defaultdict[tuple[str, ...], list[Cluster]] = defaultdict(list)
    for c in clusters:
        if WILDCARD in c.tokens:
            groups[collapse(c.tokens)].append(c)
    absorbed: dict[int, Cluster] = {}
    for members in groups.values():
        members.sort(key=lambda c: c.id)
        for other in members[1:]:
            members[0].absorb(other, limit)
            absorbed[other.id] = members[0]
    return absorbed


def _covers(general: tuple[str, ...], tokens: tuple[str, ...]) -> bool:
    """True when `general` matches every token of `tokens` (equal, or a wildcard slot it fits)."""
    for g, t in zip(general, tokens, strict=True):
        if g != t and g != WILDCARD and not (WILDCARD in g and WILDCARD not in t and _fits(g, t)):
            return False
    return True


def merge_covered(clusters: list[Cluster], limit: int) -> dict[int, Cluster]:
    """A cluster that a more general one of the same length matches joins it: it only exists because
    its lines came before the general one had its wildcards. Clusters made only of wildcards match
    anything and take nobody in."""
    by_length: defaultdict[int, list[Cluster]] = defaultdict(list)
    for c in clusters:
        by_length[len(c.tokens)].append(c)
    absorbed: dict[int, Cluster] = {}
    for same in by_length.values():
        generals = [
            c for c in same if WILDCARD in "".join(c.tokens) and any(WILDCARD not in t for t in c.tokens)
        ]
        # The most general first, so a cluster joins the widest pattern that covers it.
        generals.sort(key=lambda c: (-sum(WILDCARD in t for t in c.tokens), c.id))
        for g in generals:
            if g.id in absorbed:
                continue
            for c in same:
                if c is g or c.id in absorbed or c.tokens == g.tokens or not _covers(g.tokens, c.tokens):
                    continue
                g.absorb(c, limit)
                absorbed[c.id] = g
    return absorbed


def generalize(clusters: list[Cluster], min_distinct: int, limit: int) -> dict[int, Cluster]:
    """Merge clusters per the rules above until stable; return {absorbed id: survivor}."""
    by_length: defaultdict[int, list[Cluster]] = defaultdict(list)
    for c in clusters:
        by_length[len(c.tokens)].append(c)
    absorbed: dict[int, Cluster] = {}
    names = shared_names(clusters, min_distinct)
    for live in by_length.values():
        changed = len(live) > 1
        while changed:
            changed = False
            for pos in range(len(live[0].tokens)):
                merged = _merge_position(live, pos, min_distinct, limit, names)
                if merged:
                    absorbed.update(merged)
                    live = [c for c in live if c.id not in merged]
                    changed = True
    absorbed.update(merge_covered([c for c in clusters if c.id not in absorbed], limit))
    absorbed.update(merge_runs([c for c in clusters if c.id not in absorbed], limit))
    return absorbed
