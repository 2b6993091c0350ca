"""Writing the packer's per-line log table (`service.logtable`) to files while streaming, in bounded memory.

Per line: template row (int32), level rank (byte), event time (float64 epoch, NaN if none), 1 if an
event starts there (byte); plus a JSON file with the template rows and archive members. Template ids
are only final when a member is mined to the end (the miner merges clusters), so a member's raw ids go
to a scratch file first and are mapped to rows in chunks at the end.
"""

from __future__ import annotations

import json
import math
from array import array
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from service.logs import TemplateMiner
from service.logtable import TABLE_FILES, TABLE_META, TemplateRow, epoch, level_rank

FLUSH = 1 << 16


class ArrayFile:
    """An append-only file of one array type code, written in chunks of FLUSH entries."""

    def __init__(self, path: Path, code: str, initial: list[int] | None = None):
        self.path, self.code = path, code
        self._fh: IO[bytes] = path.open("wb")
        self._buf = array(code, initial or [])

    def add(self, value: float) -> None:
        self._buf.append(value)  # type: ignore[arg-type]
        if len(self._buf) >= FLUSH:
            self.flush()

    def extend(self, values: array[Any] | list[Any] | bytes) -> None:
        self._buf.extend(values)
        if len(self._buf) >= FLUSH:
            self.flush()

    def flush(self) -> None:
        self._fh.write(self._buf.tobytes())
        self._buf = array(self.code)

    def close(self) -> None:
        if not self._fh.closed:
            self.flush()
            self._fh.close()


class TableWriter:
    """The four per-line arrays of a LogTable plus its template rows."""

    def __init__(self, work: Path):
        self.work = work
        self.arrays = {name: ArrayFile(work / name, code) for name, code in TABLE_FILES.items()}
        self.rows: list[TemplateRow] = []

    def close(self) -> None:
        for a in self.arrays.values():
            a.close()

    def write_meta(self, lines: int, files: list[dict[str, Any]] | None) -> None:
        rows = [asdict(r) for r in self.rows]
        body = {"lines": lines, "files": files, "rows": rows}
        (self.work / TABLE_META).write_text(json.dumps(body), encoding="utf-8")


class MemberRows:
    """Per-event bookkeeping of one member: per-line arrays, per-template stats, time range."""

    def __init__(self, name: str | None, shift: int, table: TableWriter, scratch: Path):
        self.name, self.shift, self.table = name, shift, table
        self.raw = ArrayFile(scratch, "i")
        self.stats: dict[int, list[float]] = {}  # raw id -> [events, lines, first, last, first_ts, last_ts]
        self.events = self.last_line = 0
        self.first: datetime | None = None
        self.last: datetime | None = None
        self._stamp: datetime | None = None  # the last event time seen, and its epoch
        self._ts = math.nan
        a = table.arrays
        self._lvl, self._times, self._starts = a["table.lvl"], a["table.ts"], a["table.evs"]

    def add(self, first: int, last: int, tid: int, stamp: datetime | None, level: str | None) -> None:
        """One event covering member lines first..last (1-based), mined as raw template `tid`."""
        n = last - first + 1
        if stamp is None:
            ts = math.nan
        elif stamp is self._stamp:
            ts = self._ts
        else:
            ts = self._ts = epoch(stamp)
            self._stamp = stamp
            self.first = self.first or stamp
            self.last = stamp
        self.raw.add(tid) if n == 1 else self.raw.extend(array("i", [tid]) * n)
        self._columns(n, ts, level)
        self.events += 1
        self.last_line = last
        s = self.stats.get(tid)
        if s is None:
            self.stats[tid] = [1, n, first, last, ts, ts]
            return
        s[0] += 1
        s[1] += n
        s[3] = last
        if ts == ts:  # not NaN
            s[4] = ts if s[4] != s[4] else s[4]
            s[5] = ts

    def _columns(self, n: int, ts: float, level: str | None) -> None:
        lvl, times, starts = self._lvl, self._times, self._starts
        rank = level_rank(level) if level else 0
        if n == 1:
            lvl.add(rank)
            times.add(ts)
            starts.add(1)
            return
        lvl.extend(bytes([rank]) * n)
        times.extend(array("d", [ts]) * n)
        starts.extend(b"\x01" + bytes(n - 1))

    @property
    def first_iso(self) -> str | None:
        return self.first.isoformat() if self.first else None

    @property
    def last_iso(self) -> str | None:
        return self.last.isoformat() if self.last else None

    def finish(self, miner: TemplateMiner) -> None:
        """Resolve raw ids to rows, append the rows and the member's template column to the table."""
        base = len(self.table.rows)
        index: dict[int, int] = {}
        for t in miner.templates():
            index[t.id] = len(self.table.rows)
            self.table.rows.append(TemplateRow(t.pattern, self.name, levels=dict(t.levels)))
        mapping = {raw: index.get(miner.resolve(raw), base) for raw in self.stats}
        for raw, (events, lines, first, last, first_ts, last_ts) in self.stats.items():
            row = self.table.rows[mapping[raw]]
            _merge(row, int(events), int(lines), int(first) + self.shift, int(last) + self.shift)
            if not math.isnan(first_ts):
                row.first_ts = first_ts if math.isnan(row.first_ts) else min(row.first_ts, first_ts)
                row.last_ts = last_ts if math.isnan(row.last_ts) else max(row.last_ts, last_ts)
        self.raw.close()
        column = self.table.arrays["table.tpl"]
        with self.raw.path.open("rb") as fh:
            while chunk := fh.read(4 * FLUSH):
                ids = array("i")
                ids.frombytes(chunk)
                column.extend(array("i", [mapping.get(t, base) for t in ids]))
        self.raw.path.unlink()


def _merge(row: TemplateRow, events: int, lines: int, first: int, last: int) -> None:
    row.events += events
    row.lines += lines
    row.first_line = min(row.first_line, first) if row.first_line else first
    row.last_line = max(row.last_line, last)
