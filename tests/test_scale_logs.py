"""At scale: a synthetic multi-service log archive streamed into the store by the isolated child, then
packed with overflow=compress into MiniMax-M1's 1M window and answered by the offline engine.

The size is the largest that keeps the whole module under ~60 s on 2 busy cores (see README "Logs and
archives"): ingest mines every line in Python at ~20-30k lines/s, so 1M lines would take ~40-50 s alone.
Small cases check that the streamed store (text, line index, meta, summary, packed prompts through the
stored unit counts and table) is identical to in-process extraction.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from service.blobs import BlobStore
from service.config import LimitSettings
from service.extract import extract, ingest_isolated
from service.llm.base import NullHooks
from service.llm.offline import OfflineEngine
from service.logtable import ERROR, LogTable
from service.models import CorpusDocument, JobOptions, JobSpec, PackedPrompt
from service.pack import Budget, pack
from service.tokens import make_counter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from logdata import burst_span, multi_service_stream  # noqa: E402

SERVICES = 4
LINES = 500_000  # whole archive; each member has its own error burst at 49-51% of its lines
BURST = (0.49, 0.51)
SHA = "5" * 64
_INGEST = f"""
import json, resource, sys, time
from pathlib import Path
from service.blobs import BlobStore
from service.config import LimitSettings
from service.extract import ingest_isolated
store, start = BlobStore(Path(sys.argv[2])), time.perf_counter()
result = ingest_isolated(Path(sys.argv[1]), LimitSettings(extract_timeout_s=300), store.root / "tmp" / "w")
store.adopt_log("{SHA}", store.root / "tmp" / "w", result)
result["took"] = time.perf_counter() - start
result["child_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(result))
"""
QUESTION = "What errors occurred and when did they start?"


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[CorpusDocument, dict[str, object], float]:
    tmp = tmp_path_factory.mktemp("scale")
    archive = tmp / "logs.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tf:
        for s in range(SERVICES):
            member = tmp / f"service{s}.log"
            with member.open("w", encoding="utf-8") as out:
                out.writelines(
                    line + "\n" for line in multi_service_stream(LINES // SERVICES, seed=s, burst=BURST)
                )
            tf.add(member, arcname=f"service{s}/app.log")
            member.unlink()
    store = BlobStore(tmp / "store")
    # In a process of its own, so RUSAGE_CHILDREN is the extraction child's peak alone.
    run = subprocess.run(
        [sys.executable, "-c", _INGEST, str(archive), str(store.root)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result = json.loads(run.stdout.strip().splitlines()[-1])
    took = float(result.pop("took"))
    doc = CorpusDocument("doc_scale", "logs.tar.gz", "log", store.load_text(SHA))
    return doc, result, took


@pytest.fixture(scope="module")
def packed(ingested: tuple[CorpusDocument, dict[str, object], float]) -> PackedPrompt:
    doc, _, _ = ingested
    counter = make_counter(None, None, None, "MiniMax-M1")
    return pack([doc], "qa", [QUESTION], Budget("MiniMax-M1", 1_000_000, 8192), counter, None)


def test_ingest_streams_everything_into_the_store_in_flat_memory(
    ingested: tuple[CorpusDocument, dict[str, object], float],
) -> None:
    doc, result, took = ingested
    ex = doc.extracted
    assert result["lines"] == ex.line_count == LINES
    assert result["chars"] == len(ex.text)
    assert [f["path"] for f in ex.meta["files"]] == [f"service{s}/app.log" for s in range(SERVICES)]
    assert ex.unit_tokens is not None and len(ex.unit_tokens["units"]) == LINES // 500
    assert result["tokens"] == sum(ex.unit_tokens["units"]) > LINES * 20
    # The child holds one 500-line unit and 64K-entry buffers, not the ~45 MB text (one str was ~3x it).
    assert float(str(result["child_mb"])) < 150, result["child_mb"]
    assert took < 45, took


def test_archive_far_over_the_window_is_packed_as_a_faithful_view(
    ingested: tuple[CorpusDocument, dict[str, object], float], packed: PackedPrompt
) -> None:
    doc = ingested[0]
    m = packed.manifest
    assert doc.extracted.unit_tokens is not None and sum(doc.extracted.unit_tokens["units"]) > 5 * m.window
    assert m.overflow_policy == "compress" and m.total_tokens + m.safety_margin <= m.window - 8192
    view = m.documents[0].view
    assert view is not None and view["dropped_lines"] == 0
    assert view["verbatim_lines"] + view["template_only_lines"] == LINES
    shown = packed.documents[0].view_lines
    assert shown is not None and len(shown) == view["verbatim_lines"]
    table = doc.table
    assert isinstance(table, LogTable) and view["templates"] == len(table.rows) > 20
    for row in table.rows:  # every template in the table, each with a citable first line
        assert row.pattern in packed.user and row.first_line in shown
    for f in doc.extracted.meta["files"]:  # every error line of each member's burst
        first = f["line_start"]
        burst_errors = [
            first + k for k in burst_span(f["lines"], BURST) if table.level[first + k - 1] == ERROR
        ]
        assert len(burst_errors) > 1_000
        assert [line for line in burst_errors if line not in shown] == []
    assert view["burst_error_lines_verbatim"] == view["burst_error_lines"] >= SERVICES * 1_000
    assert sum(view["tiers"].values()) == view["verbatim_lines"]
    assert view["error_lines_verbatim"] == sum(1 for line in shown if table.level[line - 1] == ERROR)
    lines = doc.extracted.text.split("\n")
    member = doc.extracted.meta["files"][2]
    sample = member["line_start"] + int(member["lines"] * 0.5)
    sample = min(line for line in shown if line >= sample)
    rel = sample - member["line_start"] + 1
    assert f"{rel}| {lines[sample - 1]}\n" in packed.user  # member-relative number, exact text


def test_offline_engine_answers_from_the_view(packed: PackedPrompt) -> None:
    spec = JobSpec(type="qa", document_ids=["doc_scale"], options=JobOptions())
    output = OfflineEngine().run(packed, spec, NullHooks())
    answer = output.answers[0]
    assert answer.citations and output.facts["bursts"]
    doc = packed.documents[0]
    shown = doc.view_lines
    assert shown is not None
    starts = {f["path"]: f["line_start"] for f in doc.extracted.meta["files"]}
    lines = doc.extracted.text.split("\n")
    shown_errors = 0
    for cite in answer.citations:  # exact quotes of lines the view showed verbatim, and only those
        assert cite.line_start is not None
        line = cite.line_start + (starts[cite.file] - 1 if cite.file else 0)
        assert cite.quote in lines[line - 1]
        assert line in shown, (line, cite.quote)
        shown_errors += " ERROR " in cite.quote or " CRITICAL " in cite.quote
    assert shown_errors >= 3


def _small_cases() -> dict[str, bytes]:
    log = "".join(
        f"2026-03-04 10:00:{i % 60:02d},000 - svc - {'ERROR' if i % 7 == 0 else 'INFO'} - thing {i} happened\n"
        + ("  at frame\n" if i % 5 == 0 else "")
        for i in range(3000)
    )
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w:gz") as tf:
        members = [
            ("b/z.log", log.encode()),
            ("a/y.log", b"no newline at end"),
            ("bin.log", bytes(range(256)) * 10),
            ("c.log.gz", gzip.compress(log[:5000].encode())),
        ]
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return {
        "late-cp1252.log": (log + "caf\xe9 <document> x\n").encode("cp1252"),  # decoder restarts
        "no-final-newline.log": log.rstrip("\n").encode(),
        "mixed.tar.gz": tar.getvalue(),
    }


@pytest.mark.parametrize("name", sorted(_small_cases()))
def test_streamed_ingest_equals_in_process_extraction(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(_small_cases()[name])
    limits = LimitSettings()
    reference = extract(path, "log", limits)
    store = BlobStore(tmp_path / "store")
    result = ingest_isolated(path, limits, store.root / "tmp" / "w")
    store.adopt_log(SHA, store.root / "tmp" / "w", result)
    streamed = store.load_text(SHA)
    assert streamed.text == reference.text and streamed.line_starts == reference.line_starts
    assert streamed.meta == reference.meta and result["lines"] == reference.line_count
    assert store.load_logsummary(SHA) == json.loads(json.dumps(reference.log_summary))
    counter = make_counter(None, None, None, "MiniMax-M1")
    for window in (10**7, 20_000):  # fits (stored unit counts) and compressed (stored table)
        a, b = (
            pack([CorpusDocument("d", name, "log", ex)], "qa", ["q"], Budget("M", window, 100), counter, None)
            for ex in (streamed, reference)
        )
        assert a.user == b.user and a.manifest == b.manifest
