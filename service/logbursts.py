"""Error bursts of a log: runs of lines where error events are far denser than usual in their file. Pure.

Each file (archive member) is cut into windows of WINDOW lines. A window is hot when its error events are
both significantly (4 sigma of a Poisson count, plus 3) and substantially (3x, or half-way to nothing but
errors) above the file's median share of error events per window. Counting events, not lines, keeps one
long stack trace from looking like a burst. Runs of hot windows, widened by one window on each side (a burst
rarely starts or ends on a window edge) and merged, are the bursts, trimmed to their first and last error
line. Lines are counted with bytes operations, so a 10M-line table takes well under a second.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass

from service.logtable import ERROR, WARN, LogTable

WINDOW = 100
MIN_WINDOWS = 5  # fewer windows give no usable median
_NONZERO = bytes([0] + [1] * 255)


def _level_is(level: int) -> bytes:
    return bytes(1 if b == level else 0 for b in range(256))


@dataclass(frozen=True)
class Burst:
    file: int  # index into table.files
    first: int  # 0-based index of its first error line
    last: int  # 0-based index of its last error line
    errors: int  # error lines in [first, last] (of the eligible lines)


@dataclass(frozen=True)
class Masks:
    """One byte (0/1) per line, of the eligible lines only: eligible, error lines, warning lines, event
    starts, and the starts of error and of warning events."""

    keep: bytes
    errors: bytes
    warnings: bytes
    starts: bytes
    error_starts: bytes
    warning_starts: bytes


def masks(table: LogTable, eligible: bytearray) -> Masks:
    keep = bytes(eligible).translate(_NONZERO)
    errors = bytes(table.level).translate(_level_is(ERROR))
    warnings = bytes(table.level).translate(_level_is(WARN))
    starts = bytes(table.starts).translate(_NONZERO)
    if 0 in keep:  # a filter: otherwise every line is eligible and ANDing with keep changes nothing
        errors, warnings, starts = both(errors, keep), both(warnings, keep), both(starts, keep)
    return Masks(keep, errors, warnings, starts, both(errors, starts), both(warnings, starts))


def both(a: bytes, b: bytes) -> bytes:
    """Byte-wise AND of two 0/1 columns (one big-integer operation instead of a Python loop)."""
    return (int.from_bytes(a, "big") & int.from_bytes(b, "big")).to_bytes(len(a), "big")


def file_bounds(table: LogTable) -> list[tuple[int, int]]:
    """[start, end) 0-based line ranges of each file."""
    starts = [int(f["line_start"]) - 1 for f in table.files] or [0]
    return list(zip(starts, starts[1:] + [table.lines], strict=True))


def find_bursts(table: LogTable, m: Masks) -> list[Burst]:
    """The error bursts of every file, in line order."""
    bursts: list[Burst] = []
    for index, (start, end) in enumerate(file_bounds(table)):
        errors, events = _per_window(m.error_starts, start, end), _per_window(m.starts, start, end)
        for first_w, last_w in _hot_runs(errors, events):
            lo, hi = start + first_w * WINDOW, min(start + (last_w + 1) * WINDOW, end)
            first, last = m.errors.find(1, lo, hi), m.errors.rfind(1, lo, hi)
            bursts.append(Burst(index, first, last, m.errors.count(1, first, last + 1)))
    return bursts


def _per_window(column: bytes, start: int, end: int) -> list[int]:
    """The 1s of column[start:end] in each WINDOW lines (the last window may be shorter), C-level."""
    lows = range(start, end, WINDOW)
    highs = itertools.chain(range(start + WINDOW, end, WINDOW), [end])
    return list(map(column.count, itertools.repeat(1), lows, highs))


def _hot_runs(errors: list[int], events: list[int]) -> list[tuple[int, int]]:
    """(first, last) window indexes of each run of hot windows (error and all events per window),
    widened by one window each side."""
    shares = [e / n for e, n in zip(errors, events, strict=True) if n]
    if len(shares) < MIN_WINDOWS:
        return []
    p = statistics.median(shares)
    hot = list(map(_is_hot, errors, events, itertools.repeat(p)))
    wide = [a or b or c for a, b, c in zip([False, *hot[:-1]], hot, [*hot[1:], False], strict=True)]
    runs: list[tuple[int, int]] = []
    for i, on in enumerate(wide):
        if on and runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        elif on:
            runs.append((i, i))
    return runs


def _is_hot(errors: int, events: int, p: float) -> bool:
    expected = events * p
    significant = errors >= expected + 4 * math.sqrt(expected) + 3
    return significant and errors >= events * min(3 * p, p + (1 - p) / 2)
