"""The packer: whole documents into one prompt for one model window, with an exact budget manifest.

Pure functions, no I/O. Documents come first (so providers' prefix caches can serve repeated questions
over the same corpus), the task and questions last. Each document is delimited with its id, name and
anchors: pages as `<page number="N">` elements, text and log lines prefixed `N| ` so the model can cite
them. Document text is untrusted: look-alikes of our delimiters inside it are defused.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from service.errors import ContextOverflow
from service.llm.prompts import system_prompt, task_block
from service.logview import View, line_blocks, view_for
from service.models import (
    CorpusDocument,
    DocumentBudget,
    ExtractedText,
    JobType,
    OverflowPolicy,
    PackedPrompt,
    PackManifest,
)
from service.prompt_text import LINES_PER_UNIT, defuse, might_need_defusing, numbered_lines
from service.tokens import MESSAGE_OVERHEAD_TOKENS, ScaledCounter, TokenCounter

_LINES_PER_UNIT = LINES_PER_UNIT


@dataclass(frozen=True)
class Budget:
    model: str
    window: int
    reserved_output: int


@dataclass
class _Unit:
    """A slice of a rendered document that truncation keeps or drops whole: a page or a block of lines."""

    text: str
    tokens: int
    first: int  # first page or line number
    last: int


@dataclass
class _RenderedDoc:
    doc: CorpusDocument
    body: str  # the defused text (defusing keeps offsets: it swaps one character for one)
    head: str
    tail: str
    frame_tokens: int
    units: list[_Unit]
    kept: int  # number of units kept
    view: View | None = None  # set when the units were replaced by the log's compressed view
    # Logs sized from the unit counts stored at extraction: their units have no text until `_finish`, so
    # a log that is replaced by its view is never rendered whole.
    sized_only: bool = False

    @property
    def tokens(self) -> int:
        return self.frame_tokens + sum(u.tokens for u in self.units[: self.kept])

    def text(self) -> str:
        return self.head + "".join(u.text for u in self.units[: self.kept]) + self.tail


def _render(doc: CorpusDocument, counter: TokenCounter) -> tuple[_RenderedDoc, int]:
    ex = doc.extracted
    body, defused = defuse(ex.text) if might_need_defusing(ex.text) else (ex.text, 0)
    anchor = f'pages="{ex.page_count}"' if ex.page_starts else f'lines="{ex.line_count}"'
    head = f'<document id="{doc.id}" name="{html.escape(doc.name, quote=True)}" kind="{doc.kind}" {anchor}>\n'
    tail = "</document>\n"
    frame = counter.count(head) + counter.count(tail)
    stored = _stored_counts(doc, counter, _unit_count(ex)) if not ex.page_starts else None
    if stored is not None:
        sized = [_Unit("", tokens, 0, 0) for tokens in stored]
        return _RenderedDoc(doc, body, head, tail, frame, sized, len(sized), sized_only=True), defused
    units = _units(doc, body, counter)
    return _RenderedDoc(doc, body, head, tail, frame, units, len(units)), defused


def _units(doc: CorpusDocument, body: str, counter: TokenCounter) -> list[_Unit]:
    """The document as pages or numbered blocks of lines, each with its tokens."""
    ex = doc.extracted
    units: list[_Unit] = []
    if ex.page_starts:
        bounds = [*ex.page_starts, len(ex.text)]
        # Defusing only inserts a character per match, so slice the defused body per page afresh.
        for number in range(1, len(ex.page_starts) + 1):
            page_text, _ = defuse(ex.text[bounds[number - 1] : bounds[number]])
            text = f'<page number="{number}">\n{page_text.rstrip(chr(10))}\n</page>\n'
            units.append(_Unit(text, counter.count(text), number, number))
    elif ex.meta.get("files") or doc.keep is not None:  # archives and filtered logs: see logview
        lines = body.split("\n")
        blocks = line_blocks(ex.meta.get("files"), ex.line_count, doc.keep, lambda n: lines[n - 1])
        stored = _stored_counts(doc, counter, len(blocks))
        units += [
            _Unit(text, stored[k] if stored else counter.count(text), first, last)
            for k, (text, first, last) in enumerate(blocks)
        ]
    else:
        lines = body.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        stored = _stored_counts(doc, counter, -(-len(lines) // _LINES_PER_UNIT))
        for start in range(0, len(lines), _LINES_PER_UNIT):
            block = lines[start : start + _LINES_PER_UNIT]
            text = numbered_lines(block, start + 1)
            tokens = stored[start // _LINES_PER_UNIT] if stored else counter.count(text)
            units.append(_Unit(text, tokens, start + 1, start + len(block)))
    return units


def _stored_counts(doc: CorpusDocument, counter: TokenCounter, n_units: int) -> list[int] | None:
    """The unit counts stored at extraction (unfiltered logs) in `counter`'s terms, when they were made
    the same way and for `n_units` units; else None."""
    stored = doc.extracted.unit_tokens
    scale = _scale_to(counter, stored.get("method")) if stored is not None else None
    if (
        stored is None
        or scale is None
        or doc.keep is not None
        or stored.get("lines_per_unit") != _LINES_PER_UNIT
        or len(stored["units"]) != n_units
    ):
        return None
    units: list[int] = stored["units"]
    return units if scale == 1.0 else [math.ceil(tokens * scale) for tokens in units]


def _unit_count(ex: ExtractedText) -> int:
    """How many units `_units` makes of an unfiltered log: 500-line blocks, per member in an archive."""
    starts = [int(f["line_start"]) for f in ex.meta.get("files") or [{"line_start": 1}]]
    bounds = [*starts, ex.line_count + 1]
    return sum(-(-(end - start) // _LINES_PER_UNIT) for start, end in itertools.pairwise(bounds))


def _finish(r: _RenderedDoc, counter: TokenCounter) -> None:
    """Render the units of a log sized from its stored counts, unless its view replaced them."""
    if r.sized_only and r.view is None:
        r.units = _units(r.doc, r.body, counter)  # the same counts: `_render` checked they apply
    r.sized_only = False


def _line_reader(r: _RenderedDoc) -> Callable[[int], str]:
    """Line n (1-based) of the defused text, read by its offset: the whole text is never split."""
    body, starts = r.body, r.doc.extracted.line_starts

    def line_text(n: int) -> str:
        return body[starts[n - 1] : starts[n] - 1 if n < len(starts) else len(body)]

    return line_text


def _scale_to(counter: TokenCounter, method: object) -> float | None:
    """The factor from counts made with `method` to `counter`'s counts (calibrated or re-pack-scaled
    counters wrap the base counter), or None when `counter` is not built on that method."""
    factor = 1.0
    while counter.method != method:
        if not isinstance(counter, ScaledCounter):
            return None
        factor *= counter.factor
        counter = counter.base
    return factor


def _cut_description(rendered: _RenderedDoc) -> dict[str, object] | None:
    if rendered.kept == len(rendered.units):
        return None
    unit_name = "pages" if rendered.doc.extracted.page_starts else "lines"
    total = rendered.units[-1].last if rendered.units else 0
    kept_to = rendered.units[rendered.kept - 1].last if rendered.kept else 0
    return {
        "unit": unit_name,
        "kept": f"1-{kept_to}" if kept_to else "none",
        "dropped": f"{kept_to + 1}-{total}",
        "kept_count": kept_to,
        "total_count": total,
        "dropped_tokens": sum(u.tokens for u in rendered.units[rendered.kept :]),
    }


def _truncate(docs: list[_RenderedDoc], over: int) -> int:
    """Drop trailing units, largest document first, until `over` tokens are gone. Returns what is left over."""
    while over > 0:
        candidates = [d for d in docs if d.kept > 0]
        if not candidates:
            return over
        largest = max(candidates, key=lambda d: d.tokens)
        target = max(largest.frame_tokens, largest.tokens - over)
        while largest.kept > 0 and largest.tokens > target:
            largest.kept -= 1
            over -= largest.units[largest.kept].tokens
    return max(over, 0)


def _compress(docs: list[_RenderedDoc], over: int, counter: TokenCounter) -> int:
    """Replace logs by their compressed view, largest first, until `over` tokens are gone; returns the rest."""
    for r in sorted((d for d in docs if d.doc.kind == "log" and d.view is None), key=lambda d: -d.tokens):
        if over <= 0:
            break
        view = view_for(r.doc, max(r.tokens - over, 0) - r.frame_tokens, counter.count, _line_reader(r))
        if view is None:
            continue
        before = r.tokens
        r.units = [_Unit(view.text, counter.count(view.text), 1, r.doc.extracted.line_count)]
        r.kept, r.view = 1, view
        over -= before - r.tokens
    return max(over, 0)


def pack(
    documents: list[CorpusDocument],
    job_type: JobType,
    questions: list[str],
    budget: Budget,
    counter: TokenCounter,
    overflow: OverflowPolicy | None = "error",
) -> PackedPrompt:
    """Fit the documents whole into `budget`; fail with the numbers, or cut (truncate) or compress (logs)
    and say exactly what. `overflow=None`: compress logs, error for anything else."""
    if overflow is None:
        overflow = "compress" if any(d.kind == "log" for d in documents) else "error"
    system = system_prompt(job_type)
    task = task_block(job_type, questions)
    instruction_tokens = counter.count(system) + counter.count(task) + 2 * MESSAGE_OVERHEAD_TOKENS + 4
    rendered: list[_RenderedDoc] = []
    defused_total = 0
    for doc in documents:
        r, defused = _render(doc, counter)
        rendered.append(r)
        defused_total += defused

    def totals() -> tuple[int, int, int]:
        doc_tokens = sum(r.tokens for r in rendered)
        total = instruction_tokens + doc_tokens
        margin = math.ceil(total * counter.expected_error)
        return doc_tokens, total, margin

    doc_tokens, total, margin = totals()
    available = budget.window - budget.reserved_output
    over = total + margin - available
    if over > 0:
        if overflow == "error":
            raise overflow_error(budget, total, margin, instruction_tokens, doc_tokens)
        # Shrinking the prompt shrinks its margin too; cut a little extra so one pass suffices.
        shrink = _truncate if overflow == "truncate" else _compress_with(counter)
        left = shrink(rendered, math.ceil(over / (1 + counter.expected_error)) + 1)
        doc_tokens, total, margin = totals()
        if left > 0 or total + margin > available:
            raise overflow_error(budget, total, margin, instruction_tokens, doc_tokens)
    for r in rendered:
        _finish(r, counter)

    manifest = PackManifest(
        model=budget.model,
        window=budget.window,
        reserved_output=budget.reserved_output,
        safety_margin=margin,
        instruction_tokens=instruction_tokens,
        document_tokens=doc_tokens,
        total_tokens=total,
        remaining=available - total - margin,
        token_method=counter.method,
        token_error=f"+-{counter.expected_error:.0%}",
        overflow_policy=overflow,
        documents=[
            DocumentBudget(
                document_id=r.doc.id,
                name=r.doc.name,
                kind=r.doc.kind,
                chars=len(r.doc.extracted.text),
                tokens=r.tokens,
                truncated=_cut_description(r),
                view=r.view.stats() if r.view else None,
                filtered=_filter_description(r.doc),
            )
            for r in rendered
        ],
        truncated=any(r.kept < len(r.units) for r in rendered),
        neutralized_markup=defused_total,
    )
    user = "<documents>\n" + "".join(r.text() for r in rendered) + "</documents>\n\n" + task
    packed = [replace(r.doc, view_lines=r.view.shown) if r.view else r.doc for r in rendered]
    return PackedPrompt(system, user, manifest, packed, questions, job_type)


def _compress_with(counter: TokenCounter) -> Callable[[list[_RenderedDoc], int], int]:
    return lambda docs, over: _compress(docs, over, counter)


def _filter_description(doc: CorpusDocument) -> dict[str, int] | None:
    if doc.keep is None:
        return None
    return {"kept_lines": sum(doc.keep), "total_lines": doc.extracted.line_count}


def overflow_error(budget: Budget, total: int, margin: int, instructions: int, docs: int) -> ContextOverflow:
    available = budget.window - budget.reserved_output
    return ContextOverflow(
        f"The documents need about {total:,} tokens (+{margin:,} safety margin) but {budget.model} has "
        f"{available:,} input tokens left after reserving {budget.reserved_output:,} for the output "
        f"(window {budget.window:,}). Choose fewer documents, a larger-window model, or options.overflow.",
        details={
            "model": budget.model,
            "window": budget.window,
            "reserved_output": budget.reserved_output,
            "prompt_tokens": total,
            "document_tokens": docs,
            "instruction_tokens": instructions,
            "safety_margin": margin,
            "available": available,
            "over_by": total + margin - available,
        },
    )


def precheck(document_tokens: list[int], budget: Budget, expected_error: float) -> None:
    """Cheap check at submit time from stored per-document counts; the worker packs exactly later."""
    docs = sum(document_tokens)
    total = docs + 600 + 40 * len(document_tokens)  # instructions and frames, roughly
    margin = math.ceil(total * expected_error)
    if total + margin > budget.window - budget.reserved_output:
        raise overflow_error(budget, total, margin, 600, docs)
