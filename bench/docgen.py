"""Benchmark inputs, generated on the fly: a long contract PDF and DOCX, prose text, synthetic logs.

The contract reuses the clauses of `sample_docs/contract_text.py`, repeated as numbered schedules and
set densely (9 pt, narrow margins: about 4.5 KB of text per A4 page, like the contract measured in
/work/shared/reference/performance.md). Logs are seeded and realistic enough for the extractor and the
token estimator (timestamps, levels, services, ids, key=value pairs, the odd stack trace).
"""

from __future__ import annotations

import gzip
import math
import random
import shutil
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from bench._common import ROOT

sys.path.insert(0, str(ROOT / "sample_docs"))
import contract_text as ct  # noqa: E402  (sample_docs is not a package)


def _contract_paragraphs(copies: int) -> Iterator[tuple[str, str]]:
    """(style, text) pairs: the contract `copies` times, each copy renumbered as one schedule."""
    yield "title", ct.TITLE
    for text in ct.PREAMBLE:
        yield "body", text
    for copy in range(1, copies + 1):
        yield "h1", f"Schedule {copy} - Terms of Statement of Work {copy}"
        for number, title, paragraphs in ct.SECTIONS:
            yield "h2", f"{copy}.{number}. {title}"
            for text in paragraphs:
                yield "body", f"{copy}.{text}" if text[:1].isdigit() else text
    for text in ct.SIGNATURES:
        yield "body", text


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _build_pdf(path: Path, copies: int) -> int:
    from pypdf import PdfReader
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table

    rl_config.invariant = 1
    styles = getSampleStyleSheet()
    body = ParagraphStyle("dense", parent=styles["BodyText"], fontSize=9, leading=10.5, spaceAfter=2)
    by_style = {"title": styles["Title"], "h1": styles["Heading1"], "h2": styles["Heading3"], "body": body}
    story: list[object] = [
        Paragraph(_xml(text), by_style[style]) for style, text in _contract_paragraphs(copies)
    ]
    story.append(Table(ct.FEE_TABLE))
    margin = 1.5 * cm
    SimpleDocTemplate(
        str(path), pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=margin, bottomMargin=margin
    ).build(story)
    return len(PdfReader(path).pages)


def make_contract_pdf(path: Path, pages: int) -> int:
    """A contract PDF of about `pages` pages (calibrated from one copy); returns the real page count."""
    per_copy = _build_pdf(path, 2) / 2
    copies = max(1, math.ceil(pages / per_copy))
    built = _build_pdf(path, copies)
    if abs(built - pages) > 0.03 * pages:  # the title page and the tail skew small calibrations
        built = _build_pdf(path, max(1, round(copies * pages / built)))
    return built


def make_contract_docx(path: Path, copies: int, tables: int = 4) -> Path:
    """A contract DOCX: `copies` schedules of the sample contract, a page break and a fee table every so often."""
    import docx

    document = docx.Document()
    every = max(1, copies // tables)
    for style, text in _contract_paragraphs(copies):
        if style == "title":
            document.add_heading(text, level=0)
        elif style == "h1":
            document.add_page_break()  # type: ignore[no-untyped-call]
            document.add_heading(text, level=1)
            if text.startswith("Schedule ") and int(text.split()[1]) % every == 0:
                rows = ct.FEE_TABLE
                table = document.add_table(rows=len(rows), cols=len(rows[0]))
                for r, row in enumerate(rows):
                    for c, cell in enumerate(row):
                        table.cell(r, c).text = cell
        elif style == "h2":
            document.add_heading(text, level=2)
        else:
            document.add_paragraph(text)
    document.save(str(path))
    return path


def make_prose(path: Path, megabytes: float) -> Path:
    """Plain text: the contract's paragraphs repeated, one per line, up to `megabytes` MB."""
    block = "\n\n".join(text for _, text in _contract_paragraphs(20)).encode() + b"\n\n"
    _write_repeated(path, block, int(megabytes * 1e6))
    return path


def _write_repeated(path: Path, block: bytes, size: int) -> None:
    with path.open("wb") as fh:
        written = 0
        while written < size:
            piece = block[: size - written]
            fh.write(piece)
            written += len(piece)


_SERVICES = ["api-gateway", "payments", "ledger", "auth", "search", "notifier", "scheduler", "cache"]
_LEVELS = ["INFO"] * 14 + ["DEBUG"] * 4 + ["WARN"] * 2 + ["ERROR"]
_MESSAGES = [
    "request completed method={m} path=/v1/{r}/{i} status={s} duration_ms={d}",
    "cache miss key=user:{i}:profile ttl=300",
    "connection pool stats active={a} idle={b} waiting=0",
    "payment {i} authorised amount={d}.{a:02d} EUR merchant=m-{b}",
    "retrying upstream call attempt={a} backoff_ms={d} upstream=10.0.{a}.{b}:8443",
    "user {i} logged in from 192.168.{a}.{b} session=s{d}",
    "job {i} finished in {d} ms rows={b}",
    "slow query took {d} ms: SELECT * FROM orders WHERE customer_id = {i}",
]
_TRACE = (
    "Traceback (most recent call last):\n"
    '  File "/srv/app/handlers.py", line 212, in handle\n'
    "    result = upstream.call(request)\n"
    "TimeoutError: upstream did not answer within 30 s\n"
)


def log_lines(seed: int = 7) -> Iterator[str]:
    """An endless seeded stream of log lines (each ending in a newline)."""
    rng = random.Random(seed)
    clock = datetime(2026, 3, 4, 0, 0, 0)
    while True:
        clock += timedelta(milliseconds=rng.randint(1, 40))
        level = rng.choice(_LEVELS)
        message = rng.choice(_MESSAGES).format(
            m=rng.choice(("GET", "POST", "PUT")),
            r=rng.choice(("orders", "users", "invoices")),
            i=rng.randint(1, 10**7),
            s=rng.choice((200, 200, 200, 201, 404, 500)),
            d=rng.randint(1, 5000),
            a=rng.randint(0, 99),
            b=rng.randint(0, 255),
        )
        stamp = clock.strftime("%Y-%m-%dT%H:%M:%S.") + f"{clock.microsecond // 1000:03d}Z"
        yield f"{stamp} {level:5} [{rng.choice(_SERVICES)}] {message}\n"
        if level == "ERROR" and rng.random() < 0.3:
            yield _TRACE


def make_log(path: Path, megabytes: float, seed: int = 7) -> Path:
    """A plain log of `megabytes` MB. The first 8 MB are generated, then repeated (generation is slow
    in Python and repetition does not change the extractor's work per byte)."""
    size = int(megabytes * 1e6)
    head: list[str] = []
    total = 0
    for line in log_lines(seed):
        head.append(line)
        total += len(line)
        if total >= min(size, 8_000_000):
            break
    _write_repeated(path, "".join(head).encode(), size)
    return path


def gzip_file(source: Path, target: Path, level: int = 6) -> Path:
    with source.open("rb") as src, gzip.open(target, "wb", compresslevel=level) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return target
