"""Log archive ingest and packing at scale.

1. Ingest: a .tar.gz of several multi-service logs (default ~500 MB of log text, --gb 2 for 2 GB) goes
   through the real streaming path (`ingest_isolated`: the child writes text, line index, per-line table,
   unit token counts and the template summary; the parent renames them into a BlobStore), timed against
   a plain read + gunzip of the same bytes; prints MB/s of both, their ratio, the child's peak RSS and
   the parent's peak RSS growth during the ingest (VmHWM after resetting it via /proc/self/clear_refs).
2. Pack: a synthetic .tar.gz of --pack-lines lines (default 1M; --pack-lines 10000000 for the issue's
   10M) is ingested the same way, loaded from the store and packed into the 1M-token window of
   MiniMax-M1 with overflow=compress; prints the manifest, the time of `pack()` alone, how many templates
   the view represents (pattern listed and first line verbatim), how many error lines are verbatim, and
   how many of the error lines of the generator's bursts (`burst_span`, ground truth) are, with the view's
   lines per tier. `--burst-max-lines 0` gives the old burst that grows with the archive (4% of each member).

Run: .venv/bin/python bench/bench_ingest.py [--mb 500 | --gb 2] [--pack-lines N] [--skip-ingest]
     [--burst-max-lines N]
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import banner, print_table, run_main, temp_dir, vm_hwm_mb  # noqa: E402
from bench.logdata import BURST_MAX_LINES, burst_span, multi_service_stream  # noqa: E402
from service.blobs import BlobStore  # noqa: E402
from service.config import LimitSettings  # noqa: E402
from service.extract import ingest_isolated  # noqa: E402
from service.logtable import ERROR, LogTable  # noqa: E402
from service.models import CorpusDocument, ExtractedText  # noqa: E402
from service.pack import Budget, pack  # noqa: E402
from service.tokens import make_counter  # noqa: E402

SERVICES = 4
LIMITS = LimitSettings(
    max_extracted_chars=10**10,
    max_decompressed_bytes=10**11,
    max_archive_member_bytes=10**11,
    extract_timeout_s=3600,
    extract_memory_mb=16384,
)


def write_archive(
    path: Path, total_bytes: int = 0, total_lines: int = 0, burst_max_lines: int | None = BURST_MAX_LINES
) -> int:
    """A .tar.gz of SERVICES logs of about total_bytes (or exactly total_lines) together; returns lines.

    Each member is generated into a scratch file first (tar needs its size up front), so the generator's
    memory stays small whatever the size.
    """
    lines = 0
    scratch = path.with_suffix(".member")
    with tarfile.open(path, "w:gz", compresslevel=6) as tf:
        for s in range(SERVICES):
            with scratch.open("wb") as out:
                per = total_lines // SERVICES if total_lines else 10**9
                for line in multi_service_stream(per, seed=s, burst_max_lines=burst_max_lines):
                    out.write(line.encode() + b"\n")
                    lines += 1
                    if total_bytes and out.tell() >= total_bytes // SERVICES:
                        break
            tf.add(scratch, arcname=f"service{s}/app.log")
    scratch.unlink()
    return lines


def reset_peak() -> float:
    """Reset this process's VmHWM to its current RSS (Linux >= 4.0); returns the RSS in MB."""
    Path("/proc/self/clear_refs").write_text("5")
    return vm_hwm_mb(os.getpid())


def ingest_into(store: BlobStore, path: Path, limits: LimitSettings) -> dict[str, object]:
    """The pipeline's log path: the child streams into tmp/, the parent renames into the store."""
    result = ingest_isolated(path, limits, store.root / "tmp" / "ingest")
    store.adopt_log("0" * 64, store.root / "tmp" / "ingest", result)
    return result


def raw_read_seconds(path: Path) -> tuple[float, int]:
    start, n = time.perf_counter(), 0
    with gzip.open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            n += len(chunk)
    return time.perf_counter() - start, n


def ingest(total_mb: int) -> None:
    banner(f"ingest: .tar.gz of ~{total_mb} MB of logs")
    with temp_dir("longdoc-ingest-") as tmp:
        path = tmp / "logs.tar.gz"
        lines = write_archive(path, total_mb * 1024 * 1024)
        raw_s, raw_bytes = raw_read_seconds(path)
        store = BlobStore(tmp / "store")
        before = reset_peak()
        start = time.perf_counter()
        ingest_into(store, path, LIMITS)
        took = time.perf_counter() - start
        parent_growth = vm_hwm_mb(os.getpid()) - before
        child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        summary = store.load_logsummary("0" * 64) or {}
        mb = raw_bytes / 1e6
        print_table(
            [
                "lines",
                "MB",
                "gunzip+read MB/s",
                "ingest MB/s",
                "ratio",
                "child peak RSS MB",
                "parent peak growth MB",
                "templates",
            ],
            [
                [
                    lines,
                    round(mb),
                    round(mb / raw_s, 1),
                    round(mb / took, 1),
                    f"{raw_s / took:.3f}",
                    round(child_rss),
                    round(parent_growth, 1),
                    sum(len(f["templates"]) for f in summary.get("files", [])),
                ]
            ],
        )


def pack_big(n_lines: int, burst_max_lines: int | None) -> None:
    banner(f"pack: {n_lines:,} lines into MiniMax-M1's 1M window (overflow=compress)")
    with temp_dir("longdoc-pack-") as tmp:
        path = tmp / "big.tar.gz"
        write_archive(path, total_lines=n_lines, burst_max_lines=burst_max_lines)
        store = BlobStore(tmp / "store")
        start = time.perf_counter()
        ingest_into(store, path, LIMITS)
        ingest_s = time.perf_counter() - start
        start = time.perf_counter()
        ex: ExtractedText = store.load_text("0" * 64)
        load_s = time.perf_counter() - start
        doc = CorpusDocument("doc_big", "big.tar.gz", "log", ex)
        start = time.perf_counter()
        prompt = pack(
            [doc],
            "qa",
            ["what went wrong?"],
            Budget("MiniMax-M1", 1_000_000, 8192),
            make_counter(None, None, None, "MiniMax-M1"),
            None,
        )
        took = time.perf_counter() - start
    m = prompt.manifest
    view = m.documents[0].view or {}
    shown = prompt.documents[0].view_lines or set()
    table = doc.table
    assert isinstance(table, LogTable)
    represented = sum(1 for row in table.rows if row.pattern in prompt.user and row.first_line in shown)
    errors = [n for n in range(1, table.lines + 1) if table.level[n - 1] == ERROR]
    in_burst = [
        f["line_start"] + k
        for f in ex.meta["files"]
        for k in burst_span(f["lines"], max_lines=burst_max_lines)
        if table.level[f["line_start"] + k - 1] == ERROR
    ]
    print_table(
        [
            "lines",
            "ingest s",
            "load s",
            "pack s",
            "total tokens",
            "window",
            "verbatim",
            "template only",
            "dropped",
            "templates shown/all",
            "error lines verbatim/all",
            "burst error lines verbatim/all",
        ],
        [
            [
                n_lines,
                round(ingest_s, 1),
                round(load_s, 2),
                round(took, 2),
                m.total_tokens,
                m.window,
                view.get("verbatim_lines"),
                view.get("template_only_lines"),
                view.get("dropped_lines"),
                f"{represented}/{len(table.rows)}",
                f"{sum(1 for n in errors if n in shown)}/{len(errors)}",
                f"{sum(1 for n in in_burst if n in shown)}/{len(in_burst)}",
            ]
        ],
    )
    print(f"bursts found: {view.get('bursts')}; verbatim lines per tier: {view.get('tiers')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=500, help="MB of log text in the ingest archive")
    parser.add_argument("--gb", type=float, default=None, help="GB of log text (overrides --mb)")
    parser.add_argument("--pack-lines", type=int, default=1_000_000, help="0: no pack step")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument(
        "--burst-max-lines",
        type=int,
        default=BURST_MAX_LINES,
        help="longest error burst per member in the pack archive (0: 4%% of the member, growing with it)",
    )
    args = parser.parse_args()
    if not args.skip_ingest:
        ingest(int(args.gb * 1024) if args.gb else args.mb)
    if args.pack_lines > 0:
        pack_big(args.pack_lines, args.burst_max_lines or None)


if __name__ == "__main__":
    run_main(main)
