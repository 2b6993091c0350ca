"""Extraction throughput and peak memory per format, in-process and isolated (subprocess).

Run: .venv/bin/python bench/bench_extract.py [--pdf-pages 300] [--docx-copies 100] [--text-mb 20]
     [--log-mb 100] [--repeat 3] [--only pdf,log]

Every measurement runs in a fresh Python process (this script re-invoked with --child), so peak RSS is
that case's alone:
- in-process: `service.extract.extract`; seconds around the call; peak = the process's VmHWM
  (interpreter + imports included; `base` is the peak after imports, before extracting).
- isolated: `service.extract.extract_isolated`; seconds include spawning the child interpreter,
  writing the text to a file and reading it back; peak = the extraction child's VmHWM, sampled from
  /proc every 5 ms (ru_maxrss is useless here: Linux carries the forking parent's peak across exec);
  `base` = the caller's own peak (it holds the text read back).
Times are medians of --repeat runs, peaks the maximum. A second table splits the fixed cost of one
isolated extraction: interpreter start and the imports of the child module.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import (  # noqa: E402
    banner,
    median,
    print_table,
    run_json,
    run_main,
    temp_dir,
    vm_hwm_mb,
)

MB = 1e6


class ChildPeak(threading.Thread):
    """Samples the VmHWM of this process's children until stopped; keeps the largest."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mb = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.005):
            for tid in Path("/proc/self/task").iterdir():
                for pid in (tid / "children").read_text().split():
                    with contextlib.suppress(OSError, RuntimeError):
                        self.peak_mb = max(self.peak_mb, vm_hwm_mb(int(pid)))


def child(mode: str, kind: str, path: Path) -> None:
    """Measure one extraction in this fresh process and print one JSON line."""
    from service.config import LimitSettings
    from service.extract import extract, extract_isolated

    limits = LimitSettings()
    base = vm_hwm_mb(os.getpid())
    watcher = ChildPeak()
    if mode == "in-process":  # no sampling thread here: it would compete for the GIL with the extractor
        start = time.perf_counter()
        result = extract(path, kind, limits)  # type: ignore[arg-type]
        seconds = time.perf_counter() - start
        peak = vm_hwm_mb(os.getpid())
    else:
        watcher.start()
        start = time.perf_counter()
        result = extract_isolated(path, kind, limits)  # type: ignore[arg-type]
        seconds = time.perf_counter() - start
        watcher.stop.set()
        watcher.join()
        peak = watcher.peak_mb
    out = {
        "seconds": seconds,
        "text_bytes": len(result.text.encode("utf-8", "surrogatepass")),
        "pages": result.page_count,
        "peak_mb": peak,
        "base_mb": base if mode == "in-process" else vm_hwm_mb(os.getpid()),
    }
    print(json.dumps(out))


def make_inputs(work: Path, args: argparse.Namespace) -> list[tuple[str, str, Path]]:
    """Generate the inputs; returns (label, kind, path) per case."""
    from bench import docgen

    wanted = set(args.only.split(",")) if args.only else None
    cases: list[tuple[str, str, Path]] = []

    def want(label: str) -> bool:
        return wanted is None or label.split("-")[0] in wanted or label in wanted

    started = time.perf_counter()
    if want("pdf"):
        docgen.make_contract_pdf(work / "contract.pdf", args.pdf_pages)
        cases.append(("pdf", "pdf", work / "contract.pdf"))
        docgen.make_contract_pdf(work / "contract50.pdf", 50)
        cases.append(("pdf-50", "pdf", work / "contract50.pdf"))
    if want("docx"):
        cases.append(("docx", "docx", docgen.make_contract_docx(work / "contract.docx", args.docx_copies)))
    if want("text"):
        cases.append(("text", "text", docgen.make_prose(work / "prose.txt", args.text_mb)))
    if want("log") or want("log.gz"):
        log = docgen.make_log(work / "app.log", args.log_mb)
        if want("log"):
            cases.append(("log", "log", log))
        if want("log.gz"):
            cases.append(("log.gz", "log", docgen.gzip_file(log, work / "app.log.gz")))
    if want("tiny"):
        tiny = work / "tiny.txt"
        tiny.write_text("A one-line document: the isolated row shows the pure spawn overhead.\n")
        cases.append(("tiny", "text", tiny))
    print(f"inputs generated in {time.perf_counter() - started:.1f} s in {work}", file=sys.stderr)
    return cases


def measure(label: str, kind: str, path: Path, mode: str, repeat: int) -> list[object]:
    runs = [
        run_json([sys.executable, __file__, "--child", mode, kind, str(path)], timeout_s=900)
        for _ in range(repeat)
    ]
    seconds = median([r["seconds"] for r in runs])
    file_mb = path.stat().st_size / MB
    text_mb = runs[0]["text_bytes"] / MB
    pages: int = runs[0]["pages"]
    return [
        label,
        mode,
        file_mb,
        text_mb,
        pages or "-",
        seconds,
        pages / seconds if pages else "-",
        text_mb / seconds,
        file_mb / seconds,
        max(r["peak_mb"] for r in runs),
        max(r["base_mb"] for r in runs),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pdf-pages", type=int, default=300)
    parser.add_argument("--docx-copies", type=int, default=100, help="contract copies (~12 KB text each)")
    parser.add_argument("--text-mb", type=float, default=20)
    parser.add_argument("--log-mb", type=float, default=100, help="size of the .log; .log.gz is it gzipped")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", help="comma-separated: pdf,docx,text,log,log.gz,tiny")
    parser.add_argument("--modes", default="in-process,isolated")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], Path(args.child[2]))
        return
    banner("bench_extract: extraction throughput and peak RSS")
    rows: list[list[Any]] = []
    with temp_dir("longdoc-bench-extract-") as work:
        for label, kind, path in make_inputs(work, args):
            for mode in args.modes.split(","):
                rows.append(measure(label, kind, path, mode, args.repeat))
                print(f"  done {label} {mode}", file=sys.stderr)
    headers = ["format", "mode", "file MB", "text MB", "pages", "s", "pages/s", "text MB/s", "file MB/s"]
    print_table([*headers, "peak RSS MB", "base MB"], rows)
    print_table(["spawn cost of the isolated child", "wall s", "CPU s"], spawn_costs(args.repeat))


SPAWN_CASES = [
    ("interpreter start (python -c pass)", "pass"),
    ("+ import service.extract.child", "import service.extract.child"),
    ("  of which pypdf", "import pypdf"),
    ("  of which docx (python-docx)", "import docx"),
    ("  of which service.config (pydantic, pydantic-settings, models)", "import service.config"),
]


def spawn_costs(repeat: int) -> list[list[object]]:
    """What a fresh extraction child pays before extracting anything (medians of `repeat` runs)."""
    rows: list[list[object]] = []
    for label, code in SPAWN_CASES:
        walls, cpus = [], []
        for _ in range(repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        rows.append([label, median(walls), median(cpus)])
    return rows


if __name__ == "__main__":
    run_main(main)
