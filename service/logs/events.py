"""Grouping lines into events: a line without a timestamp belongs to the event above it.

Stack traces, wrapped messages and other continuation lines carry no timestamp of their own;
joining them to the preceding stamped line gives one event per log record.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from .levels import detect_level
from .timestamps import TimestampDetector

__all__ = ["Event", "iter_events"]


@dataclass(frozen=True)
class Event:
    """One log record: 1-based first/last line numbers, timestamp, level and joined text."""

    first_line: int
    last_line: int
    timestamp: datetime | None
    level: str | None
    text: str

    @property
    def first_text(self) -> str:
        """The record's first (stamped) line."""
        return self.text.split("\n", 1)[0]


def iter_events(
    lines: Iterable[str], detector: TimestampDetector | None = None, reference_year: int | None = None
) -> Iterator[Event]:
    """Yield events from `lines` (newlines stripped). Fits `detector` on the first lines if needed.

    Lines before the first timestamp form an event of their own (timestamp None). If the file
    has no timestamps at all, every line is an event.
    """
    it = iter(lines)
    if detector is None or detector.format is None:
        detector = detector or TimestampDetector(reference_year)
        head = list(itertools.islice(it, detector.sample_size))
        detector.fit(head)
        it = itertools.chain(head, it)
    if detector.format is None:
        for n, line in enumerate(it, 1):
            line = line.rstrip("\r\n")
            yield Event(n, n, None, detect_level(line), line)
        return
    yield from _group(it, detector)


def _group(lines: Iterable[str], detector: TimestampDetector) -> Iterator[Event]:
    start: int = 0
    ts: datetime | None = None
    level: str | None = None
    buf: list[str] = []
    n = 0
    for n, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        stamp, end = detector.parse_line(line)
        if stamp is None and buf:
            buf.append(line)
            continue
        if buf:
            yield Event(start, n - 1, ts, level, "\n".join(buf))
        start, ts, buf = n, stamp, [line]
        level = detect_level(line[end:]) if stamp is not None else None
    if buf:
        yield Event(start, n, ts, level, "\n".join(buf))
