"""One-call log analysis: events, time range, level counts and templates of a file."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .member import MinedMember, mine_lines

__all__ = ["LogSummary", "mine_file"]

# What `mine_file` returns: lines, events, time range, levels, templates by count (`to_dict` for JSON).
LogSummary = MinedMember


def _read(path: Path) -> Iterable[str]:
    with path.open(encoding="utf-8", errors="replace") as fh:
        yield from fh


def mine_file(source: str | Path | Iterable[str], reference_year: int | None = None) -> LogSummary:
    """Mine a log file (path) or an iterable of lines, streaming; memory grows with templates only.

    Each event (a stamped line plus its continuation lines) is mined by its first line.
    """
    lines = _read(Path(source)) if isinstance(source, str | Path) else iter(source)
    return mine_lines((line.rstrip("\r\n") for line in lines), reference_year)
