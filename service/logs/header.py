"""Learned per-file split of a log line into header (timestamp, level, component...) and message.

Headers differ per format but are positionally stable within one file, so the split is learned
from a sample instead of configured:

* everything up to the end of the timestamp is header (access logs put the client before it);
* if most lines have a token ending with ':' at the same early position (``sshd[42]:``,
  ``dfs.DataNode$PacketResponder:``, ``WindowManager:``), the header ends there: mode COLON;
* otherwise, if most lines name a level at the same position, the header ends after the level
  plus the structural tokens right after it (``[thread]``, ``-``, a dotted logger name): LEVEL;
* otherwise, if most lines have a lone '-' after one or two header tokens (``prog - message``,
  ``prog *64 - message``), the header ends there: DASH;
* otherwise only the timestamp is stripped: NONE.

Bracketed groups (``[IPC Server handler 5 on 8020]``) count as one header token.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from .levels import HEADER_TOKENS, LEVEL_TOKENS, level_of_token
from .timestamps import TimestampDetector

__all__ = ["HeaderModel", "SplitLine", "learn_header"]

_MAX_PARTS = 14  # header tokens + room for one bracket group with spaces
# A clear majority, not unanimity: some lines (continuations, odd components) do not conform.
_MAJORITY = 0.6


@dataclass(frozen=True, slots=True)
class SplitLine:
    """A line cut into its timestamp match, level and message text."""

    ts_match: re.Match[str] | None
    level: str | None
    message: str


def _join_brackets(parts: list[str]) -> list[str]:
    """Merge a '[...]' group broken by spaces back into one token."""
    out: list[str] = []
    i = 0
    while i < len(parts):
        tok = parts[i]
        if tok.startswith("[") and tok.count("[") > tok.count("]"):
            j = i + 1
            while j < len(parts) and "]" not in parts[j]:
                j += 1
            if j < len(parts):
                tok = " ".join(parts[i : j + 1])
                i = j
        out.append(tok)
        i += 1
    return out


def _first_colon(parts: list[str], limit: int) -> int | None:
    for i, tok in enumerate(parts[:limit]):
        if tok.endswith(":") and "//" not in tok:
            return i
    return None


def _first_level(parts: list[str], limit: int) -> tuple[int, str] | None:
    for i, tok in enumerate(parts[:limit]):
        level = level_of_token(tok)
        if level is not None:
            return i, level
    return None


# One header token: a bracket group (spaces allowed inside) or a run of non-blanks.
_TOKEN = r"(?:\[[^\]]*\]\S*|\S+)"
_ABSORB = r"(?:\[[^\]]*\]\S*|[-|:,]{1,2}|[A-Za-z_][\w$-]*(?:\.[\w$-]+)+:?)(?=\s|$)"


# DASH mode: one or two header tokens (program, flags), then a lone '-'.
_DASH = re.compile(r"\s*(?:\S+\s+){1,2}?-(?:\s+|$)")


def _has_dash(parts: list[str]) -> bool:
    return "-" in parts[1:3]


def _colon_regex(position: int) -> re.Pattern[str]:
    # Tokens not ending with ':' (lazily, so the first colon token wins), then the colon token.
    token = r"(?:\[[^\]]*\]\S*|\S*[^:\s])"
    return re.compile(rf"\s*(?P<pre>(?:{token}\s+){{0,{position + 2}}}?)\S*:(?=\s|$)")


def _level_regex(position: int) -> re.Pattern[str]:
    # The level token itself is checked against LEVEL_TOKENS afterwards: a big alternation of
    # spellings here would be tried at every position and cost more than the dict lookup.
    return re.compile(rf"\s*(?:{_TOKEN}\s+){{{position}}}(?P<level>\S+)(?:\s+{_ABSORB}){{0,3}}")


def _any_level(rest: str) -> str | None:
    for token in rest.split(None, HEADER_TOKENS)[:HEADER_TOKENS]:
        level = LEVEL_TOKENS.get(token)
        if level is not None:
            return level
    return None


@dataclass
class HeaderModel:
    """The learned header shape of one file; `split` applies it to a line."""

    detector: TimestampDetector
    mode: str = "NONE"  # COLON, LEVEL, DASH or NONE
    position: int = 0
    stats: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._colon = _colon_regex(self.position) if self.mode == "COLON" else None
        self._level = _level_regex(self.position) if self.mode == "LEVEL" else None
        self._dash = _DASH if self.mode == "DASH" else None

    def split(self, line: str) -> SplitLine:
        """Cut `line` into timestamp, level and message. Lines without a timestamp are all message."""
        return SplitLine(*self.cut(line))

    def cut(self, line: str) -> tuple[re.Match[str] | None, str | None, str]:
        """`split` as a plain tuple (timestamp match, level, message): the per-line hot path."""
        m = self.detector.match(line)
        if m is None:
            return None, None, line.strip()
        level, message = self.cut_rest(line[m.end() :])
        return m, level, message

    def cut_rest(self, rest: str) -> tuple[str | None, str]:
        """Level and message of the text after a timestamp."""
        if rest[:1] == "|":  # pipe-separated header fields: the message follows the last one
            first, _, tail = rest.partition(" ")
            return None, (first.rsplit("|", 1)[1] + " " + tail).strip()
        if self._colon is not None:
            head = self._colon.match(rest)
            if head is not None:
                level = None
                for token in head.group("pre").split():
                    level = LEVEL_TOKENS.get(token)
                    if level is not None:
                        break
                return level, rest[head.end() :].strip()
        if self._level is not None:
            head = self._level.match(rest)
            if head is not None:
                level = LEVEL_TOKENS.get(head.group("level"))
                if level is not None:
                    return level, rest[head.end() :].strip()
        if self._dash is not None:
            head = self._dash.match(rest)
            if head is not None:
                return _any_level(rest[: head.end()]), rest[head.end() :].strip()
        return _any_level(rest), rest.strip()


def learn_header(sample: Iterable[str], reference_year: int | None = None, size: int = 500) -> HeaderModel:
    """Learn the timestamp format and header shape from the first `size` lines of `sample`."""
    lines = []
    for line in sample:
        lines.append(line)
        if len(lines) >= size:
            break
    detector = TimestampDetector(reference_year, sample_size=size)
    detector.fit(lines)
    colons: Counter[int | None] = Counter()
    levels: Counter[int | None] = Counter()
    dashes = 0
    stamped = 0
    for line in lines:
        m = detector.match(line)
        if m is None:
            continue
        stamped += 1
        parts = _join_brackets(line[m.end() :].split(None, _MAX_PARTS)[:_MAX_PARTS])
        colons[_first_colon(parts, HEADER_TOKENS)] += 1
        found = _first_level(parts, HEADER_TOKENS)
        levels[found[0] if found else None] += 1
        dashes += _has_dash(parts)
    stats = {"sampled": len(lines), "stamped": stamped}
    for mode, counter in (("COLON", colons), ("LEVEL", levels)):
        known = [(p, n) for p, n in counter.items() if p is not None]
        pos, hits = max(known, key=lambda pn: pn[1], default=(None, 0))
        if pos is not None and stamped and hits >= _MAJORITY * stamped:
            return HeaderModel(detector, mode, pos, stats)
    if stamped and dashes >= _MAJORITY * stamped:
        return HeaderModel(detector, "DASH", 0, stats)
    return HeaderModel(detector, stats=stats)
