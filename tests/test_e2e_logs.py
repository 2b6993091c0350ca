"""Logs through the real API + worker + offline engine: an over-window log is compressed by default,
job filters apply, and citations verify."""

from __future__ import annotations

from pathlib import Path

from service.client import LongdocClient


def _big_log(path: Path) -> Path:
    lines = []
    for i in range(20_000):
        level = "ERROR" if 9_000 <= i < 9_200 else "INFO"
        what = (
            f"db timeout after {i % 50}s on shard {i % 7}"
            if level == "ERROR"
            else f"request id={i} took {i % 97}ms"
        )
        lines.append(f"2026-01-01T00:{(i // 60) % 60:02d}:{i % 60:02d}Z {level} {what}\n")
    path.write_text("".join(lines))
    return path


def test_over_window_log_is_compressed_and_answered(api: LongdocClient, tmp_path: Path) -> None:
    doc = api.wait_document(api.upload(_big_log(tmp_path / "big.log"))["id"], 120)
    assert doc["status"] == "ready" and doc["tokens"] > 131_072
    job = api.wait_job(
        api.submit({"type": "qa", "document_ids": [doc["id"]], "model": "local", "question": "what failed?"})[
            "id"
        ],
        240,
    )
    assert job["status"] == "succeeded", job.get("error")
    view = job["result"]["manifest"]["documents"][0]["view"]
    assert view["dropped_lines"] == 0 and view["verbatim_lines"] + view["template_only_lines"] == 20_000
    citations = job["result"]["citations"]
    assert citations and all(c["status"] == "verified" for c in citations)


def test_level_filter_on_a_log_job(api: LongdocClient, tmp_path: Path) -> None:
    doc = api.wait_document(api.upload(_big_log(tmp_path / "filtered.log"))["id"], 120)
    spec = {
        "type": "qa",
        "document_ids": [doc["id"]],
        "question": "which errors?",
        "options": {"levels": ["ERROR"]},
    }
    job = api.wait_job(api.submit(spec)["id"], 240)
    assert job["status"] == "succeeded", job.get("error")
    manifest = job["result"]["manifest"]
    assert manifest["documents"][0]["filtered"] == {"kept_lines": 200, "total_lines": 20_000}
    for c in job["result"]["citations"]:
        assert c["status"] == "verified" and 9_001 <= c["line_start"] <= 9_200
