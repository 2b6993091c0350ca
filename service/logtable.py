"""Per-line analysis of a log document for the packer: template, level and time of every line.

Built once per job from the extracted text (each archive member mined on its own, since every file has
its own header shape), in one streaming pass over the lines; memory is a few bytes per line plus the
templates. Lines without a timestamp belong to the event above them and share its template, level and
time (see `service.logs.events`). Pure: no I/O.
"""

from __future__ import annotations

import json
import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.logs.member import RANKS, Block, MinedMember, mine_lines
from service.models import ExtractedText

SAMPLE_LINES = 500
ERROR, WARN, OTHER = 2, 1, 0
_RANK = {"ERROR": ERROR, "FATAL": ERROR, "WARN": WARN}
# The table as stored at extraction (service.extract.logrows): one file per column, rows in JSON.
TABLE_FILES = {"table.tpl": "i", "table.lvl": "B", "table.ts": "d", "table.evs": "B"}
TABLE_META = "table.json"
RANK_OF_LEVEL = RANKS + bytes(256 - len(RANKS))  # bytes.translate table: mined level id -> rank


@dataclass
class TemplateRow:
    """One template of the whole document (archives: of one member)."""

    pattern: str
    file: str | None
    events: int = 0
    lines: int = 0
    first_line: int = 0
    last_line: int = 0
    first_ts: float = math.nan
    last_ts: float = math.nan
    levels: dict[str, int] = field(default_factory=dict)


@dataclass
class LogTable:
    """Per line (0-based index = line number - 1): template row, level rank, epoch time, event start."""

    lines: int
    template: array[int]
    level: bytearray
    ts: array[float]
    starts: bytearray
    rows: list[TemplateRow]
    files: list[dict[str, Any]]
    file_starts: list[int] = field(default_factory=list)


def epoch(ts: datetime | None) -> float:
    """Seconds since the epoch; naive times are taken as UTC (compared as written)."""
    if ts is None:
        return math.nan
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp()


def iter_lines(text: str, start: int, end: int) -> Iterator[str]:
    """The lines of text[start:end] one at a time, without building a list of all of them."""
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        if nl == -1:
            yield text[pos:end]
            return
        yield text[pos:nl]
        pos = nl + 1


def files_of(ex: ExtractedText) -> list[dict[str, Any]]:
    """Archive members, or the whole text as one unnamed file."""
    files: list[dict[str, Any]] = ex.meta.get("files") or []
    if files:
        return files
    return [{"path": None, "char_start": 0, "line_start": 1, "lines": ex.line_count}]


def build_table(ex: ExtractedText) -> LogTable:
    """Mine every member of `ex` and fill the per-line arrays."""
    n = ex.line_count
    table = LogTable(
        n, array("i", bytes(4 * n)), bytearray(n), array("d", [math.nan]) * n, bytearray(n), [], []
    )
    table.files = files_of(ex)
    table.file_starts = [f["line_start"] for f in table.files]
    for index, f in enumerate(table.files):
        end = table.files[index + 1]["char_start"] if index + 1 < len(table.files) else len(ex.text)
        _mine_member(ex.text, f["char_start"], end, f["line_start"] - 1, f["path"], table)
    return table


def _mine_member(text: str, start: int, end: int, shift: int, path: str | None, table: LogTable) -> None:
    at = shift
    raw = array("i")

    def put(block: Block) -> None:
        nonlocal at
        n = len(block.template)
        raw.extend(block.template)
        table.level[at : at + n] = block.level.translate(RANK_OF_LEVEL)
        table.ts[at : at + n] = block.ts
        table.starts[at : at + n] = block.starts
        at += n

    mined = mine_lines(iter_lines(text, start, end), on_block=put)
    base = len(table.rows)
    table.rows.extend(template_rows(mined, path, shift))
    row_of = {t.id: base + i for i, t in enumerate(mined.templates)}
    mapping = {r: row_of.get(tid, base) for r, tid in mined.resolve.items()}
    table.template[shift : shift + len(raw)] = array("i", map(mapping.__getitem__, raw))


def template_rows(mined: MinedMember, path: str | None, shift: int) -> list[TemplateRow]:
    """The table rows of one mined member (line numbers shifted by the member's first line - 1)."""
    rows = []
    for t in mined.templates:
        first_ts, last_ts = mined.times_by_template[t.id]
        rows.append(
            TemplateRow(
                t.pattern,
                path,
                events=t.count,
                lines=mined.lines_by_template[t.id],
                first_line=t.first_line + shift,
                last_line=mined.last_line_by_template[t.id] + shift,
                first_ts=first_ts,
                last_ts=last_ts,
                levels=dict(t.levels),
            )
        )
    return rows


def level_rank(name: str | None) -> int:
    """ERROR/WARN/OTHER rank of a level name."""
    return _RANK.get(name or "", OTHER)


def load_table(files: dict[str, Path]) -> LogTable:
    """A LogTable from the files written at extraction (`files`: TABLE_FILES names + TABLE_META -> path)."""
    meta = json.loads(files[TABLE_META].read_bytes())
    columns: dict[str, Any] = {}
    for name, code in TABLE_FILES.items():
        column = array(code)
        column.frombytes(files[name].read_bytes())
        columns[name] = column
    n = int(meta["lines"])
    members = meta["files"] or [{"path": None, "char_start": 0, "line_start": 1, "lines": n}]
    return LogTable(
        n,
        columns["table.tpl"],
        bytearray(columns["table.lvl"].tobytes()),
        columns["table.ts"],
        bytearray(columns["table.evs"].tobytes()),
        [TemplateRow(**row) for row in meta["rows"]],
        members,
        [f["line_start"] for f in members],
    )


def _fill(table: LogTable, first: int, last: int, row: int, ts: float, rank: int) -> None:
    for line in range(first - 1, min(last, table.lines)):
        table.template[line] = row
        table.level[line] = rank
        table.ts[line] = ts
    if first - 1 < table.lines:
        table.starts[first - 1] = 1


def keep_mask(
    table: LogTable, start: datetime | None, end: datetime | None, levels: list[str] | None
) -> bytearray:
    """1 for every line whose event is in [start, end] and of one of `levels` (None: any); events whole.

    Lines of events without a time are kept only when no time range is asked for.
    """
    lo = epoch(start) if start else -math.inf
    hi = epoch(end) if end else math.inf
    wanted = {lvl.upper() for lvl in levels} if levels else None
    names = {"WARNING": "WARN", "CRITICAL": "FATAL", "ERR": "ERROR"}
    wanted = {names.get(w, w) for w in wanted} if wanted else None
    mask = bytearray(table.lines)
    timed = start is not None or end is not None
    for line in range(table.lines):
        ts = table.ts[line]
        if timed and (math.isnan(ts) or not lo <= ts <= hi):
            continue
        if wanted is not None and not _level_matches(table, line, wanted):
            continue
        mask[line] = 1
    return mask


def _level_matches(table: LogTable, line: int, wanted: set[str]) -> bool:
    rank = table.level[line]
    if rank == ERROR:
        return bool(wanted & {"ERROR", "FATAL"})
    if rank == WARN:
        return "WARN" in wanted
    # INFO/DEBUG/... are not ranked per line: fall back to the template's dominant level.
    levels = table.rows[table.template[line]].levels
    top = max(levels, key=lambda k: levels[k]) if levels else None
    return top in wanted
