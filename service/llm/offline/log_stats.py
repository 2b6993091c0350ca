"""Statistics of one log from the packer's per-line table (service.logtable.LogTable): time range, level
counts, top templates, the first occurrence of each error template, error bursts, and the warnings
before the first error.

The table is the one the packer's compressed view is built from, so the numbers here are the view's
numbers: levels are service.logs' normalised names (CRITICAL counts as FATAL), counts are events (a line
with a timestamp and the continuation lines under it), times are the table's epoch seconds (naive
times read as UTC, as written). The scope is the lines the job's filter kept (`doc.keep`), or all of
them. An event is quotable (`shown`) only when the model saw its line: inside the filter and, when the
packer showed a compressed view, among the view's verbatim lines.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from service.logbursts import both, find_bursts, masks
from service.logtable import ERROR, OTHER, WARN, LogTable, TemplateRow, level_rank
from service.logview import MAX_BURSTS_LISTED
from service.models import CorpusDocument

from .log_lines import LogLines, log_table
from .runctl import Guard

WARN_WINDOW_S = 300.0  # warnings this long before the first error are reported with it
TOP_TEMPLATES = 8
MAX_ERROR_TEMPLATES = 50
BURST_MIN_ERRORS = 3
BURSTS = 3
_NONZERO = bytes([0] + [1] * 255)  # bytes.translate: any non-zero byte -> 1
_IS_ERROR = bytes(1 if b == ERROR else 0 for b in range(256))
_NO_LEVEL = ""  # a row's events of this rank carry no level
_DETECT = None  # ambiguous: read the level on the line


@dataclass(frozen=True)
class LogEvent:
    """One event (log record) named by its first line: whole-text line number, epoch time (nan: none),
    its template, whether the model saw the line, and the timestamp as written (shown events only)."""

    line: int
    ts: float
    template: str
    shown: bool
    time_text: str | None = None

    @property
    def iso(self) -> str | None:
        return iso(self.ts)


@dataclass
class TemplateCount:
    """A template's events in scope (error templates: its error events), first and last occurrence."""

    template: str
    file: str | None
    events: int
    lines: int
    first: LogEvent
    last_line: int
    levels: dict[str, int] = field(default_factory=dict)


@dataclass
class Burst:
    """Consecutive minutes with errors well above the median minute. `example` is the first error of the
    burst the model saw, when `first` itself was not shown."""

    start: datetime
    end: datetime
    errors: int
    first: LogEvent
    example: LogEvent | None = None


@dataclass
class ViewBurst:
    """An error burst as the compressed view's BURSTS section lists it (service.logbursts: a run of lines
    with far more errors than usual in their file): its first and last error line and its error lines."""

    first: LogEvent
    last: LogEvent
    errors: int


@dataclass
class LogStats:
    line_count: int = 0
    total_lines: int = 0
    events: int = 0
    levels: dict[str, int] = field(default_factory=dict)
    error_count: int = 0
    first_time: LogEvent | None = None
    last_time: LogEvent | None = None
    first_error: LogEvent | None = None
    error_templates: list[TemplateCount] = field(default_factory=list)
    templates: list[TemplateCount] = field(default_factory=list)
    overall_templates: list[TemplateCount] | None = None  # the whole log's, when a filter applies
    bursts: list[Burst] = field(default_factory=list)
    median_errors_per_minute: float = 0.0
    warnings_before: list[LogEvent] = field(default_factory=list)
    view_bursts: list[ViewBurst] | None = None  # the view's bursts, when the packer used a compressed view
    filtered: bool = False
    filter: dict[str, Any] | None = None  # the job's options.time_range/levels, when they filtered
    view_lines: int | None = None  # verbatim lines of the packer's compressed view (None: no view)


def iso(ts: float) -> str | None:
    """The table's time as the view's template table writes it."""
    return None if math.isnan(ts) else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _row_level_names(row: TemplateRow) -> tuple[str | None, str | None, str | None]:
    """The level name of this row's events of rank OTHER, WARN, ERROR: a name, _NO_LEVEL, or _DETECT when
    the row mixes levels of that rank (then the line itself is read)."""
    names: list[str | None] = []
    complete = sum(row.levels.values()) == row.events
    for rank in (OTHER, WARN, ERROR):
        fits = [name for name in row.levels if level_rank(name) == rank]
        if rank == WARN:
            names.append("WARN")
        elif rank == ERROR:
            names.append(fits[0] if len(fits) == 1 else ("ERROR" if not fits else _DETECT))
        elif not fits:
            names.append(_NO_LEVEL)
        else:
            names.append(fits[0] if len(fits) == 1 and complete else _DETECT)
    return names[0], names[1], names[2]


@dataclass
class _Rows:
    """Per template row, over the scope: lines, events, first and last event line (0-based), level counts,
    and the same for its error events."""

    lines: Counter[int]
    events: Counter[int]
    first: dict[int, int]
    last: dict[int, int]
    levels: dict[int, dict[str, int]] = field(default_factory=dict)
    errors: Counter[int] = field(default_factory=Counter)
    first_error: dict[int, int] = field(default_factory=dict)
    last_error: dict[int, int] = field(default_factory=dict)


@dataclass
class _Scan:
    """What the scope's columns add up to."""

    rows: _Rows
    lines: int
    events: int
    levels: dict[str, int] = field(default_factory=dict)
    first_ts: int | None = None  # 0-based line of the earliest event (the first of equals)
    last_ts: int | None = None  # ... of the latest event (the last of equals)
    first_error: tuple[float, int] | None = None  # (time or inf, line): the earliest error event
    active_minutes: set[int] = field(default_factory=set)
    minute_errors: dict[int, int] = field(default_factory=dict)
    minute_first: dict[int, int] = field(default_factory=dict)
    minute_first_shown: dict[int, int] = field(default_factory=dict)


def _scan(table: LogTable, lines: LogLines, guard: Guard) -> _Scan:
    """Add up the table's columns over the scope; the per-line work is done by C-level column operations
    (byte masks, compress, Counter), only error events are visited one by one."""
    n = table.lines
    scope = bytes(lines.keep[:n]).translate(_NONZERO) if lines.keep is not None else b"\x01" * n
    starts = both(bytes(table.starts).translate(_NONZERO), scope)
    idx = list(itertools.compress(range(n), starts))
    tpl = list(itertools.compress(table.template, starts))
    guard.check()
    rows = _Rows(
        Counter(itertools.compress(table.template, scope)),
        Counter(tpl),
        dict(zip(reversed(tpl), reversed(idx), strict=True)),
        dict(zip(tpl, idx, strict=True)),
    )
    scan = _Scan(rows, scope.count(1), len(idx))
    _count_levels(table, lines, scan, idx, tpl, list(itertools.compress(table.level, starts)))
    guard.check()
    _times(scan, idx, list(itertools.compress(table.ts, starts)))
    guard.check()
    for i in itertools.compress(range(n), both(bytes(table.level).translate(_IS_ERROR), starts)):
        guard.tick()
        _error(scan, lines, i, table.template[i], table.ts[i])
    return scan


def _count_levels(
    table: LogTable, lines: LogLines, scan: _Scan, idx: list[int], tpl: list[int], ranks: list[int]
) -> None:
    """Level counts of the scope's events: by the row's level names where they decide, else read on the
    line (rows that mix levels of one rank)."""
    names = [_row_level_names(row) for row in table.rows]
    mixed: set[tuple[int, int]] = set()
    for (r, rank), count in Counter(zip(tpl, ranks, strict=True)).items():
        name = names[r][rank]
        if name is _DETECT:
            mixed.add((r, rank))
        elif name:
            _add_level(scan, r, name, count)
    if not mixed:
        return
    for i, r, rank in zip(idx, tpl, ranks, strict=True):
        if (r, rank) in mixed and (name := _read_level(lines, i, table.ts[i], rank)):
            _add_level(scan, r, name, 1)


def _add_level(scan: _Scan, row: int, name: str, count: int) -> None:
    scan.levels[name] = scan.levels.get(name, 0) + count
    per_row = scan.rows.levels.setdefault(row, {})
    per_row[name] = per_row.get(name, 0) + count


def _read_level(lines: LogLines, i: int, ts: float, rank: int) -> str:
    """The level on line i+1 when its row mixes levels; the line's rank decides when it names none."""
    name = lines.level(i + 1, ts)
    if name is not None and level_rank(name) == rank:
        return name
    return "ERROR" if rank == ERROR else _NO_LEVEL


def _times(scan: _Scan, idx: list[int], times: list[float]) -> None:
    """Earliest and latest event, and the minutes with events."""
    timed = [t for t in times if not math.isnan(t)]
    if not timed:
        return
    lo, hi = min(timed), max(timed)
    scan.first_ts = idx[times.index(lo)]
    scan.last_ts = idx[len(times) - 1 - times[::-1].index(hi)]
    scan.active_minutes = {int(t // 60) for t in timed}


def _error(scan: _Scan, lines: LogLines, i: int, r: int, ts: float) -> None:
    rows = scan.rows
    rows.errors[r] += 1
    rows.last_error[r] = i
    rows.first_error.setdefault(r, i)
    key = (math.inf if math.isnan(ts) else ts, i)
    if scan.first_error is None or key < scan.first_error:
        scan.first_error = key
    if math.isnan(ts):
        return
    minute = int(ts // 60)
    scan.minute_errors[minute] = scan.minute_errors.get(minute, 0) + 1
    scan.minute_first.setdefault(minute, i)
    if minute not in scan.minute_first_shown and lines.shown(i + 1):
        scan.minute_first_shown[minute] = i


def _event(table: LogTable, lines: LogLines, i: int) -> LogEvent:
    """The event starting on 0-based line i; its timestamp as written only when the model saw it."""
    line, ts = i + 1, table.ts[i]
    shown = lines.shown(line)
    written = lines.written_time(line, ts) if shown else None
    return LogEvent(line, ts, table.rows[table.template[i]].pattern, shown, written)


def _bursts(table: LogTable, lines: LogLines, scan: _Scan, stats: LogStats) -> None:
    """Minutes whose error count is well above the median active minute; adjacent minutes are merged and
    the three largest kept, in time order."""
    if not scan.minute_errors:
        return
    median = float(statistics.median(scan.minute_errors.get(m, 0) for m in scan.active_minutes))
    stats.median_errors_per_minute = median
    threshold = max(float(BURST_MIN_ERRORS), 3.0 * median)
    hot = sorted(m for m, n in scan.minute_errors.items() if n >= threshold and n > median)
    runs: list[list[int]] = []
    for minute in hot:
        if runs and minute - runs[-1][-1] <= 1:
            runs[-1].append(minute)
        else:
            runs.append([minute])
    runs.sort(key=lambda run: (-sum(scan.minute_errors[m] for m in run), run[0]))
    for run in sorted(runs[:BURSTS], key=lambda run: run[0]):
        first = _event(table, lines, scan.minute_first[run[0]])
        shown = [scan.minute_first_shown[m] for m in run if m in scan.minute_first_shown]
        example = _event(table, lines, shown[0]) if shown and not first.shown else None
        stats.bursts.append(
            Burst(
                datetime.fromtimestamp(run[0] * 60, UTC),
                datetime.fromtimestamp(run[-1] * 60, UTC),
                sum(scan.minute_errors[m] for m in run),
                first,
                example,
            )
        )


def _warnings_before(table: LogTable, lines: LogLines, first_error: tuple[float, int]) -> list[LogEvent]:
    """WARN events in scope in the minutes before the first error (the last few before it when untimed)."""
    error_ts, error_line = first_error
    found: list[int] = []
    pos = table.level.find(WARN)
    while pos != -1:
        if table.starts[pos] and lines.in_scope(pos + 1):
            ts = table.ts[pos]
            if math.isinf(error_ts):
                before = pos < error_line
            else:
                before = not math.isnan(ts) and error_ts - WARN_WINDOW_S <= ts < error_ts
            if before:
                found.append(pos)
        pos = table.level.find(WARN, pos + 1)
    found.sort(key=lambda i: (table.ts[i] if not math.isnan(table.ts[i]) else math.inf, i))
    return [_event(table, lines, i) for i in found[-5:]]


def _template_count(
    table: LogTable,
    lines: LogLines,
    r: int,
    events: int,
    line_count: int,
    first: int,
    last_line: int,
    levels: dict[str, int] | None = None,
) -> TemplateCount:
    """Template row `r` with its counts; `first` is the 0-based line of its first event."""
    row = table.rows[r]
    return TemplateCount(
        row.pattern,
        row.file,
        events,
        line_count,
        _event(table, lines, first),
        last_line,
        dict(sorted((levels or {}).items())),
    )


def _scope_templates(table: LogTable, lines: LogLines, rows: _Rows) -> list[TemplateCount]:
    used = sorted(rows.events, key=lambda r: (-rows.events[r], rows.first[r]))
    return [
        _template_count(
            table,
            lines,
            r,
            rows.events[r],
            rows.lines[r],
            rows.first[r],
            rows.last[r] + 1,
            rows.levels.get(r, {}),
        )
        for r in used[:TOP_TEMPLATES]
    ]


def _overall_templates(table: LogTable, lines: LogLines) -> list[TemplateCount]:
    """The whole log's most frequent templates, straight from the template table."""
    order = sorted(range(len(table.rows)), key=lambda r: (-table.rows[r].events, table.rows[r].first_line))
    return [
        _template_count(
            table,
            lines,
            r,
            table.rows[r].events,
            table.rows[r].lines,
            table.rows[r].first_line - 1,
            table.rows[r].last_line,
            table.rows[r].levels,
        )
        for r in order[:TOP_TEMPLATES]
    ]


def _error_templates(table: LogTable, lines: LogLines, rows: _Rows) -> list[TemplateCount]:
    failing = sorted(rows.errors, key=lambda r: (-rows.errors[r], rows.first_error[r]))
    return [
        _template_count(
            table, lines, r, rows.errors[r], rows.lines[r], rows.first_error[r], rows.last_error[r] + 1
        )
        for r in failing[:MAX_ERROR_TEMPLATES]
    ]


def _view_bursts(table: LogTable, lines: LogLines) -> list[ViewBurst]:
    """The bursts the compressed view lists, found over the same lines the same way."""
    eligible = lines.keep if lines.keep is not None else bytearray(b"\x01") * table.lines
    found = find_bursts(table, masks(table, eligible))
    listed = sorted(sorted(found, key=lambda b: -b.errors)[:MAX_BURSTS_LISTED], key=lambda b: b.first)
    return [ViewBurst(_event(table, lines, b.first), _event(table, lines, b.last), b.errors) for b in listed]


def analyse_log(doc: CorpusDocument, guard: Guard) -> LogStats:
    """The log's statistics over the lines the job's filter kept (all lines when there is none)."""
    table = log_table(doc)
    lines = LogLines(doc)
    scan = _scan(table, lines, guard)
    stats = LogStats(
        line_count=scan.lines,
        total_lines=table.lines,
        events=scan.events,
        levels=dict(sorted(scan.levels.items())),
        error_count=sum(scan.rows.errors.values()),
        filtered=doc.keep is not None,
        view_lines=len(doc.view_lines) if doc.view_lines is not None else None,
    )
    if scan.first_ts is not None and scan.last_ts is not None:
        stats.first_time = _event(table, lines, scan.first_ts)
        stats.last_time = _event(table, lines, scan.last_ts)
    stats.templates = _scope_templates(table, lines, scan.rows)
    if stats.filtered:
        stats.overall_templates = _overall_templates(table, lines)
    stats.error_templates = _error_templates(table, lines, scan.rows)
    if scan.first_error is not None:
        stats.first_error = _event(table, lines, scan.first_error[1])
        stats.warnings_before = _warnings_before(table, lines, scan.first_error)
    _bursts(table, lines, scan, stats)
    if doc.view_lines is not None:
        stats.view_bursts = _view_bursts(table, lines)
    return stats
