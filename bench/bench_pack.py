"""Packing a ~1M-token corpus (a long contract PDF plus logs): where the time goes.

Run: .venv/bin/python bench/bench_pack.py [--tokens 1000000] [--pdf-pages 300] [--repeat 3]

The corpus is a contract PDF of --pdf-pages pages plus two logs (one plain, one gzipped) sized so the
whole corpus counts about --tokens tokens with the default counter. Stages, each timed on its own
(medians of --repeat runs):
- extraction: `service.extract.extract` per document, in this process;
- token counting: `TokenCounter.count` over each whole extracted text;
- pack: `service.pack.pack` (renders pages and line blocks, counts each unit, builds the prompt);
- pack, counting stubbed: the same with a len/4 counter, i.e. prompt assembly alone.
`pack` is run twice: into a window it fits (2M tokens), and with overflow=truncate into MiniMax-M1's
1,000,000-token window, which cuts log lines.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import docgen  # noqa: E402
from bench._common import banner, median, print_table, run_main, temp_dir  # noqa: E402
from service.config import LimitSettings  # noqa: E402
from service.extract import extract  # noqa: E402
from service.models import CorpusDocument, DocumentKind, ExtractedText  # noqa: E402
from service.pack import Budget, pack  # noqa: E402
from service.tokens import TokenCounter, make_counter  # noqa: E402

T = TypeVar("T")
MB = 1e6


@dataclass
class LenCounter:
    """Counting stubbed out: isolates the packer's own string work."""

    method: str = "bytes/4"
    expected_error: float = 0.10

    def count(self, text: str) -> int:
        return len(text) // 4 + 1


def timed(fn: Callable[[], T], repeat: int) -> tuple[T, float]:
    """Run `fn` `repeat` times; the last result and the median seconds."""
    times: list[float] = []
    result: T | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    assert result is not None
    return result, median(times)


def build_corpus(
    work: Path, tokens: int, pdf_pages: int, counter: TokenCounter
) -> list[tuple[str, DocumentKind, Path]]:
    """Write the contract and two logs that bring the corpus to about `tokens` tokens."""
    pdf = work / "contract.pdf"
    docgen.make_contract_pdf(pdf, pdf_pages)
    contract_tokens = counter.count(extract(pdf, "pdf", LimitSettings()).text)
    sample = docgen.make_log(work / "sample.log", 1)
    bytes_per_token = sample.stat().st_size / counter.count(sample.read_text())
    sample.unlink()
    log_mb = max(0.0, tokens - contract_tokens) * bytes_per_token / MB / 2
    plain = docgen.make_log(work / "api-gateway.log", log_mb, seed=1)
    gz_source = docgen.make_log(work / "payments.log", log_mb, seed=2)
    gz = docgen.gzip_file(gz_source, work / "payments.log.gz")
    gz_source.unlink()
    return [("contract.pdf", "pdf", pdf), ("api-gateway.log", "log", plain), ("payments.log.gz", "log", gz)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tokens", type=int, default=1_000_000, help="corpus size in (estimated) tokens")
    parser.add_argument("--pdf-pages", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    banner("bench_pack: packing a mixed corpus")
    counter = make_counter()
    with temp_dir("longdoc-bench-pack-") as work:
        started = time.perf_counter()
        files = build_corpus(work, args.tokens, args.pdf_pages, counter)
        print(f"corpus generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        run(files, counter, args.repeat)


def run(files: list[tuple[str, DocumentKind, Path]], counter: TokenCounter, repeat: int) -> None:
    limits = LimitSettings()
    docs: list[CorpusDocument] = []
    doc_rows: list[list[Any]] = []
    extract_s = count_s = 0.0
    for n, (name, kind, path) in enumerate(files):
        extracted, seconds = timed(lambda p=path, k=kind: extract(p, k, limits), repeat)  # type: ignore[misc]
        tokens, counting = timed(lambda t=extracted.text: counter.count(t), repeat)  # type: ignore[misc]
        extract_s += seconds
        count_s += counting
        docs.append(CorpusDocument(f"doc{n}", name, kind, extracted))
        doc_rows.append(_doc_row(name, path, extracted, tokens, seconds, counting))
    chars = sum(len(d.extracted.text) for d in docs)
    tokens_total = sum(r[4] for r in doc_rows)
    doc_rows.append(
        [
            "total",
            "",
            sum(p.stat().st_size for *_, p in files) / MB,
            chars / MB,
            tokens_total,
            extract_s,
            count_s,
            chars / tokens_total,
        ]
    )
    print_table(
        ["document", "pages/lines", "file MB", "text MB", "tokens", "extract s", "count s", "chars/token"],
        doc_rows,
    )

    big = Budget("bench-2M", 2_000_000, 8192)
    prompt, pack_s = timed(lambda: pack(docs, "summarize", [], big, counter), repeat)
    _, assembly_s = timed(lambda: pack(docs, "summarize", [], big, LenCounter()), repeat)
    m1 = Budget("MiniMax-M1", 1_000_000, 8192)
    cut, truncate_s = timed(lambda: pack(docs, "summarize", [], m1, counter, overflow="truncate"), repeat)
    rows: list[list[Any]] = [
        ["extraction (3 documents)", extract_s, f"{chars / MB:.2f} MB of text"],
        ["token counting (whole texts)", count_s, f"{tokens_total / count_s / 1e6:.2f} M tokens/s"],
        [
            "pack (2M window, fits)",
            pack_s,
            f"{prompt.manifest.total_tokens:,} tokens, {len(prompt.user) / MB:.2f} MB prompt",
        ],
        ["  of which prompt assembly", assembly_s, "pack with a len/4 counter"],
        ["  of which counting (pack - assembly)", pack_s - assembly_s, "per page / 500-line block"],
        ["pack (1M window, truncate)", truncate_s, f"{cut.manifest.total_tokens:,} tokens kept"],
        [
            "total: extraction + pack",
            extract_s + pack_s,
            f"{tokens_total / (extract_s + pack_s) / 1e6:.2f} M tokens/s",
        ],
    ]
    print_table(["stage", "seconds", "notes"], rows)
    print(
        f"token method: {counter.method}; truncated: {cut.manifest.documents[1].truncated or cut.manifest.documents[2].truncated}"
    )


def _doc_row(
    name: str, path: Path, ex: ExtractedText, tokens: int, extract_s: float, count_s: float
) -> list[Any]:
    units = f"{ex.page_count} pages" if ex.page_starts else f"{ex.line_count:,} lines"
    return [
        name,
        units,
        path.stat().st_size / MB,
        len(ex.text) / MB,
        tokens,
        extract_s,
        count_s,
        len(ex.text) / tokens,
    ]


if __name__ == "__main__":
    run_main(main)
