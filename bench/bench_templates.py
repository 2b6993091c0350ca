"""Template-mining benchmark: grouping accuracy and throughput per synthetic log format.

Run: .venv/bin/python -m bench.bench_templates [--lines 2000] [--big 1000000]

GA is measured on `--lines` lines per format (2,000 like the Loghub-2k sets), throughput on
20,000 lines per format and on one `--big`-line multi-service log. The numbers are for our own
generator (bench/logdata.py), not for Loghub: they are not comparable one-to-one with Drain's
published 0.865 Loghub average. Throughput is lines per CPU second of this process (the
per-core figure; wall time on a shared machine says more about the neighbours).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable as a script, like the other benches

from bench.logdata import FORMAT_NAMES, generate, grouping_accuracy, multi_service_stream  # noqa: E402
from service.logs import TemplateMiner  # noqa: E402
from service.logs.member import mine_lines  # noqa: E402

SAMPLE = 500


def mine(lines: list[str]) -> tuple[TemplateMiner, list[int], float]:
    """Mine `lines`; return the miner, the final template id per line and the elapsed seconds."""
    start = time.process_time()
    miner = TemplateMiner(lines[:SAMPLE], reference_year=2026)
    add = miner.add
    ids = [add(n, line) for n, line in enumerate(lines, 1)]
    miner.templates()  # includes the final generalisation pass
    elapsed = time.process_time() - start
    return miner, [miner.resolve(i) for i in ids], elapsed


def ingest_speed(lines: list[str]) -> float:
    """Lines/s of the block miner the service's ingest uses (events, times, per-line columns, templates)."""
    start = time.process_time()
    mine_lines(lines, reference_year=2026)
    return len(lines) / (time.process_time() - start)


def run_formats(n_lines: int) -> float:
    """Print one row per format; return the average GA."""
    print(
        f"{'format':16} {'lines':>7} {'found':>6} {'true':>5} {'GA':>6} {'lines/s':>9} {'ingest lines/s':>15}"
    )
    total = 0.0
    for name in FORMAT_NAMES:
        log = generate(name, n_lines)
        miner, ids, _ = mine(log.lines)
        ga = grouping_accuracy(ids, log.labels)
        speed_log = generate(name, 20_000, seed=1)
        _, _, elapsed = mine(speed_log.lines)
        total += ga
        print(
            f"{name:16} {n_lines:7d} {len(miner):6d} {log.n_templates:5d} {ga:6.3f} "
            f"{len(speed_log.lines) / elapsed:9.0f} {ingest_speed(speed_log.lines):15.0f}"
        )
    average = total / len(FORMAT_NAMES)
    print(f"{'average GA':16} {average:.3f}")
    return average


def run_big(n_lines: int) -> None:
    """Throughput on one large mixed log (generated up front, not timed)."""
    lines = list(multi_service_stream(n_lines))
    miner, _, elapsed = mine(lines)
    print(
        f"multi-service: {n_lines} lines, {len(miner)} templates, {elapsed:.1f} s, {n_lines / elapsed:,.0f} lines/s"
        f" (the ingest's block miner: {ingest_speed(lines):,.0f} lines/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--big", type=int, default=1_000_000)
    args = parser.parse_args()
    run_formats(args.lines)
    run_big(args.big)


if __name__ == "__main__":
    main()
