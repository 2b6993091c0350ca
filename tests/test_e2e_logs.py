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


def _archive(path: Path) -> Path:
    import io
    import tarfile

    members = {
        "api/app.log": "".join(
            f"2026-01-01T00:00:{i % 60:02d}Z {'ERROR db timeout after 30s' if i == 7 else f'INFO served id={i}'}\n"
            for i in range(40)
        ),
        "db/db.log": "".join(
            f"Jan  1 00:01:{i:02d} db1 postgres[12]: checkpoint {i} done\n" for i in range(20)
        ),
    }
    with tarfile.open(path, "w:gz") as tf:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_archive_templates_and_citations_name_the_file(api: LongdocClient, tmp_path: Path) -> None:
    doc = api.wait_document(api.upload(_archive(tmp_path / "logs.tar.gz"))["id"], 120)
    assert doc["status"] == "ready" and doc["lines"] == 60
    body = api._json(api.http.get(f"/v1/documents/{doc['id']}/templates"))
    assert [f["path"] for f in body["files"]] == ["api/app.log", "db/db.log"]
    assert body["lines"] == 60 and body["levels"]["ERROR"] == 1
    by_pattern = {t["pattern"]: t for t in body["templates"]}
    served = next(t for p, t in by_pattern.items() if p.startswith("served id="))
    assert served["count"] == 39 and served["file"] == "api/app.log"
    checkpoint = next(t for p, t in by_pattern.items() if "checkpoint" in p)
    assert checkpoint["file"] == "db/db.log" and checkpoint["first_line"] == 1  # member-relative
    only_db = api._json(api.http.get(f"/v1/documents/{doc['id']}/templates", params={"file": "db/db.log"}))
    assert {t["file"] for t in only_db["templates"]} == {"db/db.log"}
    job = api.wait_job(
        api.submit({"type": "qa", "document_ids": [doc["id"]], "question": "what error happened?"})["id"], 120
    )
    assert job["status"] == "succeeded", job.get("error")
    cited = [c for c in job["result"]["citations"] if "db timeout" in c["quote"]]
    assert cited and cited[0]["file"] == "api/app.log" and cited[0]["line_start"] == 8
    assert cited[0]["status"] == "verified"
