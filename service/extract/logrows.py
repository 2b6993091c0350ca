"""Writing the packer's per-line log table (`service.logtable`) to files while streaming, in bounded memory.

Per line: template row (int32), level rank (byte), event time (float64 epoch, NaN if none), 1 if an
event starts there (byte); plus a JSON file with the template rows and archive members. Template ids
are only final when a member is mined to the end (the miner merges clusters), so a member's raw ids go
to a scratch file first and are mapped to rows in chunks at the end.
"""

from __future__ import annotations

import json
from array import array
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from service.logs.member import Block, MinedMember
from service.logtable import RANK_OF_LEVEL, TABLE_FILES, TABLE_META, TemplateRow, template_rows

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
        if isinstance(values, bytes):
            self._buf.frombytes(values)
        else:
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
    """One member's per-line columns, appended block by block (`service.logs.member.Block`); template ids
    are raw until `finish` resolves them to table rows."""

    def __init__(self, name: str | None, shift: int, table: TableWriter, scratch: Path):
        self.name, self.shift, self.table = name, shift, table
        self.raw = ArrayFile(scratch, "i")

    def add(self, block: Block) -> None:
        a = self.table.arrays
        self.raw.extend(block.template)
        a["table.lvl"].extend(block.level.translate(RANK_OF_LEVEL))
        a["table.ts"].extend(block.ts)
        a["table.evs"].extend(block.starts)

    def finish(self, mined: MinedMember) -> None:
        """Append the member's template rows, then its template column mapped to those rows."""
        base = len(self.table.rows)
        row_of = {t.id: base + i for i, t in enumerate(mined.templates)}
        self.table.rows.extend(template_rows(mined, self.name, self.shift))
        mapping = {raw: row_of.get(tid, base) for raw, tid in mined.resolve.items()}
        self.raw.close()
        column = self.table.arrays["table.tpl"]
        with self.raw.path.open("rb") as fh:
            while chunk := fh.read(4 * FLUSH):
                ids = array("i")
                ids.frombytes(chunk)
                column.extend(array("i", map(mapping.__getitem__, ids)))
        self.raw.path.unlink()
