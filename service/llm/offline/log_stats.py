"""Statistics of one log: time range, level counts, error templates, first error, error bursts.

Timestamps are read in three common shapes (ISO 8601, syslog, bracketed access-log); zone offsets are
kept as written and ignored for ordering, so times are the log's own wall clock. Lines without a
timestamp (stack traces) inherit the previous line's time.
"""

from __future__ import annotations

import re
import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from service.models import CorpusDocument

from .runctl import Guard
from .segment import trim

ERROR_LEVELS = ("FATAL", "CRITICAL", "ERROR")
WARN_WINDOW = timedelta(minutes=5)
_MONTH_TEXT = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"
_MONTHS = _MONTH_TEXT.split()
_MONTH_NO = {name: i + 1 for i, name in enumerate(_MONTHS)}
_MON = "|".join(_MONTHS)
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?"
)
_SYSLOG = re.compile(rf"\b({_MON})\s{{1,2}}(\d{{1,2}}) (\d{{2}}):(\d{{2}}):(\d{{2}})\b")
_CLF = re.compile(rf"\[(\d{{2}})/({_MON})/(\d{{4}}):(\d{{2}}):(\d{{2}}):(\d{{2}})(?: [+-]\d{{4}})?\]")
_LEVEL = re.compile(r"\b(FATAL|CRITICAL|CRIT|ERROR|ERR|SEVERE|WARNING|WARN|NOTICE|INFO|DEBUG|TRACE)\b")
_LEVEL_KV = re.compile(r"(?i)\blevel[\"']?\s*[=:]\s*[\"']?([a-z]+)")
_LEVEL_BRACKET = re.compile(r"(?i)[\[<](fatal|critical|error|warn|warning|info|debug|trace)[\]>]")
_LEVEL_NAMES = {"CRIT": "CRITICAL", "ERR": "ERROR", "SEVERE": "ERROR", "WARNING": "WARN", "NOTICE": "INFO"}
_KNOWN_LEVELS = frozenset({"FATAL", "CRITICAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"})
_MASKS = (
    re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"),
    re.compile(r"\b0x[0-9a-fA-F]+\b"),
    re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"),
    re.compile(r"\d+(?:\.\d+)*"),
)
_MASK_RUNS = re.compile(r"<\*>(?:[\W_]{0,2}<\*>)+")
_LEAD = re.compile(r"^[\s:\]\-|>)]+")


@dataclass(frozen=True)
class LogEvent:
    """One cited log line: 1-based number, trimmed span, timestamp as written (if any)."""

    line: int
    start: int
    end: int
    time_text: str | None = None
    time: datetime | None = None


@dataclass
class ErrorTemplate:
    template: str
    count: int
    first: LogEvent
    last_line: int


@dataclass
class Burst:
    start: datetime
    end: datetime
    errors: int
    first: LogEvent


@dataclass
class LogStats:
    line_count: int = 0
    levels: dict[str, int] = field(default_factory=dict)
    first_time: LogEvent | None = None
    last_time: LogEvent | None = None
    first_error: LogEvent | None = None
    templates: list[ErrorTemplate] = field(default_factory=list)
    bursts: list[Burst] = field(default_factory=list)
    median_errors_per_minute: float = 0.0
    warnings_before: list[LogEvent] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return sum(self.levels.get(level, 0) for level in ERROR_LEVELS)


def _stamp(year: str, month: int, day: str, hms: tuple[str | Any, ...]) -> datetime:
    hour, minute, second = (int(part) for part in hms)
    return datetime(int(year), month, int(day), hour, minute, second)


def parse_time(line: str) -> tuple[datetime, str] | None:
    """The first timestamp near the start of `line`, as (datetime, text as written)."""
    head = line[:120]
    try:
        if m := _ISO.search(head):
            return _stamp(m.group(1), int(m.group(2)), m.group(3), m.groups()[3:6]), m.group(0)
        if m := _CLF.search(head):
            day, mon, year, hms = m.group(1), m.group(2), m.group(3), m.groups()[3:6]
            return _stamp(year, _MONTH_NO[mon], day, hms), m.group(0)[1:-1]
        if m := _SYSLOG.search(head):
            mon, day, hms = m.group(1), m.group(2), m.groups()[2:5]
            # No year in syslog: 2000 is a leap year, so Feb 29 parses too.
            return _stamp("2000", _MONTH_NO[mon], day, hms), m.group(0)
    except ValueError:
        return None
    return None


def parse_level(line: str) -> tuple[str, int] | None:
    """(normalised level, offset just after it) or None."""
    head = line[:200]
    match = _LEVEL.search(head) or _LEVEL_KV.search(head) or _LEVEL_BRACKET.search(head)
    if match is None:
        return None
    raw = match.group(1).upper()
    level = _LEVEL_NAMES.get(raw, raw)
    return (level, match.end()) if level in _KNOWN_LEVELS else None


def template_of(message: str) -> str:
    """Mask the variable parts (uuids, ips, hex, numbers) so similar messages group together."""
    for mask in _MASKS:
        message = mask.sub("<*>", message)
    message = _MASK_RUNS.sub("<*>", message)
    return " ".join(message.split())[:200]


def looks_like_log(doc: CorpusDocument, sample: int = 100) -> bool:
    """True when most of the first non-blank lines start with a timestamp."""
    lines = [line for line in doc.extracted.text[:20000].splitlines() if line.strip()][:sample]
    return len(lines) >= 5 and sum(1 for line in lines if parse_time(line)) >= 0.6 * len(lines)


@dataclass
class _Scan:
    """Mutable state while walking the lines once."""

    stats: LogStats = field(default_factory=LogStats)
    now: tuple[datetime, str] | None = None
    templates: dict[str, ErrorTemplate] = field(default_factory=dict)
    minute_errors: dict[datetime, int] = field(default_factory=dict)
    minute_first: dict[datetime, LogEvent] = field(default_factory=dict)
    recent_warnings: deque[LogEvent] = field(default_factory=lambda: deque(maxlen=50))


def _record_error(scan: _Scan, event: LogEvent, message: str) -> None:
    if scan.stats.first_error is None:
        scan.stats.first_error = event
        scan.stats.warnings_before = _warnings_before(list(scan.recent_warnings), event)
    key = template_of(message)
    known = scan.templates.get(key)
    if known is None:
        scan.templates[key] = ErrorTemplate(key, 1, event, event.line)
    else:
        known.count += 1
        known.last_line = event.line
    if event.time is not None:
        minute = event.time.replace(second=0, microsecond=0)
        scan.minute_errors[minute] = scan.minute_errors.get(minute, 0) + 1
        scan.minute_first.setdefault(minute, event)


def _warnings_before(warnings: list[LogEvent], error: LogEvent) -> list[LogEvent]:
    """WARN lines in the minutes before the first error (or just the last few when untimed)."""
    if error.time is not None:
        warnings = [w for w in warnings if w.time is not None and error.time - WARN_WINDOW <= w.time]
    return warnings[-5:]


def _scan_line(scan: _Scan, number: int, start: int, end: int, text: str) -> None:
    line = text[start:end]
    stamp = parse_time(line)
    if stamp is not None:
        scan.now = stamp
    time, time_text = scan.now if scan.now else (None, None)
    event = LogEvent(number, start, end, time_text, time)
    stats = scan.stats
    if stamp is not None:
        stats.first_time = stats.first_time or event
        stats.last_time = event
    level = parse_level(line)
    if level is None:
        return
    name, after = level
    stats.levels[name] = stats.levels.get(name, 0) + 1
    if name in ERROR_LEVELS:
        message = _LEAD.sub("", line[after:]) or line
        _record_error(scan, event, message)
    elif name == "WARN" and stats.first_error is None:
        scan.recent_warnings.append(event)


def _bursts(scan: _Scan, active_minutes: set[datetime]) -> None:
    """Minutes whose error count is well above the median minute; adjacent minutes are merged."""
    if not scan.minute_errors:
        return
    counts = [scan.minute_errors.get(minute, 0) for minute in active_minutes]
    median = statistics.median(counts) if counts else 0.0
    scan.stats.median_errors_per_minute = float(median)
    threshold = max(3.0, 3.0 * median)
    hot = sorted(m for m, n in scan.minute_errors.items() if n >= threshold and n > median)
    windows: list[Burst] = []
    for minute in hot:
        if windows and minute - windows[-1].end <= timedelta(minutes=1):
            windows[-1].end = minute
            windows[-1].errors += scan.minute_errors[minute]
        else:
            windows.append(Burst(minute, minute, scan.minute_errors[minute], scan.minute_first[minute]))
    windows.sort(key=lambda burst: (-burst.errors, burst.start))
    scan.stats.bursts = sorted(windows[:3], key=lambda burst: burst.start)


def analyse_log(doc: CorpusDocument, guard: Guard) -> LogStats:
    """Walk the log once and collect its statistics, over the lines a job filter (time range, levels)
    kept when there is one."""
    ext = doc.extracted
    text, starts = ext.text, ext.line_starts
    keep = doc.keep
    scan = _Scan()
    active: set[datetime] = set()
    for index, line_start in enumerate(starts):
        guard.tick()
        if keep is not None and (index >= len(keep) or not keep[index]):
            continue
        line_end = starts[index + 1] - 1 if index + 1 < len(starts) else len(text)
        start, end = trim(text, line_start, line_end)
        if start >= end:
            continue
        _scan_line(scan, index + 1, start, end, text)
        if scan.now is not None:
            active.add(scan.now[0].replace(second=0, microsecond=0))
    scan.stats.line_count = ext.line_count if keep is None else sum(1 for k in keep[: ext.line_count] if k)
    scan.stats.templates = sorted(scan.templates.values(), key=lambda t: (-t.count, t.first.line))[:5]
    _bursts(scan, active)
    return scan.stats
