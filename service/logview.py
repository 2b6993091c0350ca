"""A faithful compressed view of a log that does not fit the window, and log line filters. Pure.

The view keeps every line accounted for: each line is either shown verbatim (with its real line number,
so citations verify) or counted under its template in the template table; no line is dropped. Verbatim
lines are chosen in a strict priority order (TIERS) until the token budget is spent:

  1. template_ends: the first line of every template, then the last (so every template has a citable
     example; two lines per template at most, so a burst larger than the window cannot crowd them out),
  2. bursts: every error line of every error burst (`service.logbursts`), with the CONTEXT lines just
     before its first and after its last error; when they do not all fit, each burst's first and last
     EDGE error events come first and the rest are spread evenly over the bursts (not cut in time order,
     which would lose how the bursts end),
  3. rare: the lines of templates with at most RARE events,
  4. burst_context: the other lines inside and around the bursts (CONTEXT lines around each error),
  5. errors: every other error event, spread evenly, then 6. error_context: the lines around them,
  7. warnings: warning events with their context, spread evenly.

A short explanation block inside the view tells the model how to read it; `View.stats()` (the manifest's
`view`) says how many lines each tier shows and how many error lines, and burst error lines, are verbatim.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import operator
import re
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from service.logbursts import Burst, Masks, file_bounds, find_bursts, masks
from service.logtable import LogTable, build_table, keep_mask
from service.models import CorpusDocument, JobOptions

CONTEXT = 3
RARE = 5
EDGE = 20  # error events at each end of a burst shown before the rest of it
HISTOGRAM_BINS = 40
MAX_BURSTS_LISTED = 50
TIERS = ("template_ends", "bursts", "rare", "burst_context", "errors", "error_context", "warnings")
Count = Callable[[str], int]
_ONE = re.compile(b"\x01")

EXPLAIN = (
    "How to read this view: the log is too long for the window, so it is shown compressed; every line is "
    "accounted for. TEMPLATES lists every distinct event template (variable parts shown as <*>) with its "
    "number of events and lines, levels and first/last line and time: together they account for every "
    "line. HISTOGRAM counts events, warnings and errors per time bin. BURSTS lists the error bursts (runs "
    "of lines with far more errors than usual in their file) and how many of their error lines are shown "
    "verbatim. VERBATIM lines are exact copies with their real line numbers ('N| '); cite only those. They "
    "were chosen in this order until the space ran out: the first and last line of every template, every "
    "error line of each burst with the lines just before and after it, rare events, the other lines in "
    "bursts, other errors, the lines around them, warnings. A line '... K lines not shown' marks lines "
    "that are represented only by their template."
)


@dataclass
class View:
    text: str
    verbatim_lines: int
    template_only_lines: int
    dropped_lines: int
    templates: int
    shown: set[int]  # verbatim 1-based line numbers
    tiers: dict[str, int] = field(default_factory=dict)  # verbatim lines per tier (TIERS)
    error_lines: int = 0
    error_lines_verbatim: int = 0
    bursts: int = 0
    burst_error_lines: int = 0
    burst_error_lines_verbatim: int = 0

    def stats(self) -> dict[str, Any]:
        return {
            "verbatim_lines": self.verbatim_lines,
            "template_only_lines": self.template_only_lines,
            "dropped_lines": self.dropped_lines,
            "templates": self.templates,
            "error_lines": self.error_lines,
            "error_lines_verbatim": self.error_lines_verbatim,
            "bursts": self.bursts,
            "burst_error_lines": self.burst_error_lines,
            "burst_error_lines_verbatim": self.burst_error_lines_verbatim,
            "tiers": dict(self.tiers),
        }


def compressed_view(
    table: LogTable, line_text: Callable[[int], str], budget: int, count: Count, keep: bytearray | None = None
) -> View | None:
    """The best view within `budget` tokens, or None when even the template table does not fit."""
    eligible = keep if keep is not None else bytearray(b"\x01") * table.lines
    m = masks(table, eligible)
    total = m.keep.count(1)
    bursts = find_bursts(table, m)
    fixed = _templates(table) + _histogram(table, m)
    pick = _Picker(_tiers(table, eligible, m, bursts), line_text, count)

    def render() -> str:
        shown = sorted(pick.chosen)
        listed = _bursts_section(table, bursts, m, shown)
        errors = sum(1 for i in shown if m.errors[i])
        head = _head(table, len(shown), total - len(shown), m.errors.count(1), errors)
        return (
            head
            + EXPLAIN
            + "\n"
            + fixed
            + listed
            + "VERBATIM\n"
            + _verbatim(table, shown, line_text)
            + "</log-view>\n"
        )

    base = count(render())
    if base > budget:
        return None
    pick.fill(budget - base)
    rounds = 0
    while True:  # the per-line estimate misses gap markers and file tags: correct it from exact counts
        used = count(text := render())
        if used > budget:
            pick.trim(used - budget)  # ends: with no line chosen the view is `base` tokens
            continue
        if pick.trimmed or pick.done or budget - used <= max(64, budget // 500) or rounds == 8:
            break
        pick.fill(budget - used)
        rounds += 1
    shown = pick.chosen
    in_bursts = _burst_lines(bursts)
    per_tier = Counter(pick.tier)
    return View(
        text=text,
        verbatim_lines=len(shown),
        template_only_lines=total - len(shown),
        dropped_lines=0,
        templates=len(table.rows),
        shown={i + 1 for i in shown},
        tiers={name: per_tier[t] for t, name in enumerate(TIERS)},
        error_lines=m.errors.count(1),
        error_lines_verbatim=sum(1 for i in shown if m.errors[i]),
        bursts=len(bursts),
        burst_error_lines=sum(b.errors for b in bursts),
        burst_error_lines_verbatim=sum(1 for i in shown if m.errors[i] and in_bursts(i)),
    )


class _Picker:
    """Takes lines from the tiers in priority order while their estimated tokens fit the room."""

    BLOCK = 256  # lines counted together (one count call per block; each line gets its share by length)

    def __init__(self, tiers: Iterable[Iterable[int]], line_text: Callable[[int], str], count: Count) -> None:
        self.stream: Iterator[tuple[int, int]] = ((t, i) for t, lines in enumerate(tiers) for i in lines)
        self.line_text, self.count = line_text, count
        self.gap = count("... 1,234 lines not shown\n")
        self.ahead: deque[tuple[int, int, int]] = deque()  # (tier, line, estimated tokens)
        self.chosen: set[int] = set()
        self.order: list[int] = []
        self.tier: list[int] = []
        self.cost: list[int] = []
        self.done = self.trimmed = False

    def _next(self) -> tuple[int, int, int] | None:
        if not self.ahead:
            block: list[tuple[int, int]] = []
            fresh: set[int] = set()
            for t, i in self.stream:  # lines already chosen (context overlaps) are not counted again
                if i not in self.chosen and i not in fresh:
                    fresh.add(i)
                    block.append((t, i))
                    if len(block) == self.BLOCK:
                        break
            texts = [f"{i + 1}| {self.line_text(i + 1)}\n" for _, i in block]
            tokens, chars = self.count("".join(texts)), max(sum(map(len, texts)), 1)
            self.ahead.extend(
                (t, i, math.ceil(tokens * len(s) / chars)) for (t, i), s in zip(block, texts, strict=True)
            )
        return self.ahead[0] if self.ahead else None

    def fill(self, room: int) -> None:
        while (item := self._next()) is not None:
            t, i, cost = item
            if i in self.chosen:
                self.ahead.popleft()
                continue
            if i - 1 not in self.chosen and i + 1 not in self.chosen:
                cost += self.gap  # a lone line splits a gap in two: one more marker
            if cost > room:
                return  # strict priority: nothing after it is taken either
            self.ahead.popleft()
            room -= cost
            self.chosen.add(i)
            self.order.append(i)
            self.tier.append(t)
            self.cost.append(cost)
        self.done = True

    def trim(self, tokens: int) -> None:
        """Give back at least `tokens` (estimated) by dropping the lowest-priority lines."""
        self.trimmed = True
        tokens += max(16, tokens // 20)
        while tokens > 0 and self.order:
            self.chosen.discard(self.order.pop())
            self.tier.pop()
            tokens -= self.cost.pop()


def _tiers(table: LogTable, eligible: bytearray, m: Masks, bursts: list[Burst]) -> list[Iterable[int]]:
    """The TIERS, each a lazy sequence of 0-based lines (repeats allowed) in its own priority order."""
    bounds = file_bounds(table)
    starts = [s for s, _ in bounds]

    def event(i: int) -> range:
        """Line i and the lines of its event after it (stack traces and other continuation lines)."""
        j = i + 1
        while j < table.lines and not m.starts[j] and eligible[j]:
            j += 1
        return range(i, j)

    def around(i: int) -> Iterator[int]:
        lo, hi = bounds[bisect.bisect_right(starts, i) - 1]
        lines = event(i)
        yield from lines
        for j in range(max(lo, i - CONTEXT), min(hi, lines.stop + CONTEXT)):
            if eligible[j]:
                yield j

    @functools.cache
    def error_events() -> tuple[list[int], list[int]]:
        """The starts of the error events inside bursts, and of the others."""
        events = _ones(m.error_starts)
        cuts = [(bisect.bisect_left(events, b.first), bisect.bisect_right(events, b.last)) for b in bursts]
        inside = [i for lo, hi in cuts for i in events[lo:hi]]
        gaps = zip([0] + [hi for _, hi in cuts], [lo for lo, _ in cuts] + [len(events)], strict=True)
        return inside, [i for lo, hi in gaps for i in events[lo:hi]]

    def ends() -> Iterator[int]:
        for attr in ("first_line", "last_line"):
            for line in sorted(getattr(row, attr) - 1 for row in table.rows):
                if 0 <= line < table.lines and eligible[line]:
                    yield line

    def burst_errors() -> Iterator[int]:
        events = error_events()[0]
        spans = [(bisect.bisect_left(events, b.first), bisect.bisect_right(events, b.last)) for b in bursts]
        for b, (lo, hi) in zip(bursts, spans, strict=True):  # the lead-in and the first EDGE error events
            start = bounds[b.file][0]
            yield from (j for j in range(max(start, b.first - CONTEXT), b.first) if eligible[j])
            for i in events[lo : min(hi, lo + EDGE)]:
                yield from event(i)
        for b, (lo, hi) in zip(bursts, spans, strict=True):  # the last EDGE error events and the tail
            end = bounds[b.file][1]
            for i in events[max(lo, hi - EDGE) : hi]:
                yield from event(i)
            yield from (j for j in range(b.last + 1, min(end, b.last + 1 + CONTEXT)) if eligible[j])
        for i in _spread(events):
            yield from event(i)
        for b in bursts:  # error lines no event start accounts for (none in well-formed tables)
            yield from (j for j in range(b.first, b.last + 1) if m.errors[j])

    def rare() -> Iterator[int]:
        """Lines of the templates with at most RARE events, found by searching the template column."""
        column = table.template.tobytes()
        found: list[int] = []
        for r, row in enumerate(table.rows):
            if row.events > RARE:
                continue
            needle, pos, end = array("i", [r]).tobytes(), (row.first_line - 1) * 4, row.last_line * 4
            while (pos := column.find(needle, pos, end)) >= 0:
                if pos % 4 == 0 and eligible[pos // 4]:
                    found.append(pos // 4)
                pos += 1 if pos % 4 else 4
        return iter(sorted(found))

    def burst_context() -> Iterator[int]:
        for i in _spread(error_events()[0]):
            yield from around(i)

    def errors() -> Iterator[int]:
        for i in _spread(error_events()[1]):
            yield from event(i)

    def error_context() -> Iterator[int]:
        for i in _spread(error_events()[1]):
            yield from around(i)

    def warnings() -> Iterator[int]:
        for i in _spread(_ones(m.warning_starts)):
            yield from around(i)

    return [ends(), burst_errors(), rare(), burst_context(), errors(), error_context(), warnings()]


def _ones(column: bytes) -> list[int]:
    return [match.start() for match in _ONE.finditer(column)]


def _spread(items: Sequence[int]) -> Iterator[int]:
    """`items` in bit-reversal order (0, n/2, n/4, 3n/4, ...): every prefix is spread evenly over them.

    Lazy: the order is built by doubling (the reversal order of j bits is that of j-1 bits doubled, then
    the same plus one), so taking the first k items costs O(k), not O(len(items)).
    """
    n = len(items)
    if n <= 2:
        yield from items
        return
    bits = (n - 1).bit_length()
    order = [0]  # bit-reversal order of `level` bits; position k of the full order is order[k] << shift
    yield items[0]
    for level in range(1, bits + 1):
        shift = bits - level
        odd = [2 * k + 1 for k in order]
        for k in odd:
            if (k << shift) < n:
                yield items[k << shift]
        order = [2 * k for k in order] + odd


def _burst_lines(bursts: list[Burst]) -> Callable[[int], bool]:
    firsts = [b.first for b in bursts]

    def inside(i: int) -> bool:
        k = bisect.bisect_right(firsts, i) - 1
        return k >= 0 and i <= bursts[k].last

    return inside


def _bursts_section(table: LogTable, bursts: list[Burst], m: Masks, shown: list[int]) -> str:
    if not bursts:
        return "BURSTS: none found\n"
    out = ["BURSTS (id | first error line @ time | last error line @ time | error lines | shown verbatim)\n"]
    listed = sorted(sorted(bursts, key=lambda b: -b.errors)[:MAX_BURSTS_LISTED], key=lambda b: b.first)
    for n, b in enumerate(listed, 1):
        inside = shown[bisect.bisect_left(shown, b.first) : bisect.bisect_right(shown, b.last)]
        verbatim = sum(1 for i in inside if m.errors[i])
        out.append(
            f"B{n} | {_where(table, b.first + 1)} @ {_iso(table.ts[b.first])} | "
            f"{_where(table, b.last + 1)} @ {_iso(table.ts[b.last])} | {b.errors:,} | {verbatim:,}\n"
        )
    if len(bursts) > len(listed):
        rest = len(bursts) - len(listed)
        errors = sum(b.errors for b in bursts) - sum(b.errors for b in listed)
        out.append(f"... {rest:,} smaller bursts with {errors:,} error lines\n")
    return "".join(out)


def _file_of(table: LogTable, line: int) -> tuple[str | None, int]:
    """(member path, its first whole-text line) for a 1-based whole-text line."""
    f = table.files[max(bisect.bisect_right(table.file_starts, line) - 1, 0)]
    return f["path"], f["line_start"]


def _where(table: LogTable, line: int) -> str:
    path, start = _file_of(table, line)
    return f"{path}:{line - start + 1}" if path else str(line)


def _iso(ts: float) -> str:
    return "-" if math.isnan(ts) else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _templates(table: LogTable) -> str:
    head = "TEMPLATES (id | events | lines | levels | first line @ time | last line @ time | pattern)\n"
    rows = sorted(range(len(table.rows)), key=lambda r: -table.rows[r].lines)
    out = [head]
    for r in rows:
        row = table.rows[r]
        levels = ",".join(f"{k}:{v}" for k, v in sorted(row.levels.items())) or "-"
        first = f"{_where(table, row.first_line)} @ {_iso(row.first_ts)}"
        last = f"{_where(table, row.last_line)} @ {_iso(row.last_ts)}"
        out.append(
            f"T{r + 1} | {row.events:,} | {row.lines:,} | {levels} | {first} | {last} | {row.pattern}\n"
        )
    return "".join(out)


def _histogram(table: LogTable, m: Masks) -> str:
    bins = _binner(table, m.starts)
    if bins is None:
        return "HISTOGRAM: no timestamps\n"
    counts, lo, width = bins
    rows = zip(counts(m.starts), counts(m.warning_starts), counts(m.error_starts), strict=True)
    out = [f"HISTOGRAM (bin start | events | warnings | errors; bins of {width:,.0f} s)\n"]
    out += [f"{_iso(lo + b * width)} | {e:,} | {w:,} | {x:,}\n" for b, (e, w, x) in enumerate(rows) if e]
    return "".join(out)


Binner = tuple[Callable[[bytes], list[int]], float, float]


def _binner(table: LogTable, starts: bytes) -> Binner | None:
    """(events per time bin of the lines a 0/1 column marks, first bin start, bin width) over the times of
    the events `starts` marks, or None when none of them has a time.

    The bins are HISTOGRAM_BINS equal spans from the first to the last event time (at least 1 s each),
    plus one from the last edge on. When every file's times are in order (the usual log), a bin's count is
    a bytes count between two bisections of the time column: no per-line Python work and no sort.
    """
    bounds = file_bounds(table)
    if not all(_in_order(table.ts, lo, hi) for lo, hi in bounds):
        return _sorted_binner(table, starts)
    firsts = [table.ts[i] for lo, hi in bounds if (i := starts.find(1, lo, hi)) >= 0]
    lasts = [table.ts[i] for lo, hi in bounds if (i := starts.rfind(1, lo, hi)) >= 0]
    if not firsts:
        return None
    lo, width = _bin_width(min(firsts), max(lasts))
    cuts = [[bisect.bisect_left(table.ts, edge, a, b) for edge in _edges(lo, width)] for a, b in bounds]

    def counts(marks: bytes) -> list[int]:
        per_file = [list(map(marks.count, itertools.repeat(1), cut, cut[1:])) for cut in cuts]
        return [sum(column) for column in zip(*per_file, strict=True)]

    return counts, lo, width


def _in_order(ts: array[float], lo: int, hi: int) -> bool:
    """ts[lo:hi] is non-decreasing and has no NaN (a NaN fails every comparison)."""
    if hi - lo == 1:
        return not math.isnan(ts[lo])
    with memoryview(ts) as view:
        return all(map(operator.le, view[lo : hi - 1], view[lo + 1 : hi]))


def _sorted_binner(table: LogTable, starts: bytes) -> Binner | None:
    """`_binner` for times out of order: sorts the times of the marked lines and bisects them."""

    def times(marks: bytes) -> list[float]:
        """Sorted times of the events starting at the marked lines (C-level: no Python loop per line)."""
        return sorted(itertools.filterfalse(math.isnan, itertools.compress(table.ts, marks)))

    events = times(starts)
    if not events:
        return None
    lo, width = _bin_width(events[0], events[-1])

    def counts(marks: bytes) -> list[int]:
        ts = events if marks is starts else times(marks)
        cuts = [bisect.bisect_left(ts, edge) for edge in _edges(lo, width)]
        return [b - a for a, b in itertools.pairwise(cuts)]

    return counts, lo, width


def _bin_width(lo: float, hi: float) -> tuple[float, float]:
    return lo, max((hi - lo) / HISTOGRAM_BINS, 1.0)


def _edges(lo: float, width: float) -> list[float]:
    return [lo + b * width for b in range(HISTOGRAM_BINS + 1)] + [math.inf]


def _verbatim(table: LogTable, shown: list[int], line_text: Callable[[int], str]) -> str:
    out: list[str] = []
    prev = -1
    current: str | None = None
    for i in shown:
        path, start = _file_of(table, i + 1)
        if path != current:
            out += ["</file>\n"] if current is not None else []
            out.append(f'<file path="{path}">\n' if path is not None else "")
            current = path
        if i - prev > 1:
            out.append(f"... {i - prev - 1:,} lines not shown\n")
        out.append(f"{i + 1 - start + 1}| {line_text(i + 1)}\n")
        prev = i
    if current is not None:
        out.append("</file>\n")
    if prev < table.lines - 1:
        out.append(f"... {table.lines - 1 - prev:,} lines not shown\n")
    return "".join(out)


def _head(table: LogTable, shown: int, template_only: int, errors: int, errors_shown: int) -> str:
    return (
        f'<log-view lines="{table.lines}" verbatim_lines="{shown}" template_only_lines="{template_only}" '
        f'dropped_lines="0" templates="{len(table.rows)}" error_lines="{errors}" '
        f'error_lines_verbatim="{errors_shown}">\n'
    )


def line_blocks(
    files: list[dict[str, object]] | None,
    n_lines: int,
    keep: bytearray | None,
    line_text: Callable[[int], str],
) -> list[tuple[str, int, int]]:
    """`N| line` blocks (text, first, last whole-text line) for archives and filtered logs.

    Each block is self-contained: inside an archive it is wrapped in `<file path="...">` and numbered
    from 1 per member; lines outside `keep` become one '... K lines outside the filter' marker per gap.
    """
    members = files or [{"path": None, "line_start": 1}]
    out: list[tuple[str, int, int]] = []
    for index, f in enumerate(members):
        start = int(str(f["line_start"]))
        end = int(str(members[index + 1]["line_start"])) - 1 if index + 1 < len(members) else n_lines
        for first in range(start, end + 1, BLOCK_LINES):
            last = min(first + BLOCK_LINES - 1, end)
            body = _block(first, last, start, keep, line_text)
            if body:
                path = f["path"]
                text = f'<file path="{path}">\n{body}</file>\n' if path is not None else body
                out.append((text, first, last))
    return out


BLOCK_LINES = 500


def _block(first: int, last: int, start: int, keep: bytearray | None, line_text: Callable[[int], str]) -> str:
    if keep is None:
        return "".join([f"{n - start + 1}| {line_text(n)}\n" for n in range(first, last + 1)])
    out: list[str] = []
    gap = 0
    for n in range(first, last + 1):
        if keep is not None and not keep[n - 1]:
            gap += 1
            continue
        if gap:
            out.append(f"... {gap:,} lines outside the filter\n")
            gap = 0
        out.append(f"{n - start + 1}| {line_text(n)}\n")
    if gap and out:
        out.append(f"... {gap:,} lines outside the filter\n")
    return "".join(out)


def view_for(doc: CorpusDocument, budget: int, count: Count, line_text: Callable[[int], str]) -> View | None:
    """The compressed view of a log document within `budget` tokens (its line table is cached on `doc`)."""
    if doc.table is None:
        doc.table = _table(doc)
    return compressed_view(doc.table, line_text, budget, count, doc.keep)


def _table(doc: CorpusDocument) -> LogTable:
    """The per-line table stored at extraction when there is one, else mined now from the text."""
    loader = doc.extracted.table_loader
    table: LogTable = loader() if loader is not None else build_table(doc.extracted)
    return table


def apply_filters(corpus: list[CorpusDocument], options: JobOptions) -> list[CorpusDocument]:
    """Log documents restricted to `options.time_range` / `options.levels` (others unchanged).

    Nothing is copied: each log gets a per-line keep mask, so kept lines keep their real numbers.
    """
    if options.time_range is None and not options.levels:
        return corpus
    span = options.time_range
    for doc in corpus:
        if doc.kind != "log":
            continue
        if doc.table is None:
            doc.table = _table(doc)
        doc.keep = keep_mask(
            doc.table, span.start if span else None, span.end if span else None, options.levels
        )
    return corpus
