"""Mining one log file block by block: per-line columns plus per-template totals, at a few µs per line.

The per-line work is one dict lookup keyed by the line with every digit turned into '0' (a "shape"):
lines of one shape have the same timestamp position, level, header split and masked template, because
masking only looks at whether a token holds digits (see `masking`). Only a new shape runs the timestamp
regex, header cut and template search (`TemplateMiner.classify`). Per line there is then only the
event time left to compute: the timestamp text without its fraction is memoised (one conversion per
second of log), the fraction is added as an integer.

Events are as in `events.iter_events`: a line without a timestamp continues the event above it (lines
before the first timestamp form one event); a file without timestamps has one event per line. Totals are
kept per raw template id and resolved through the miner's merges in `finish`. Pure: no I/O.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import compress, islice
from operator import eq
from typing import Any

from .clusters import Cluster
from .levels import detect_level
from .shapekey import ZERO_DIGITS, feed_known, line_count, message_key, mine_cache, shape_keys, tally
from .shapekey import feed_bytes as feed_known_bytes
from .templates import Template, TemplateMiner
from .timestamps import FORMATS, TimestampDetector

__all__ = [
    "LEVELS",
    "RANKS",
    "SAMPLE_LINES",
    "Block",
    "MemberMiner",
    "MinedMember",
    "mine_chunks",
    "mine_lines",
]

# Level ids as stored per line during mining (0 = no level); RANKS maps an id to the packer's rank.
LEVELS: tuple[str | None, ...] = (None, "TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "FATAL")
_LEVEL_ID = {name: i for i, name in enumerate(LEVELS)}
RANKS = bytes([0, 0, 0, 0, 0, 1, 2, 2])
SAMPLE_LINES = 500
BLOCK_LINES = 8192
# The shape cache holds at most _SHAPE_LIMIT lines of at most _SHAPE_MAX_CHARS (~100 MB at worst).
_SHAPE_LIMIT = 100_000
_SHAPE_MAX_CHARS = 1024
_STAMP_LIMIT = 100_000
_UNSTAMPED, _FRACTION, _WHOLE, _ALONE, _SECONDS = 0, 1, 2, 3, 4
_FORMAT_TAG = {fmt.regex: chr(0xE000 + i) for i, fmt in enumerate(FORMATS)}


@dataclass
class Block:
    """Per-line columns of one fed block: raw template id, level id, epoch time (NaN: none), event start."""

    template: array[int]
    level: bytes
    ts: array[float]
    starts: bytes


_Columns = tuple["array[int]", bytearray, "array[float]", bytearray]


def _columns(count: int) -> _Columns:
    """Zeroed per-line outputs of a block: template ids, level ids, times, event starts."""
    return array("i", bytes(4 * count)), bytearray(count), array("d", bytes(8 * count)), bytearray(count)


def line_shape_key(line: str) -> str:
    """The shape key of a line (or of lines joined by newlines: the keys of each), as `feed_bytes`
    builds it."""
    return shape_keys(line) if shape_keys is not None else line.translate(ZERO_DIGITS)


@dataclass
class MinedMember:
    """What `MemberMiner.finish` reports. `templates` carry this file's totals, most events first."""

    lines: int
    events: int
    first_ts: datetime | None
    last_ts: datetime | None
    levels: dict[str, int]
    templates: list[Template]
    resolve: dict[int, int] = field(default_factory=dict)  # raw id -> template id (index via `templates`)
    lines_by_template: dict[int, int] = field(default_factory=dict)
    last_line_by_template: dict[int, int] = field(default_factory=dict)  # last line of its last event
    times_by_template: dict[int, tuple[float, float]] = field(default_factory=dict)  # epoch, NaN: none

    def to_dict(self, max_templates: int | None = None) -> dict[str, Any]:
        """JSON-ready form (timestamps as ISO 8601); `max_templates` caps the template list."""
        return {
            "lines": self.lines,
            "events": self.events,
            "first_ts": self.first_ts.isoformat() if self.first_ts else None,
            "last_ts": self.last_ts.isoformat() if self.last_ts else None,
            "levels": dict(self.levels),
            "templates": [t.to_dict() for t in self.templates[:max_templates]],
        }


class _TemplateArrays:
    """Per raw template id totals in arrays, for the compiled `tally` (0: no line; NaN: no time)."""

    def __init__(self) -> None:
        self.size = 0
        # events, lines, first event line, last event line, last line
        self.counts: list[array[int]] = [array("q") for _ in range(5)]
        self.times: list[array[float]] = [array("d"), array("d")]  # first and last event time
        self.levels = array("q")  # events per (template, level id): 8 per template

    def fit(self, size: int) -> None:
        """Make room for template ids below `size` (doubling)."""
        if size <= self.size:
            return
        grow = max(size, 2 * self.size, 64) - self.size
        for counts in self.counts:
            counts.extend(array("q", bytes(8 * grow)))
        for times in self.times:
            times.extend(array("d", [math.nan]) * grow)
        self.levels.extend(array("q", bytes(64 * grow)))
        self.size += grow

    def columns(self) -> list[array[Any]]:
        return [*self.counts, *self.times, self.levels]

    def into(self, miner: MemberMiner) -> None:
        """Write the totals into `miner`'s dicts, as the Python `_tally` keeps them."""
        events, lines, first_line, last_start, last_line = self.counts
        first_ts, last_ts = self.times
        for t in range(self.size):
            if not lines[t]:
                continue
            miner.lines[t] = lines[t]
            miner.last_line[t] = last_line[t]
            if events[t]:
                miner.events[t] = events[t]
                miner.first_line[t] = first_line[t]
                miner.last_start[t] = last_start[t]
                if first_ts[t] == first_ts[t]:
                    miner.first_ts[t], miner.last_ts[t] = first_ts[t], last_ts[t]
                for lvl in range(8):
                    if self.levels[t * 8 + lvl]:
                        miner.levels[(t, lvl)] = self.levels[t * 8 + lvl]


class MemberMiner:
    """Feed a file's lines in blocks (newlines stripped, '\\r' allowed), in order; then `finish`.

    `sample` is the file's first lines (up to 500): the timestamp format and header shape are learned
    from them, so pass them to `feed` as well.
    """

    def __init__(
        self, sample: list[str], reference_year: int | None = None, *, message_cache: bool = True
    ) -> None:
        self.miner = TemplateMiner([line.rstrip("\r") for line in sample], reference_year=reference_year)
        self.detector: TimestampDetector = self.miner.header.detector
        self._timed = self.detector.format is not None
        self._shapes: dict[str, tuple[Any, ...]] = {}
        # Template and level by `message_key` (None: off); see `shapekey`.
        self._messages: dict[str, tuple[Cluster, tuple[int, int]]] | None = {} if message_cache else None
        self._stamps: dict[str, float] = {}
        self._aware: bool | None = None
        self._line = 0  # lines fed so far
        # The open event: raw template id, level id, time; -1 before the first event.
        self._tid, self._lvl, self._ts = -1, 0, math.nan
        self.events: Counter[int] = Counter()
        self.lines: Counter[int] = Counter()
        self.first_line: dict[int, int] = {}
        self.last_start: dict[int, int] = {}
        self.last_line: dict[int, int] = {}
        self.first_ts: dict[int, float] = {}
        self.last_ts: dict[int, float] = {}
        self.levels: Counter[tuple[int, int]] = Counter()
        self.first_time = self.last_time = math.nan
        self._arrays = _TemplateArrays() if tally is not None else None  # compiled tallying
        self._mine_cache: object = None  # the C tables of `feed_bytes`, made on first use

    def feed(self, lines: list[str]) -> Block:
        """Mine the next lines of the file; returns their per-line columns."""
        count = len(lines)
        columns = _columns(count)
        tpl, lvl, tss, evs = columns
        joined = "\n".join(lines)
        keys = line_shape_key(joined).split("\n")  # shape keys never cross a newline
        tid, lv, ts = self._tid, self._lvl, self._ts
        shapes, stamps, first = self._shapes, self._stamps, self._line + 1
        i = 0
        while i < count:
            if (
                feed_known is not None
            ):  # compiled: known shapes and minutes, up to the next line needing Python
                i, tid, lv, ts = feed_known(lines, keys, i, shapes, stamps, tid, lv, ts, *columns)
                if i == count:
                    break
            tid, lv, ts, evs[i] = self._line_columns(lines[i], keys[i], first + i, tid, lv, ts)
            tpl[i], lvl[i], tss[i] = tid, lv, ts
            i += 1
        return self._fed(columns, tid, lv, ts)

    def feed_bytes(self, data: bytes) -> Block:
        """`feed` of the lines of `data` (UTF-8 text cut after a newline, or the file's last line): the
        same columns, without a str per line when the extension is built."""
        if feed_known_bytes is None or line_count is None:
            count = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
            lines = data.decode("utf-8").split("\n")
            return self.feed(lines[:count])
        count = line_count(data)
        columns = _columns(count)
        tpl, lvl, tss, evs = columns
        if self._mine_cache is None and mine_cache is not None:
            self._mine_cache = mine_cache(int.from_bytes(os.urandom(8)))
        tid, lv, ts = self._tid, self._lvl, self._ts
        shapes, stamps, cache, first = self._shapes, self._stamps, self._mine_cache, self._line + 1
        pos = i = 0
        while True:
            pos, i, tid, lv, ts = feed_known_bytes(data, pos, i, shapes, stamps, cache, tid, lv, ts, *columns)
            if i == count:
                break
            end = data.find(b"\n", pos)
            line = data[pos : end if end >= 0 else None].decode("utf-8")
            tid, lv, ts, evs[i] = self._line_columns(line, line_shape_key(line), first + i, tid, lv, ts)
            tpl[i], lvl[i], tss[i] = tid, lv, ts
            pos, i = end + 1 if end >= 0 else len(data), i + 1
        return self._fed(columns, tid, lv, ts)

    def _fed(self, columns: _Columns, tid: int, lv: int, ts: float) -> Block:
        """The block of `columns`, with the open event carried to the next block and totals folded in."""
        tpl, lvl, tss, evs = columns
        first = self._line + 1
        self._line += len(tpl)
        self._tid, self._lvl, self._ts = tid, lv, ts
        block = Block(tpl, bytes(lvl), tss, bytes(evs))
        self._tally(block, first)
        return block

    def _line_columns(
        self, line: str, key: str, n: int, tid: int, lv: int, ts: float
    ) -> tuple[int, int, float, int]:
        """One line's (template, level, time, event start), given the open event's (template, level, time)."""
        shape = self._shapes.get(key)
        if shape is None:
            shape = self._shape(line, key, n)
        kind = shape[0]
        if kind == _FRACTION:
            _, s_tid, s_lvl, a, s0, s1, fs, f6, fx, b, mult, tag = shape
            base = self._stamps.get(tag + line[a:s0] + line[fx:b])
            if base is None:
                base = self._base(line, shape)
            if base is not None and (sec := int(line[s0:s1])) < 60:
                return s_tid, s_lvl, ((base + sec) * 1_000_000 + int(line[fs:f6]) * mult) / 1e6, 1
        elif kind == _SECONDS:
            _, s_tid, s_lvl, a, s0, s1, b, tag = shape
            base = self._stamps.get(tag + line[a:s0] + line[s1:b])
            if base is None:
                base = self._base(line, shape)
            if base is not None and (sec := int(line[s0:s1])) < 60:
                return s_tid, s_lvl, float(base + sec), 1
        elif kind == _WHOLE:
            base = self._stamps.get(line[shape[3] : shape[4]])
            if base is None:
                base = self._base(line, shape)
            if base is not None:
                return shape[1], shape[2], base, 1
        elif kind == _ALONE:
            return shape[1], shape[2], math.nan, 1
        # No (valid) timestamp: continues the open event, or opens the one before the first stamp.
        if tid >= 0:
            return tid, lv, ts, 0
        return self._classify(line.rstrip("\r"), n), 0, math.nan, 1

    def _tally(self, block: Block, first: int) -> None:
        """Fold one block into the per-template totals with C-level passes, not a step per line."""
        if self._arrays is not None and tally is not None:
            self._arrays.fit(max(block.template, default=-1) + 1)
            lo, hi = tally(
                block.template, block.level, block.ts, block.starts, first, *self._arrays.columns()
            )
            if lo == lo:
                if self.first_time != self.first_time:
                    self.first_time = lo
                self.last_time = hi
            return
        tpl, starts = block.template, block.starts
        numbers = range(first, first + len(tpl))
        ev_tids = list(compress(tpl, starts))
        ev_lines = list(compress(numbers, starts))
        ev_ts = list(compress(block.ts, starts))
        self.events.update(ev_tids)
        self.lines.update(tpl)
        self.levels.update(zip(ev_tids, compress(block.level, starts), strict=True))
        for t, line in dict(zip(reversed(ev_tids), reversed(ev_lines), strict=True)).items():
            self.first_line.setdefault(t, line)
        self.last_start.update(zip(ev_tids, ev_lines, strict=True))
        self.last_line.update(zip(tpl, numbers, strict=True))
        timed = list(compress(zip(ev_tids, ev_ts, strict=True), map(eq, ev_ts, ev_ts)))  # NaN: untimed
        if timed:
            for t, x in dict(reversed(timed)).items():
                self.first_ts.setdefault(t, x)
            self.last_ts.update(timed)
            if self.first_time != self.first_time:
                self.first_time = timed[0][1]
            self.last_time = timed[-1][1]

    def _classify(self, line: str, line_no: int) -> int:
        level, cluster = self.miner.classify(self.detector.match(line), line, line_no)
        return cluster.id

    def _shape(self, line: str, key: str, line_no: int) -> tuple[Any, ...]:
        """Everything about a line that its shape determines; cached by shape (bounded)."""
        text = line.rstrip("\r")
        m = self.detector.match(text)
        shape: tuple[Any, ...]
        sampling = False  # the line's template still collects example values: classify its lines
        if not self._timed:  # no timestamps in this file: every line is an event of its own
            tid, lvl, sampling = self._template_and_level(m, text, key[: len(text)], line_no)
            shape = (_ALONE, tid, lvl)
        elif m is None:
            shape = (_UNSTAMPED,)
        else:  # whether these digits make a valid time (no month 13) is checked per line by `_base`
            tid, lvl, sampling = self._template_and_level(m, text, key[m.end() : len(text)], line_no)
            groups = m.re.groupindex
            a, b = m.span()
            fs, fx = m.span("f") if "f" in groups else (-1, -1)
            s0, s1 = m.span("S") if "S" in groups else (-1, -1)
            tag = _FORMAT_TAG.get(m.re, "\ue0ff")  # memo keys of different formats never collide
            if s0 < 0 or ("epoch" in groups and m.group("epoch") is not None):
                shape = (_WHOLE, tid, lvl, a, b)
            elif fs < 0:
                shape = (_SECONDS, tid, lvl, a, s0, s1, b, tag)
            else:
                f6 = min(fx, fs + 6)
                shape = (_FRACTION, tid, lvl, a, s0, s1, fs, f6, fx, b, 10 ** (6 - (f6 - fs)), tag)
        if sampling or len(key) > _SHAPE_MAX_CHARS:  # long lines (JSON records) rarely share a shape
            return shape
        if len(self._shapes) >= _SHAPE_LIMIT:
            self._shapes.clear()
        self._shapes[key] = shape
        return shape

    def _template_and_level(
        self, m: re.Match[str] | None, text: str, zeroed_message: str, line_no: int
    ) -> tuple[int, int, bool]:
        """Raw template id, level id and whether the template still collects examples, of a stamped
        line (or of any line in a file without stamps).

        Looked up by `message_key` of the message first; the template search runs while the template
        collects example values, so examples come from the template's first lines, cache or not."""
        messages = self._messages
        key = message_key(zeroed_message) if messages is not None and message_key is not None else None
        if key is not None:
            assert messages is not None
            hit = messages.get(key)
            if hit is not None and hit[0].sample_budget <= 0:
                return (*hit[1], False)
        found, cluster = self.miner.classify(m, text, line_no)
        level = detect_level(text[m.end() :] if m is not None else text) or found
        found_pair = (cluster.id, _LEVEL_ID.get(level, 0))
        if key is not None and len(key) <= _SHAPE_MAX_CHARS:
            assert messages is not None
            if len(messages) >= _SHAPE_LIMIT:
                messages.clear()
            messages[key] = (cluster, found_pair)
        return (*found_pair, cluster.sample_budget > 0)

    def _base(self, line: str, shape: tuple[Any, ...]) -> float | None:
        """The memoised part of a line's time: the start of its minute (whole epoch seconds), or for
        epoch stamps the whole time; None when this line's digits make no valid timestamp after all."""
        text = line.rstrip("\r")
        m = self.detector.match(text)
        stamp = self.detector.convert(m) if m is not None else None
        if m is None or stamp is None:
            return None
        kind, a = shape[0], shape[3]
        b = shape[9] if kind == _FRACTION else shape[6] if kind == _SECONDS else shape[4]
        if m.span() != (a, b) or (kind != _WHOLE and m.span("S") != (shape[4], shape[5])):
            return None
        if kind == _FRACTION and m.span("f") != (shape[6], shape[8]):
            return None
        if len(self._stamps) >= _STAMP_LIMIT:
            self._stamps.clear()
        if self._aware is None:
            self._aware = stamp.tzinfo is not None
        if kind == _WHOLE:
            whole = _epoch(stamp)
            self._stamps[line[a:b]] = whole
            return whole
        minute = int(_epoch(stamp.replace(second=0, microsecond=0)))
        rest = line[shape[8] : b] if kind == _FRACTION else line[shape[5] : b]
        self._stamps[shape[-1] + line[a : shape[4]] + rest] = minute
        return minute

    def finish(self) -> MinedMember:
        """Resolve merged templates and report this file's totals."""
        if self._arrays is not None:
            self._arrays.into(self)
            self._arrays = None
        reported = {t.id: t for t in self.miner.templates()}
        resolve = {raw: self.miner.resolve(raw) for raw in self.events.keys() | self.lines.keys()}
        merged: dict[int, dict[str, Any]] = {}
        for raw, tid in resolve.items():
            m = merged.setdefault(tid, {"count": 0, "lines": 0, "first": [], "last": [], "levels": Counter()})
            m["count"] += self.events.get(raw, 0)
            m["lines"] += self.lines.get(raw, 0)
            if raw in self.first_line:
                m["first"].append((self.first_line[raw], self.first_ts.get(raw, math.nan)))
                m["last"].append((self.last_start[raw], self.last_ts.get(raw, math.nan), self.last_line[raw]))
        for (raw, lvl), count in self.levels.items():
            if LEVELS[lvl] is not None:
                merged[resolve[raw]]["levels"][LEVELS[lvl]] += count
        templates: list[Template] = []
        lines_by: dict[int, int] = {}
        last_by: dict[int, int] = {}
        times: dict[int, tuple[float, float]] = {}
        for tid, m in merged.items():
            if not m["first"]:
                continue
            first_line = min(line for line, _ in m["first"])
            last_start = max(start for start, _, _ in m["last"])
            firsts = [ts for _, ts in sorted(m["first"]) if ts == ts]
            lasts = [ts for _, ts, _ in sorted(m["last"]) if ts == ts]
            base = reported.get(tid)
            templates.append(
                Template(
                    id=tid,
                    pattern=base.pattern if base else "",
                    count=m["count"],
                    first_line=first_line,
                    last_line=last_start,
                    first_ts=self._datetime(firsts[0]) if firsts else None,
                    last_ts=self._datetime(lasts[-1]) if lasts else None,
                    levels=dict(m["levels"]),
                    examples=base.examples if base else [],
                )
            )
            lines_by[tid] = m["lines"]
            times[tid] = (firsts[0] if firsts else math.nan, lasts[-1] if lasts else math.nan)
            last_by[tid] = max(last for _, _, last in m["last"])
        templates.sort(key=lambda t: (-t.count, t.id))
        levels: Counter[str] = Counter()
        for (_, lvl), count in self.levels.items():
            name = LEVELS[lvl]
            if name is not None:
                levels[name] += count
        return MinedMember(
            lines=self._line,
            events=sum(self.events.values()),
            first_ts=self._datetime(self.first_time),
            last_ts=self._datetime(self.last_time),
            levels=dict(levels),
            templates=templates,
            resolve=resolve,
            lines_by_template=lines_by,
            last_line_by_template=last_by,
            times_by_template=times,
        )

    def _datetime(self, ts: float) -> datetime | None:
        """An epoch time back as the log's datetime (naive when the log's stamps are naive)."""
        if ts != ts:
            return None
        value = datetime.fromtimestamp(ts, UTC)
        return value if self._aware else value.replace(tzinfo=None)


def _epoch(ts: datetime) -> float:
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp()


def mine_lines(
    lines: Iterable[str],
    reference_year: int | None = None,
    on_block: Callable[[Block], None] | None = None,
    *,
    message_cache: bool = True,
) -> MinedMember:
    """Mine an iterable of lines (newlines stripped) block by block; `on_block` gets each block's columns."""
    it = iter(lines)
    head = list(islice(it, SAMPLE_LINES))
    miner = MemberMiner(head, reference_year, message_cache=message_cache)
    batch = head
    while batch:
        block = miner.feed(batch)
        if on_block is not None:
            on_block(block)
        batch = list(islice(it, BLOCK_LINES))
    return miner.finish()


def mine_chunks(
    chunks: Iterable[bytes],
    reference_year: int | None = None,
    on_block: Callable[[Block], None] | None = None,
) -> MinedMember:
    """`mine_lines` of a file given as UTF-8 chunks, each cut after a newline (the last one may end
    without): the same result, fed to `MemberMiner.feed_bytes` chunk by chunk."""
    it = iter(chunks)
    head: list[bytes] = []
    sample: list[str] = []
    for chunk in it:  # the first chunks, until they hold the sample's lines
        head.append(chunk)
        lines = chunk.decode("utf-8").split("\n")
        sample += lines[:-1] if chunk.endswith(b"\n") else lines
        if len(sample) >= SAMPLE_LINES:
            break
    miner = MemberMiner(sample[:SAMPLE_LINES], reference_year)
    for chunk in itertools.chain(head, it):
        block = miner.feed_bytes(chunk)
        if on_block is not None:
            on_block(block)
    return miner.finish()
