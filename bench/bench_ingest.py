"""Log archive ingest and packing at scale.

1. Ingest: a .tar.gz of several multi-service logs (default ~500 MB of log text, --gb 2 for 2 GB) is
   extracted by the real isolated extractor (child process, text + template summary), timed against a
   plain read + gunzip of the same bytes; prints MB/s of both, their ratio and the child's peak RSS.
2. Pack: a synthetic archive of --pack-lines lines (default 1M; --pack-lines 10000000 for the issue's
   10M) is packed into the 1M-token window of MiniMax-M1 with overflow=compress; prints the manifest.

Run: .venv/bin/python bench/bench_ingest.py [--mb 500 | --gb 2] [--pack-lines N] [--skip-ingest]
"""

from __future__ import annotations

import argparse
import gzip
import io
import resource
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import banner, print_table, run_main, temp_dir  # noqa: E402
from bench.logdata import multi_service_stream  # noqa: E402
from service.config import LimitSettings  # noqa: E402
from service.extract import extract_isolated  # noqa: E402
from service.models import CorpusDocument, ExtractedText  # noqa: E402
from service.pack import Budget, pack  # noqa: E402
from service.tokens import make_counter  # noqa: E402

SERVICES = 4


def write_archive(path: Path, total_bytes: int) -> int:
    """A .tar.gz of SERVICES logs of about total_bytes together; returns the line count."""
    lines = 0
    with tarfile.open(path, "w:gz", compresslevel=6) as tf:
        for s in range(SERVICES):
            buf = io.BytesIO()
            for line in multi_service_stream(10**9, seed=s):
                buf.write(line.encode() + b"\n")
                lines += 1
                if buf.tell() >= total_bytes // SERVICES:
                    break
            info = tarfile.TarInfo(f"service{s}/app.log")
            info.size = buf.tell()
            buf.seek(0)
            tf.addfile(info, buf)
    return lines


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
        limits = LimitSettings(
            max_extracted_chars=10**10,
            max_decompressed_bytes=10**11,
            extract_timeout_s=3600,
            extract_memory_mb=16384,
        )
        start = time.perf_counter()
        ex = extract_isolated(path, "log", limits)
        took = time.perf_counter() - start
        child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        mb = raw_bytes / 1e6
        print_table(
            ["lines", "MB", "gunzip+read MB/s", "ingest MB/s", "ratio", "child peak RSS MB", "templates"],
            [
                [
                    lines,
                    round(mb),
                    round(mb / raw_s, 1),
                    round(mb / took, 1),
                    f"{raw_s / took:.2f}",
                    round(child_rss),
                    sum(len(f["templates"]) for f in (ex.log_summary or {}).get("files", [])),
                ]
            ],
        )


def pack_big(n_lines: int) -> None:
    banner(f"pack: {n_lines:,} lines into MiniMax-M1's 1M window (overflow=compress)")
    per = n_lines // SERVICES
    parts, files, line_start, char_start = [], [], 1, 0
    for s in range(SERVICES):
        text = "\n".join(multi_service_stream(per, seed=s)) + "\n"
        files.append(
            {
                "path": f"service{s}/app.log",
                "char_start": char_start,
                "line_start": line_start,
                "lines": per,
                "bytes": len(text),
            }
        )
        parts.append(text)
        char_start += len(text)
        line_start += per
    ex = ExtractedText("".join(parts), "log", meta={"files": files})
    parts.clear()
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
    print_table(
        ["lines", "pack s", "total tokens", "window", "verbatim", "template only", "dropped", "templates"],
        [
            [
                n_lines,
                round(took, 1),
                m.total_tokens,
                m.window,
                view.get("verbatim_lines"),
                view.get("template_only_lines"),
                view.get("dropped_lines"),
                view.get("templates"),
            ]
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=500, help="MB of log text in the ingest archive")
    parser.add_argument("--gb", type=float, default=None, help="GB of log text (overrides --mb)")
    parser.add_argument("--pack-lines", type=int, default=1_000_000)
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    if not args.skip_ingest:
        ingest(int(args.gb * 1024) if args.gb else args.mb)
    pack_big(args.pack_lines)


if __name__ == "__main__":
    run_main(main)
