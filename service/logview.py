"""A faithful compressed view of a log that does not fit the window, and log line filters. Pure.

The view keeps every line accounted for: each line is either shown verbatim (with its real line
number, so citations verify) or counted under its template in the template table; no line is
dropped. Verbatim lines are chosen by priority until the token budget is spent:

  1. the first and last line of every template (so every template has a citable example; at most two
     lines per template, so a burst larger than the window cannot crowd them out),
  2. every error burst (error lines with context, in time order),
  3. rare events (templates with at most `rare` events),
  4. every other error line with context, then 5. warning lines with context.

A tier that does not fit whole is cut in time order. A short explanation block inside the view tells
the model how to read it; the packer records the counts in the manifest (`view`).
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from service.logtable import ERROR, WARN, LogTable, build_table, keep_mask
from service.models import CorpusDocument, JobOptions

CONTEXT = 3
RARE = 5
HISTOGRAM_BINS = 40
DETECT_BINS = 400
Count = Callable[[str], int]

EXPLAIN = (
    "How to read this view: the log is too long for the window, so it is shown compressed. "
    "TEMPLATES lists every distinct event template (variable parts shown as <*>) with its number of "
    "events and lines, levels and first/last line and time: together they account for every line. "
    "HISTOGRAM counts events, warnings and errors per time bin. VERBATIM lines are exact copies with "
    "their real line numbers ('N| '); cite only those. A line '... K lines not shown' marks lines that "
    "are represented only by their template."
)


@dataclass
class View:
    text: str
    verbatim_lines: int
    template_only_lines: int
    dropped_lines: int
    templates: int
    shown: set[int]  # verbatim 1-based line numbers

    def stats(self) -> dict[str, int]:
        return {
            "verbatim_lines": self.verbatim_lines,
            "template_only_lines": self.template_only_lines,
            "dropped_lines": self.dropped_lines,
            "templates": self.templates,
        }


def compressed_view(
    table: LogTable, line_text: Callable[[int], str], budget: int, count: Count, keep: bytearray | None = None
) -> View | None:
    """The best view within `budget` tokens, or None when even the template table does not fit."""
    eligible = keep if keep is not None else bytearray(b"\x01") * table.lines
    fixed = _templates(table) + _histogram(table, eligible)
    base = count(_wrap(table, fixed, "", 0, 0))
    if base > budget:
        return None
    room = budget - base
    order: list[int] = []  # verbatim lines in priority order
    chosen: set[int] = set()
    for tier in _tiers(table, eligible):
        fresh = [i for i in dict.fromkeys(tier) if i not in chosen]
        if not fresh:
            continue
        cost = _cost(table, fresh, line_text, count)
        if cost > room:
            fresh = fresh[: int(len(fresh) * room / max(cost, 1))]
        chosen.update(fresh)
        order += fresh
        room -= cost
        if room <= 0:
            break
    shown = sorted(order)
    while shown and count(_wrap(table, fixed, _verbatim(table, shown, line_text), len(shown), 0)) > budget:
        order = order[: int(len(order) * 0.95)]  # gap markers cost more than estimated: drop lowest priority
        shown = sorted(order)
    total = sum(eligible)
    text = _wrap(table, fixed, _verbatim(table, shown, line_text), len(shown), total - len(shown))
    return View(text, len(shown), total - len(shown), 0, len(table.rows), {i + 1 for i in shown})


def _cost(table: LogTable, lines: list[int], line_text: Callable[[int], str], count: Count) -> int:
    """Tokens of these lines rendered verbatim; estimated from an even sample when there are many."""
    if len(lines) <= 4000:
        return count(_verbatim(table, sorted(lines), line_text))
    step = len(lines) / 2000
    sample = sorted(lines[int(k * step)] for k in range(2000))
    return math.ceil(count(_verbatim(table, sample, line_text)) * len(lines) / 2000)


def _tiers(table: LogTable, eligible: bytearray) -> Iterable[list[int]]:
    ends: list[int] = []
    for row in table.rows:
        ends += [row.first_line - 1, row.last_line - 1]
    yield sorted(i for i in ends if 0 <= i < table.lines and eligible[i])
    errors = [i for i in range(table.lines) if eligible[i] and table.level[i] == ERROR]
    onsets = _burst_onsets(table, errors)
    yield _with_context(table, [i for i in errors if i in onsets], eligible)
    rare = {r for r, row in enumerate(table.rows) if row.events <= RARE}
    yield [i for i in range(table.lines) if eligible[i] and table.template[i] in rare]
    yield _with_context(table, errors, eligible)
    warns = [i for i in range(table.lines) if eligible[i] and table.level[i] == WARN]
    yield _with_context(table, warns, eligible)


def _burst_onsets(table: LogTable, errors: list[int]) -> set[int]:
    """Error lines of the bins where errors run well above the median bin (fine bins) and of the bins
    on either side of each run of them."""
    times = [table.ts[i] for i in errors if not math.isnan(table.ts[i])]
    if len(times) < 10:
        return set()
    lo, hi = min(times), max(times)
    width = max((hi - lo) / DETECT_BINS, 1e-6)
    bins: dict[int, list[int]] = {}
    for i in errors:
        if not math.isnan(table.ts[i]):
            bins.setdefault(int((table.ts[i] - lo) / width), []).append(i)
    counts = [len(bins.get(b, [])) for b in range(DETECT_BINS + 1)]
    median = statistics.median(counts)
    hot = {b for b in sorted(bins) if len(bins[b]) >= max(3, 3 * median) and len(bins[b]) > median}
    # A burst rarely starts or ends on a bin edge: the bins just before and after each run of hot
    # bins hold its first and last errors.
    hot |= {b + step for b in hot for step in (-1, 1) if b + step not in hot}
    return {i for b in hot for i in bins.get(b, [])}


def _with_context(table: LogTable, lines: list[int], eligible: bytearray) -> list[int]:
    out: list[int] = []
    for i in lines:
        out += [j for j in range(max(0, i - CONTEXT), min(table.lines, i + CONTEXT + 1)) if eligible[j]]
    return out


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


def _histogram(table: LogTable, eligible: bytearray) -> str:
    times = [
        table.ts[i]
        for i in range(table.lines)
        if eligible[i] and table.starts[i] and not math.isnan(table.ts[i])
    ]
    if not times:
        return "HISTOGRAM: no timestamps\n"
    lo, hi = min(times), max(times)
    width = max((hi - lo) / HISTOGRAM_BINS, 1.0)
    rows = [[0, 0, 0] for _ in range(HISTOGRAM_BINS + 1)]
    for i in range(table.lines):
        ts = table.ts[i]
        if eligible[i] and table.starts[i] and not math.isnan(ts):
            cell = rows[int((ts - lo) / width)]
            cell[0] += 1
            cell[1] += table.level[i] == WARN
            cell[2] += table.level[i] == ERROR
    out = [f"HISTOGRAM (bin start | events | warnings | errors; bins of {width:,.0f} s)\n"]
    out += [f"{_iso(lo + b * width)} | {e:,} | {w:,} | {x:,}\n" for b, (e, w, x) in enumerate(rows) if e]
    return "".join(out)


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


def _wrap(table: LogTable, fixed: str, verbatim: str, shown: int, template_only: int) -> str:
    head = (
        f'<log-view lines="{table.lines}" verbatim_lines="{shown}" template_only_lines="{template_only}" '
        f'dropped_lines="0" templates="{len(table.rows)}">\n'
    )
    return head + EXPLAIN + "\n" + fixed + "VERBATIM\n" + verbatim + "</log-view>\n"


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


def view_for(doc: CorpusDocument, budget: int, count: Count, lines: list[str]) -> View | None:
    """The compressed view of a log document within `budget` tokens (its line table is cached on `doc`)."""
    if doc.table is None:
        doc.table = _table(doc)
    return compressed_view(doc.table, lambda n: lines[n - 1], budget, count, doc.keep)


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
