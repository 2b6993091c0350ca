"""The whole flow through the HTTP API, a real Celery worker process and Redis, on the offline engine."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from pypdf import PdfReader

from service import usage
from service.client import ApiError, LongdocClient
from service.local_stack import LocalStack
from service.redis_conn import connect
from tests.conftest import SAMPLES

PDF = SAMPLES / "master_services_agreement.pdf"
DOCX = SAMPLES / "master_services_agreement.docx"
LOG = SAMPLES / "payments-service.log"


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().lower()


def test_upload_extract_describe_read_delete(api: LongdocClient) -> None:
    created = api.upload(PDF)
    assert created["status"] in {"uploaded", "extracting", "ready"}
    assert created["size"] == PDF.stat().st_size and len(created["sha256"]) == 64
    assert created["media_type"] == "application/pdf" and created["name"] == PDF.name
    doc = api.wait_document(created["id"], 120)
    pages = len(PdfReader(PDF).pages)
    assert doc["status"] == "ready" and doc["pages"] == pages and pages > 1
    assert doc["tokens"] > 1000 and doc["chars"] > 5000

    page2 = api.text(doc["id"], page=2)
    assert _norm(PdfReader(PDF).pages[1].extract_text())[:200] in _norm(page2["text"])
    head = api.text(doc["id"], offset=0, limit=100)
    assert len(head["text"]) == 100 and head["next_offset"] == 100 and head["total_chars"] == doc["chars"]

    api.delete(doc["id"])
    try:
        api.document(doc["id"])
        raise AssertionError("deleted document still answers")
    except ApiError as exc:
        assert exc.status == 404


def test_identical_bytes_are_extracted_once(api: LongdocClient) -> None:
    first = api.wait_document(api.upload(DOCX)["id"], 120)
    second = api.wait_document(api.upload(DOCX)["id"], 30)
    assert first["id"] != second["id"] and first["sha256"] == second["sha256"]
    assert second["status"] == "ready" and second["extracted_at"] == first["extracted_at"]
    api.delete(first["id"])
    assert api.document(second["id"])["status"] == "ready"  # the shared text survives one deletion
    assert api.text(second["id"], limit=50)["text"]


def test_log_question_cites_lines_that_contain_the_quotes(api: LongdocClient, stack: LocalStack) -> None:
    r = connect(stack.settings.effective_redis_url())
    before = usage.tenant_totals(r, stack.settings.key_prefix, "default").get("tokens_in", 0)
    doc = api.wait_document(api.upload(LOG)["id"], 120)
    assert doc["status"] == "ready" and doc["lines"] == len(LOG.read_text().splitlines())
    job = api.submit(
        {
            "type": "qa",
            "document_ids": [doc["id"]],
            "question": "What errors occurred and when did they start?",
        }
    )
    assert job["status"] == "queued"
    done = api.wait_job(job["id"], 120)
    assert done["status"] == "succeeded", done.get("error")
    result = done["result"]
    assert result["engine"] == "offline" and result["answer"] and result["citations"]
    assert result["manifest"]["total_tokens"] > 0 and result["manifest"]["window"] == 1_000_000
    source = LOG.read_text().splitlines()
    for c in result["citations"]:
        assert c["status"] == "verified"
        cited = "\n".join(source[c["line_start"] - 1 : c["line_end"]])
        assert _norm(c["quote"]) in _norm(cited)
    assert [e["event"] for e in done["history"]][:2] == ["queued", "started"]
    assert done["started_at"] and done["finished_at"] and done["progress"]["percent"] == 100
    after = usage.tenant_totals(r, stack.settings.key_prefix, "default")
    assert after["tokens_in"] - before == result["usage"]["prompt_tokens"] > 0  # accounted once


def test_contract_summary_cites_real_pages(api: LongdocClient) -> None:
    doc = api.wait_document(api.upload(PDF)["id"], 120)
    done = api.wait_job(api.submit({"type": "summarize", "document_ids": [doc["id"]]})["id"], 120)
    assert done["status"] == "succeeded", done.get("error")
    result = done["result"]
    assert "offline" in result["answer"].lower()
    reader = PdfReader(PDF)
    assert result["citations"]
    for c in result["citations"]:
        assert _norm(c["quote"])[:300] in _norm(reader.pages[c["page"] - 1].extract_text())
    assert result["reasoning"] is None


def test_over_the_window_is_422_with_token_counts(api: LongdocClient, tmp_path: Path) -> None:
    big = tmp_path / "big.log"
    big.write_text(
        "".join(
            f"2026-01-01T00:00:{i % 60:02d}Z INFO request id={i} took {i % 97}ms\n" for i in range(20_000)
        )
    )
    doc = api.wait_document(api.upload(big)["id"], 120)
    assert doc["tokens"] > 131_072
    try:
        # logs are compressed by default (see test_e2e_logs); overflow=error keeps the up-front refusal
        spec = {"type": "summarize", "document_ids": [doc["id"]], "model": "local"}
        api.submit({**spec, "options": {"overflow": "error"}})
        raise AssertionError("expected 422")
    except ApiError as exc:
        assert exc.status == 422 and exc.code == "context_overflow"
        assert exc.details["window"] > 0 and exc.details["prompt_tokens"] > 0


def test_cancel_a_queued_job_and_a_finished_one(api: LongdocClient, stack: object) -> None:
    doc = api.wait_document(api.upload(LOG)["id"], 120)
    spec = {"type": "qa", "document_ids": [doc["id"]], "question": "what failed?"}
    job = api.submit(spec)
    cancelled = api.cancel(job["id"])
    assert cancelled["status"] in {"cancelled", "succeeded"}
    final = api.wait_job(job["id"], 60)
    assert final["status"] == cancelled["status"]
    try:
        api.cancel(job["id"])
        raise AssertionError("cancelling a finished job must conflict")
    except ApiError as exc:
        assert exc.status == 409 and exc.code == "job_finished"


def test_readyz_sees_the_worker(api: LongdocClient) -> None:
    body = api.http.get("/readyz").json()
    assert body["status"] == "ready" and body["checks"]["workers"] >= 1
    assert api.http.get("/healthz").json() == {"status": "ok"}


def test_failed_extraction_has_a_reason(api: LongdocClient, tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + b"garbage " * 200)
    doc = api.wait_document(api.upload(broken)["id"], 120)
    assert doc["status"] == "failed" and doc["error"]["code"] in {"malformed", "no_text_layer"}
    with httpx.Client(base_url=str(api.http.base_url)) as raw:
        job = raw.post("/v1/jobs", json={"type": "summarize", "document_ids": [doc["id"]]})
        assert job.status_code == 202
        final = api.wait_job(job.json()["id"], 60)
        assert final["status"] == "failed" and final["error"]["code"] == "document_failed"


def test_offline_log_statistics_cover_only_the_requested_time_range(api: LongdocClient) -> None:
    doc = api.wait_document(api.upload(LOG)["id"], 120)
    question = "What errors occurred and when did they start?"

    def ask(time_range: dict[str, str]) -> dict[str, Any]:
        spec = {
            "type": "qa",
            "document_ids": [doc["id"]],
            "question": question,
            "options": {"time_range": time_range},
        }
        done = api.wait_job(api.submit(spec)["id"], 120)
        assert done["status"] == "succeeded", done.get("error")
        return dict(done["result"])

    before = ask({"from": "2025-03-14T00:00:00Z", "to": "2025-03-14T14:05:00Z"})
    assert before["facts"].get("error_count", 0) == 0
    later = ask({"from": "2025-03-14T14:30:00Z", "to": "2025-03-14T23:59:59Z"})
    first = later["facts"]["first_error"]
    assert first["line"] > 164 and first["time"] >= "2025-03-14T14:30"
