"""One-call log analysis: events, time range, level counts and templates of a file."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .events import iter_events
from .header import learn_header
from .templates import Template, TemplateMiner

__all__ = ["LogSummary", "mine_file"]

SAMPLE_LINES = 500


@dataclass(frozen=True)
class LogSummary:
    """What `mine_file` found; `templates` are sorted by count, most frequent first."""

    lines: int
    events: int
    first_ts: datetime | None
    last_ts: datetime | None
    levels: dict[str, int] = field(default_factory=dict)
    templates: list[Template] = field(default_factory=list)

    def to_dict(self, max_templates: int | None = None) -> dict[str, Any]:
        """JSON-ready form; `max_templates` caps the template list."""
        return {
            "lines": self.lines,
            "events": self.events,
            "first_ts": self.first_ts.isoformat() if self.first_ts else None,
            "last_ts": self.last_ts.isoformat() if self.last_ts else None,
            "levels": dict(self.levels),
            "templates": [t.to_dict() for t in self.templates[:max_templates]],
        }


def _read(path: Path) -> Iterable[str]:
    with path.open(encoding="utf-8", errors="replace") as fh:
        yield from fh


def mine_file(source: str | Path | Iterable[str], reference_year: int | None = None) -> LogSummary:
    """Mine a log file (path) or an iterable of lines, streaming; memory grows with templates only.

    Each event (a stamped line plus its continuation lines) is mined by its first line.
    """
    lines = _read(Path(source)) if isinstance(source, str | Path) else iter(source)
    head = [line.rstrip("\r\n") for line in itertools.islice(lines, SAMPLE_LINES)]
    header = learn_header(head, reference_year, SAMPLE_LINES)
    miner = TemplateMiner(head, reference_year=reference_year)
    levels: Counter[str] = Counter()
    first_ts = last_ts = None
    events = 0
    last_line = 0
    for event in iter_events(itertools.chain(head, lines), header.detector):
        events += 1
        last_line = event.last_line
        if event.level:
            levels[event.level] += 1
        if event.timestamp is not None:
            first_ts = first_ts or event.timestamp
            last_ts = event.timestamp
        miner.add(event.first_line, event.first_text, event.timestamp, event.level)
    return LogSummary(last_line, events, first_ts, last_ts, dict(levels), miner.templates())
