"""The block miner (`service.logs.member`) against the line-by-line reference: events, templates, times."""

from __future__ import annotations

import errno
import math
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.logdata import FORMAT_NAMES, generate
from service.logs import TemplateMiner, iter_events, learn_header
from service.logs.member import RANKS, MemberMiner, mine_lines
from service.logtable import epoch, level_rank


def _reference(lines: list[str]) -> tuple[list[tuple[str, int, float, int]], dict[str, int]]:
    """Per line (pattern, level rank, epoch, event start) and events per pattern, one event at a time."""
    header = learn_header(lines[:500], None, 500)
    miner = TemplateMiner(lines[:500])
    cols: list[tuple[int, int, float, int]] = []
    for ev in iter_events(lines, header.detector):
        tid = miner.add(ev.first_line, ev.first_text, ev.timestamp, ev.level)
        for n in range(ev.first_line, ev.last_line + 1):
            cols.append((tid, level_rank(ev.level), epoch(ev.timestamp), int(n == ev.first_line)))
    patterns = {t.id: t.pattern for t in miner.templates()}
    per_line = [(patterns[miner.resolve(t)], r, ts, s) for t, r, ts, s in cols]
    events: dict[str, int] = {}
    for pattern, _, _, start in per_line:
        events[pattern] = events.get(pattern, 0) + start
    return per_line, events


def _mined(lines: list[str], block: int) -> tuple[list[tuple[str, int, float, int]], dict[str, int]]:
    miner = MemberMiner(lines[:500])
    cols: list[tuple[int, int, float, int]] = []
    for i in range(0, len(lines), block):
        b = miner.feed(lines[i : i + block])
        cols.extend(zip(b.template, b.level, b.ts, b.starts, strict=True))
    mined = miner.finish()
    patterns = {t.id: t.pattern for t in mined.templates}
    per_line = [(patterns[mined.resolve[t]], RANKS[lvl], ts, s) for t, lvl, ts, s in cols]
    return per_line, {t.pattern: t.count for t in mined.templates}


def _same(a: tuple[str, int, float, int], b: tuple[str, int, float, int]) -> bool:
    return a[:2] == b[:2] and a[3] == b[3] and (a[2] == b[2] or (math.isnan(a[2]) and math.isnan(b[2])))


def _mixed_lines() -> list[str]:
    rng = random.Random(7)
    out = ["banner without a time", "second banner line"]
    for i in range(3000):
        ms = rng.randrange(1000)
        month = 13 if i % 97 == 0 else 1 + i % 12  # an impossible month: not a timestamp, a continuation
        second = 60 if i % 89 == 0 else (i * 7) % 60  # a leap second: not a valid time either
        out.append(
            f"2026-{month:02d}-0{1 + i % 9} 10:{i % 60:02d}:{second:02d}.{ms:03d} ERROR job {i} failed"
        )
        if i % 13 == 0:
            out.append(f"2026-{month:02d}-0{1 + i % 9} 11:{i % 60:02d}:{second:02d} INFO job {i} retried")
        if i % 5 == 0:
            out += ["Traceback (most recent call last):", f'  File "app.py", line {i}, in run']
        if i % 11 == 0:
            out.append(f"2026-03-04T10:00:{i % 60:02d}+02:00 WARN disk {i}% full\r")
    return out


CASES = {name: generate(name, 4000).lines for name in FORMAT_NAMES}
CASES["continuations, bad months, zones, CR"] = _mixed_lines()
CASES["no timestamps"] = [f"worker {i % 7} handled request {i}" for i in range(2000)]


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("block", [1, 613, 8192])
def test_block_miner_matches_the_line_by_line_reference(name: str, block: int) -> None:
    lines = CASES[name]
    ref, ref_events = _reference(lines)
    got, events = _mined(lines, block)
    assert len(got) == len(ref) == len(lines)
    wrong = [i for i, (a, b) in enumerate(zip(ref, got, strict=True)) if not _same(a, b)]
    assert not wrong, [(i + 1, lines[i], ref[i], got[i]) for i in wrong[:3]]
    assert events == ref_events  # each template's count is its number of events


def test_summary_totals_and_times() -> None:
    lines = _mixed_lines()
    mined = mine_lines(lines)
    assert mined.lines == len(lines)
    starts = sum(1 for a in _reference(lines)[0] if a[3])
    assert mined.events == starts == sum(t.count for t in mined.templates)
    # Lines 3-4 have month 13, so the first time is line 7's, kept as an aware time like the log's.
    assert mined.first_ts == datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
    assert mined.levels["ERROR"] > 2000 and mined.levels["WARN"] > 200
    error = next(t for t in mined.templates if t.pattern.startswith("job"))
    assert error.first_line == 8 and error.levels == {"ERROR": error.count}


def test_a_failing_mining_process_is_reported_as_what_failed(tmp_path: Path) -> None:
    from service.extract import logmine

    log = tmp_path / "big.log"
    log.write_text("2026-01-01 10:00:00 INFO hello\n" * 10)
    original = logmine.PARALLEL_MIN_BYTES
    logmine.PARALLEL_MIN_BYTES = 1  # fork even for this small file
    try:
        scratch = tmp_path / "scratch"
        mining = logmine.MiningPass(log, scratch)
        assert mining.result().lines == 10  # the forked pass works
        (scratch / "tpl").unlink()
        (scratch / "tpl").mkdir()  # the next pass cannot create its column file
        with pytest.raises(OSError) as failed:
            logmine.MiningPass(log, scratch).result()
        assert failed.value.errno == errno.EISDIR and "log mining process" in str(failed.value)
    finally:
        logmine.PARALLEL_MIN_BYTES = original


def test_overlapped_mining_of_archive_members_stores_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tarfile

    from service.config import Settings
    from service.extract import logmine, logstore

    archive = tmp_path / "logs.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for i, name in enumerate(("hdfs", "openssh", "python_logging")):
            member = tmp_path / f"{name}.log"
            member.write_text("\n".join(generate(name, 3000, seed=i).lines) + "\n")
            tf.add(member, arcname=f"svc{i}/{name}.log")
    stored = {}
    started_early: list[Path] = []
    original_pass = logmine.MiningPass

    def recording_pass(path: Path, scratch: Path) -> logmine.MiningPass:
        if scratch.name.startswith("early"):
            started_early.append(path)
        return original_pass(path, scratch)

    monkeypatch.setattr(logstore, "MiningPass", recording_pass)
    for label, threshold in (("inline", 1 << 40), ("forked", 1)):  # forked: every member, overlapped
        monkeypatch.setattr(logmine, "PARALLEL_MIN_BYTES", threshold)
        work = tmp_path / label
        work.mkdir()
        result = logstore.ingest_log(archive, Settings().limits, work)
        assert not (work / "mining").exists()
        stored[label] = (result, {p.name: p.read_bytes() for p in sorted(work.iterdir())})
    assert stored["forked"] == stored["inline"]
    assert stored["inline"][0]["lines"] == 9000
    assert started_early  # a member was mined while the archive was still being decoded
