"""One-call log analysis: events, time range, level counts and templates of a file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .member import mine_lines
from .templates import Template

__all__ = ["LogSummary", "mine_file"]


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
    mined = mine_lines((line.rstrip("\r\n") for line in lines), reference_year)
    return LogSummary(mined.lines, mined.events, mined.first_ts, mined.last_ts, mined.levels, mined.templates)
