"""Streaming ingest of a log or log archive into store files, in the isolated child: memory flat in size.

Pass 1 decodes every member straight into its own UTF-8 file (`MemberSink`; a single log is one
member). Pass 2 reads the members back line by line, in path order, and appends to the final files of
the work directory, which the parent only renames into the store (`BlobStore.adopt_log`):

  text.txt          the concatenated text                      text.lines  array('q') line-start offsets
  table.*           the packer's per-line table (`service.logtable.save_table`): no re-mining per job
  units.json        token counts of the packer's 500-line units (`service.pack`), and their method
  logsummary.json   the per-file template summary (as `service.extract.logsummary.summarize_log`)

Nothing holds more than one 500-line unit of text, a 64K-entry write buffer and the templates.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import add
from pathlib import Path
from typing import IO, Any

from service.blobs import storage_full_as
from service.config import LimitSettings
from service.logs.shapekey import line_count, line_table
from service.prompt_text import LINES_PER_UNIT, defuse, file_block, might_need_defusing, numbered_lines
from service.tokens import EstimatingCounter

from . import logmine
from .archive import container_of, walk_archive
from .logmine import MiningPass, read_batches, read_chunks
from .logrows import ArrayFile, MemberColumns, TableWriter
from .logsummary import MAX_TEMPLATES, VERSION
from .text import decode_file

SAMPLE_LINES = 500
UNIT_LINES = LINES_PER_UNIT
TEXT, LINES, UNITS, SUMMARY = "text.txt", "text.lines", "units.json", "logsummary.json"
Count = Callable[[str], int]


class MemberSink:
    """One member's decoded text in a file of its own (`reset` truncates: the decoder restarts)."""

    def __init__(self, path: Path):
        self.path = path
        self.used = False
        self._fh: IO[bytes] | None = None

    def reset(self) -> None:
        self.close()
        self.used = True
        self._fh = self.path.open("wb")

    def write(self, piece: str) -> None:
        assert self._fh is not None
        self._fh.write(piece.encode("utf-8"))

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


@dataclass
class _Store:
    """The final append-only files and running totals."""

    work: Path
    counter: EstimatingCounter
    text: IO[bytes]
    lines: ArrayFile
    table: TableWriter
    units: list[int] = field(default_factory=list)
    chars: int = 0
    line_count: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)


def ingest_log(path: Path, limits: LimitSettings, work: Path) -> dict[str, Any]:
    """Decode, index, mine and count `path` (a log or an archive of logs) into files under `work`.

    Returns the small result the parent needs: kind, meta, lines, chars, tokens and their method.
    A full disk is reported as `storage_full`, not as a crash.
    """
    with storage_full_as("storage is full while ingesting the log"):
        return _ingest(path, limits, work)


def _ingest(path: Path, limits: LimitSettings, work: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        container = container_of(path, fh.read(8192))
    sinks: list[MemberSink] = []
    early: dict[Path, MiningPass] = {}  # members mined while later ones are still being decoded

    def new_sink(_member: str) -> MemberSink:
        if sinks and sinks[-1].used:  # the member before is decoded: it can be mined meanwhile
            _mine_early(sinks[-1], early, work)
        sinks.append(MemberSink(work / f"member{len(sinks)}.txt"))
        return sinks[-1]

    if container is None:
        sink = new_sink("")
        _, meta = decode_file(path, limits, sink)
        sink.close()
        members: list[tuple[str | None, Path, dict[str, Any]]] = [(None, sink.path, {})]
    else:
        texts, skipped, label = walk_archive(path, container, limits, new_sink)
        for s in sinks:
            s.close()
        used = [s for s in sinks if s.used]
        members = [
            (m.path, s.path, {"bytes": m.bytes, "encoding": m.encoding})
            for m, s in sorted(zip(texts, used, strict=True), key=lambda pair: pair[0].path)
        ]
        encodings = {m.encoding for m in texts}
        meta = {
            "archive": label,
            "encoding": encodings.pop() if len(encodings) == 1 else "mixed",
            "files": [],
            "skipped": skipped,
        }
    store = _open_store(work)

    # A member's mining starts when the member before it is indexed, while that member's own mining may
    # still run: on two cores the indexing and two miners keep both busy.
    def start(k: int) -> MiningPass:
        return early.pop(members[k][1], None) or MiningPass(members[k][1], work / "mining" / str(k))

    passes = [start(0)] if members else []
    try:
        for k, (name, member_path, extra) in enumerate(members):
            char_start, line_start = store.chars, store.line_count + 1
            _index(store, member_path, name if container is not None else None)
            if k + 1 < len(members):
                passes.append(start(k + 1))
            _add_mined(store, passes[k], name, extra, char_start, line_start, archive=container is not None)
            member_path.unlink()
    finally:
        for mining in [*passes, *early.values()]:
            mining.abandon()
        store.text.close()
        store.lines.close()
    store.table.close()
    shutil.rmtree(work / "mining", ignore_errors=True)
    if container is not None:
        meta["files"] = store.files
    return _finish(store, meta)


def _open_store(work: Path) -> _Store:
    counter = EstimatingCounter()
    return _Store(
        work,
        counter,
        (work / TEXT).open("wb"),
        ArrayFile(work / LINES, "q", [0]),
        TableWriter(work),
    )


def _finish(store: _Store, meta: dict[str, Any]) -> dict[str, Any]:
    method = EstimatingCounter.method
    _write_json(store.work / UNITS, {"method": method, "lines_per_unit": UNIT_LINES, "units": store.units})
    _write_json(store.work / SUMMARY, _totals(store))
    store.table.write_meta(store.line_count, store.files or None)
    return {
        "kind": "log",
        "page_starts": [],
        "meta": meta,
        "lines": max(store.line_count, 1),  # as ExtractedText.line_count: empty text is one line
        "chars": store.chars,
        "tokens": sum(store.units),
        "token_method": method,
    }


def _mine_early(sink: MemberSink, early: dict[Path, MiningPass], work: Path) -> None:
    """Start mining a decoded large member in a forked process, unless one such process already runs
    next to the decoding (one core decodes, the other mines)."""
    if any(mining.running() for mining in early.values()):
        return
    sink.close()
    if sink.path.stat().st_size >= logmine.PARALLEL_MIN_BYTES:
        early[sink.path] = MiningPass(sink.path, work / "mining" / f"early{len(early)}")


def _add_mined(
    store: _Store,
    mining: MiningPass,
    name: str | None,
    extra: dict[str, Any],
    char_start: int,
    line_start: int,
    *,
    archive: bool,
) -> None:
    """Append one indexed member's table rows and summary, once its mining is done."""
    mined = mining.result()
    MemberColumns.append_to(store.table, mining.scratch, mined, name, line_start - 1)
    shutil.rmtree(mining.scratch, ignore_errors=True)
    if archive:
        store.files.append(
            {"path": name, "char_start": char_start, "line_start": line_start, "lines": mined.lines, **extra}
        )
    store.summaries.append({"path": name, "line_start": line_start, **mined.to_dict(MAX_TEMPLATES)})


def _index(store: _Store, path: Path, wrap: str | None) -> None:
    """Copy the member's text to the store, index its line starts and count the packer's units."""
    if line_table is None or line_count is None:
        _index_lines(store, path, wrap)
        return
    head, tail = file_block(wrap, "\0").split("\0")
    wrapper = store.counter.numbered_wrapper_units(head, tail)  # None: units priced as text
    unit = _OpenUnit()
    number = 0  # member lines so far
    with path.open("rb") as src:
        for data in read_chunks(src):
            store.text.write(data)
            count = line_count(data)
            starts, ends, prices = (array("q", bytes(8 * count)) for _ in range(3))
            lines, store.chars = line_table(data, store.chars, starts, ends, prices)
            assert lines == count
            store.lines.extend(starts if data.endswith(b"\n") else starts[:-1])
            i = 0
            while i < count:
                take = min(UNIT_LINES - unit.lines, count - i)
                unit.add(data[ends[i - 1] if i else 0 : ends[i + take - 1]], prices[i : i + take])
                i += take
                if unit.lines == UNIT_LINES:
                    store.units.append(unit.tokens(number + 1, wrap, wrapper, store.counter))
                    number += UNIT_LINES
                    unit = _OpenUnit()
    if unit.lines:
        store.units.append(unit.tokens(number + 1, wrap, wrapper, store.counter))
        number += unit.lines
    store.line_count += number


class _OpenUnit:
    """The lines of one packer unit so far, as raw pieces and per-line prices (-1: price as text)."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.lines = 0
        self.units = 0  # the sum of the prices, while all are known
        self.priced = True

    def add(self, piece: bytes, prices: array[int]) -> None:
        self.pieces.append(piece)
        self.lines += len(prices)
        if self.priced and min(prices) >= 0:
            self.units += sum(prices)
        else:
            self.priced = False

    def tokens(self, first: int, wrap: str | None, wrapper: int | None, counter: EstimatingCounter) -> int:
        if self.priced and wrapper is not None:
            return counter.numbered_from_units(wrapper + self.units, first, self.lines)
        text = b"".join(self.pieces).decode("utf-8")
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        return _unit_tokens(lines, first, wrap, counter)


def _index_lines(store: _Store, path: Path, wrap: str | None) -> None:
    """`_index` without the compiled `line_table`: the same files, a str per line."""
    unit: list[str] = []
    number = 0  # member lines so far
    with path.open("rb") as src:
        for data, lines in read_batches(src):
            store.text.write(data)
            if data.endswith(b"\n"):  # every line ends with a newline: each is a line start
                # Line i ends after the lengths of lines 0..i plus i+1 newlines (C-level iterators).
                ends = list(
                    map(add, itertools.accumulate(map(len, lines), initial=store.chars), itertools.count())
                )
                store.lines.extend(ends[1:])
                store.chars = ends[-1]
            else:  # the member's last line, without a newline
                store.chars += len(lines[0])
            i = 0
            while i < len(lines):
                take = UNIT_LINES - len(unit)
                unit.extend(lines[i : i + take])
                i += take
                if len(unit) == UNIT_LINES:
                    store.units.append(_unit_tokens(unit, number + 1, wrap, store.counter))
                    number += UNIT_LINES
                    unit = []
    if unit:
        store.units.append(_unit_tokens(unit, number + 1, wrap, store.counter))
        number += len(unit)
    store.line_count += number


def _unit_tokens(block: list[str], first: int, wrap: str | None, counter: EstimatingCounter) -> int:
    """Tokens of the unit exactly as the packer renders it (`service.prompt_text`)."""
    joined = "\n".join(block)
    if might_need_defusing(joined):
        return counter.count(file_block(wrap, numbered_lines(defuse(joined)[0].split("\n"), first)))
    head, tail = file_block(wrap, "\0").split("\0")
    return counter.count_numbered(block, first, head, tail)


def _totals(store: _Store) -> dict[str, Any]:
    levels: Counter[str] = Counter()
    for f in store.summaries:
        levels.update(f["levels"])
    stamps = [ts for f in store.summaries for ts in (f["first_ts"], f["last_ts"]) if ts]
    return {
        "version": VERSION,
        "lines": max(store.line_count, 1),
        "events": sum(f["events"] for f in store.summaries),
        "first_ts": min(stamps) if stamps else None,
        "last_ts": max(stamps) if stamps else None,
        "levels": dict(levels),
        "files": store.summaries,
    }


def _write_json(path: Path, body: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, default=str), encoding="utf-8")
    os.replace(tmp, path)
