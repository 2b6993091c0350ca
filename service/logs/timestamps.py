"""Timestamp detection and parsing for log lines, without being told the format.

A file almost always uses one timestamp format, so `TimestampDetector.fit` samples the first
lines, picks the format that matches most of them, and `parse_line` tries that format first on
every line. Other formats are tried as a fallback, anchored at the start of the line only, so a
number deep inside a stack-trace line is not mistaken for a timestamp.

Naive datetimes are returned when the log carries no zone; epoch values are UTC-aware.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

__all__ = ["FORMATS", "TimestampDetector", "TsFormat"]

# Timestamps sit in the first few dozen characters; searching further only invites false hits.
SEARCH_WINDOW = 100

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}
_HMS = r"(?P<H>\d{2}):(?P<M>\d{2}):(?P<S>\d{2})"
_MON = r"(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"


# A `strict` format is chosen only when at least this share of the sampled lines has it.
STRICT_SHARE = 0.9


@dataclass(frozen=True)
class TsFormat:
    """One timestamp format: a compiled regex with named groups understood by `_build`.

    A `strict` format also matches things that are not timestamps (a bare number): it is chosen only
    when nearly every sampled line has it, and never tried on lines the file's own format misses.
    """

    name: str
    regex: re.Pattern[str]
    strict: bool = False


def _fmt(name: str, pattern: str, *, strict: bool = False) -> TsFormat:
    return TsFormat(name, re.compile(pattern), strict)


# Order matters for ties and for the fallback: the more specific formats come first
# (ctime before syslog, because "Sun Dec 04 04:47:44 2005" also contains a syslog stamp).
FORMATS: tuple[TsFormat, ...] = (
    _fmt(
        "iso8601",
        r"(?P<Y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[T ]" + _HMS + r"(?:[.,](?P<f>\d{1,9}))?"
        r"(?P<z>Z|[+-]\d{2}:?\d{2})?",
    ),
    _fmt(
        "bgl",
        r"(?P<Y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})-(?P<H>\d{2})\.(?P<M>\d{2})\.(?P<S>\d{2})"
        r"(?:\.(?P<f>\d{1,9}))?",
    ),
    _fmt("clf", r"\[(?P<d>\d{2})/" + _MON + r"/(?P<Y>\d{4}):" + _HMS + r"(?: (?P<z>[+-]\d{4}))?\]"),
    _fmt(
        "ctime",
        r"\[?(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
        + _MON
        + r" +(?P<d>\d{1,2}) "
        + _HMS
        + r"(?:\.(?P<f>\d{1,9}))? (?P<Y>\d{4})\]?",
    ),
    _fmt("syslog", _MON + r" +(?P<d>\d{1,2}) " + _HMS + r"\b"),
    _fmt("logcat", r"^(?P<mo>\d{2})-(?P<d>\d{2}) " + _HMS + r"\.(?P<f>\d{3})\b"),
    _fmt("yymmdd_slash", r"^(?P<y>\d{2})/(?P<mo>\d{2})/(?P<d>\d{2}) " + _HMS + r"\b"),
    _fmt("hdfs", r"^(?P<y>\d{2})(?P<mo>\d{2})(?P<d>\d{2}) (?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})\b"),
    _fmt(
        "compact",
        r"^(?P<Y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})-(?P<H>\d{1,2}):(?P<M>\d{1,2}):(?P<S>\d{1,2})"
        r"(?::(?P<f>\d{1,3}))?\b",
    ),
    _fmt("mmdd_bracket", r"^\[(?P<mo>\d{2})\.(?P<d>\d{2}) " + _HMS + r"\]"),
    _fmt(
        "epoch",
        r"(?:^|\bts=|\"(?:time|timestamp|ts)\":\s*)\"?(?P<epoch>\d{13}|\d{10})(?:\.(?P<f>\d{1,9}))?\b",
    ),
    # Epoch seconds (2001-2033) as one of the first header fields, after a record id, host or
    # component ("<id> <node> <component> <state> <epoch> <flag> message"): the header ends there.
    _fmt(
        "epoch_field",
        r"^(?:[^\s]+[ \t]+){1,5}?(?P<epoch>1\d{9})(?=[ \t]|$)",
        strict=True,
    ),
)


def _zone(text: str | None) -> timezone | None:
    if not text:
        return None
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def _micros(frac: str | None) -> int:
    return int(frac[:6].ljust(6, "0")) if frac else 0


def _build(groups: dict[str, str | None], year: int) -> datetime:
    """Turn the named groups of any format into a datetime; raises ValueError on nonsense."""
    epoch = groups.get("epoch")
    if epoch:
        seconds = int(epoch) / 1000 if len(epoch) == 13 else int(epoch) + _micros(groups.get("f")) / 1e6
        return datetime.fromtimestamp(seconds, UTC)
    mon = groups.get("mon")
    month = _MONTHS[mon] if mon else int(groups["mo"] or 0)
    if groups.get("Y"):
        year = int(groups["Y"] or 0)
    elif groups.get("y"):
        year = 2000 + int(groups["y"] or 0)
    return datetime(
        year,
        month,
        int(groups["d"] or 0),
        int(groups["H"] or 0),
        int(groups["M"] or 0),
        int(groups["S"] or 0),
        _micros(groups.get("f")),
        tzinfo=_zone(groups.get("z")),
    )


# The formats tried on a line the file's own format misses, or by an unfitted detector.
_LOOSE = tuple(f for f in FORMATS if not f.strict)


class TimestampDetector:
    """Picks the timestamp format of one file from a sample and parses lines with it.

    `reference_year` fills in formats without a year (syslog, logcat); it defaults to the
    current year. Unfitted, the detector simply tries every format on each line.
    """

    def __init__(self, reference_year: int | None = None, sample_size: int = 200) -> None:
        self.reference_year = reference_year or datetime.now().year
        self.sample_size = sample_size
        self.format: TsFormat | None = None
        self._order: tuple[TsFormat, ...] = _LOOSE
        # Many lines share a timestamp (same second), so parsed values are memoised.
        self._memo: dict[str, datetime | None] = {}

    def fit(self, lines: Iterable[str]) -> TsFormat | None:
        """Choose the format matching most sampled lines (ties go to the earlier format)."""
        scores = dict.fromkeys(FORMATS, 0)
        sampled = 0
        for n, line in enumerate(lines):
            if n >= self.sample_size:
                break
            sampled += 1
            for fmt in FORMATS:
                m = fmt.regex.search(line, 0, SEARCH_WINDOW)
                if m and self._convert(m) is not None:
                    scores[fmt] += 1
        for fmt in FORMATS:
            if fmt.strict and scores[fmt] < STRICT_SHARE * sampled:
                scores[fmt] = 0
        best = max(FORMATS, key=lambda f: scores[f])
        self.format = best if scores[best] else None
        if self.format is not None:
            self._order = (self.format, *(f for f in _LOOSE if f is not self.format))
        return self.format

    def match(self, line: str) -> re.Match[str] | None:
        """Return the regex match of the timestamp in `line`, or None (no datetime built)."""
        first = self._order[0]
        if self.format is not None:
            m = first.regex.search(line, 0, SEARCH_WINDOW)
            if m:
                return m
            for fmt in self._order[1:]:
                m = fmt.regex.match(line, 0, SEARCH_WINDOW)
                if m and self._convert(m) is not None:
                    return m
            return None
        for fmt in _LOOSE:
            m = fmt.regex.search(line, 0, SEARCH_WINDOW)
            if m and self._convert(m) is not None:
                return m
        return None

    def parse_line(self, line: str) -> tuple[datetime | None, int]:
        """Return (timestamp, span_end); span_end is where the timestamp ends, 0 if none."""
        m = self.match(line)
        if m is None:
            return None, 0
        ts = self._convert(m)
        return (ts, m.end()) if ts is not None else (None, 0)

    def convert(self, m: re.Match[str]) -> datetime | None:
        """Build the datetime for a match returned by `match`."""
        return self._convert(m)

    def _convert(self, m: re.Match[str]) -> datetime | None:
        key = m.group(0)
        memo = self._memo
        if key in memo:
            return memo[key]
        try:
            ts: datetime | None = _build(m.groupdict(), self.reference_year)
        except (ValueError, OverflowError, OSError):
            ts = None
        if len(memo) > 50_000:  # bounded: millisecond stamps rarely repeat
            memo.clear()
        memo[key] = ts
        return ts
