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


class MemberColumns:
    """One member's per-line columns in files of their own under `scratch` (the mining pass may run in
    another process); template ids stay raw until `append_to` resolves them to table rows."""

    NAMES = {"tpl": "i", "lvl": "B", "ts": "d", "evs": "B"}

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self.arrays = {name: ArrayFile(scratch / name, code) for name, code in self.NAMES.items()}

    def add(self, block: Block) -> None:
        a = self.arrays
        a["tpl"].extend(block.template)
        a["lvl"].extend(block.level.translate(RANK_OF_LEVEL))
        a["ts"].extend(block.ts)
        a["evs"].extend(block.starts)

    def close(self) -> None:
        for a in self.arrays.values():
            a.close()

    @classmethod
    def append_to(
        cls, table: TableWriter, scratch: Path, mined: MinedMember, name: str | None, shift: int
    ) -> None:
        """Append the member's template rows, its columns, and its template column mapped to the rows."""
        base = len(table.rows)
        row_of = {t.id: base + i for i, t in enumerate(mined.templates)}
        table.rows.extend(template_rows(mined, name, shift))
        mapping = {raw: row_of.get(tid, base) for raw, tid in mined.resolve.items()}
        for column, target in (("lvl", "table.lvl"), ("ts", "table.ts"), ("evs", "table.evs")):
            with (scratch / column).open("rb") as fh:
                while chunk := fh.read(8 * FLUSH):
                    table.arrays[target].extend(chunk)
        with (scratch / "tpl").open("rb") as fh:
            while chunk := fh.read(4 * FLUSH):
                ids = array("i")
                ids.frombytes(chunk)
                table.arrays["table.tpl"].extend(array("i", map(mapping.__getitem__, ids)))
        for column in cls.NAMES:
            (scratch / column).unlink()
