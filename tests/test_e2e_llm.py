"""The real-model path end to end: HTTP API + a real Celery worker process + Redis, the model played by a
FakeLLM (MiniMax flavor: `<think>` split across chunks, base_resp errors) on loopback."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.client import ApiError, LongdocClient
from service.config import ModelSettings, Settings
from service.local_stack import LocalStack
from tests.conftest import SAMPLES
from tests.fakellm import FakeLLM

PDF = SAMPLES / "master_services_agreement.pdf"
LOG = SAMPLES / "payments-service.log"


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLM]:
    with FakeLLM(flavor="minimax", context_limit=1_000_000) as server:
        yield server


@pytest.fixture(scope="module")
def client(llm: FakeLLM, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LongdocClient]:
    # redis_url=None: the stack embeds its own Redis. Celery's queue names are fixed, so a worker of another
    # stack on a shared Redis would take this stack's tasks (and find none of its records).
    root = tmp_path_factory.mktemp("e2e_llm")
    model = ModelSettings(
        provider_base_url=llm.base_url,
        api_key="sk-e2e-test-key",
        max_attempts=3,
        backoff_base_s=0.05,
        backoff_max_s=2.0,
        total_deadline_s=60.0,
    )
    settings = Settings(
        redis_url=None,
        storage_dir=root / "store",
        key_prefix=f"llm{uuid.uuid4().hex[:6]}",
        model=model,
    )
    with LocalStack(settings, worker_concurrency=2, log_path=root / "stack.log") as stack:
        api = LongdocClient(stack.api_url)
        api.wait_ready(60)
        yield api
        api.close()


@pytest.fixture(scope="module")
def docs(client: LongdocClient) -> dict[str, str]:
    return {p.name: client.wait_document(client.upload(p)["id"], 120)["id"] for p in (PDF, LOG)}


def ask(client: LongdocClient, doc_ids: list[str], **spec: Any) -> dict[str, Any]:
    body = {"type": "qa", "document_ids": doc_ids, "question": "What does it begin with?", **spec}
    return client.wait_job(client.submit(body)["id"], timeout_s=60)


def _source_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_answers_with_verified_citations_usage_cost_and_no_reasoning(
    client: LongdocClient, docs: dict[str, str], llm: FakeLLM
) -> None:
    before = len(llm.requests)
    questions = ["What is the first line?", "Which service is this?"]
    job = ask(client, [docs[LOG.name]], question=None, questions=questions)
    assert job["status"] == "succeeded", job.get("error")
    assert len(llm.requests) == before + 1  # both questions in one call
    result = job["result"]
    assert result["engine"] == "llm" and result["model"] == "MiniMax-M1"
    assert [a["question"] for a in result["answers"]] == questions
    first_line = next(line for line in _source_lines(LOG) if line.strip())
    for answer in result["answers"]:
        citation = answer["citations"][0]
        assert citation["status"] == "verified" and citation["quote"].strip() in first_line
    assert result["reasoning"] is None and "<think>" not in result["answer"]
    assert "I will cite it" not in result["answer"]  # the FakeLLM's reasoning text
    usage = result["usage"]
    assert usage["prompt_tokens"] > 0 and usage["reasoning_tokens"] > 0 and not usage["estimated"]
    assert result["cost"]["usd"] > 0 and result["cost"]["estimated"] is False
    assert job["progress"]["output_tokens"] > 0
    assert result["manifest"]["token_method"].startswith("estimate:script-aware-v1")


def test_reasoning_only_when_asked_and_never_in_the_answer(
    client: LongdocClient, docs: dict[str, str]
) -> None:
    job = ask(client, [docs[PDF.name]], options={"include_reasoning": True})
    assert job["status"] == "succeeded", job.get("error")
    result = job["result"]
    assert "I will cite it" in result["reasoning"] and "<think>" not in result["reasoning"]
    assert "I will cite it" not in result["answer"] and "think>" not in result["answer"]
    citation = result["citations"][0]
    assert citation["status"] == "verified" and citation["page"] == 1


def test_dry_run_prices_without_calling_the_model(
    client: LongdocClient, docs: dict[str, str], llm: FakeLLM
) -> None:
    before, jobs_before = len(llm.requests), client.http.get("/v1/jobs").json()["total"]
    response = client.http.post(
        "/v1/jobs", json={"type": "summarize", "document_ids": list(docs.values()), "dry_run": True}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["dry_run"] is True and body["model"] == "MiniMax-M1" and body["engine"] == "llm"
    manifest = body["manifest"]
    assert {d["name"] for d in manifest["documents"]} == {PDF.name, LOG.name}
    expected = (manifest["total_tokens"] * 0.40 + manifest["reserved_output"] * 2.20) / 1e6
    assert body["estimated_cost_usd"] == pytest.approx(expected, abs=1e-8) and body["cost"]["estimated"]
    assert len(llm.requests) == before
    assert client.http.get("/v1/jobs").json()["total"] == jobs_before


def test_429_then_success(client: LongdocClient, docs: dict[str, str], llm: FakeLLM) -> None:
    before = len(llm.requests)
    llm.fail_next(status=429, retry_after=1)
    started = time.monotonic()
    job = ask(client, [docs[LOG.name]])
    assert job["status"] == "succeeded", job.get("error")
    assert len(llm.requests) == before + 2 and time.monotonic() - started >= 1.0  # Retry-After honoured


def test_final_provider_error_fails_the_job_with_a_reason(
    client: LongdocClient, docs: dict[str, str], llm: FakeLLM
) -> None:
    before = len(llm.requests)
    llm.base_resp_error(code=1008, msg="insufficient balance")
    job = ask(client, [docs[LOG.name]])
    assert job["status"] == "failed"
    assert job["error"]["code"] == "provider_insufficient_balance"
    assert "1008" in job["error"]["message"] and "insufficient balance" in job["error"]["message"]
    assert len(llm.requests) == before + 1  # final: not retried


def test_cancel_closes_the_stream(client: LongdocClient, docs: dict[str, str], llm: FakeLLM) -> None:
    llm.chunk_delay, disconnects, requests = 0.2, llm.disconnects, len(llm.requests)
    try:
        body = {"type": "qa", "document_ids": [docs[LOG.name]], "question": "slow?"}
        job_id = client.submit(body)["id"]
        deadline = time.monotonic() + 30
        while len(llm.requests) == requests:  # poll until the worker's streaming call has arrived
            assert time.monotonic() < deadline, "the job never called the model"
            time.sleep(0.05)
        client.cancel(job_id)
        job = client.wait_job(job_id, timeout_s=30)
        assert job["status"] == "cancelled"
        deadline = time.monotonic() + 10
        while llm.disconnects == disconnects:
            assert time.monotonic() < deadline, "the worker kept the stream open after cancel"
            time.sleep(0.05)
    finally:
        llm.chunk_delay = 0.0


def test_dry_run_of_unknown_document_is_404(client: LongdocClient) -> None:
    with pytest.raises(ApiError) as info:
        client.submit({"type": "summarize", "document_ids": ["doc_missing"], "dry_run": True})
    assert info.value.status == 404


def test_cli_dry_run_prints_the_manifest_and_cost(client: LongdocClient, docs: dict[str, str]) -> None:
    from typer.testing import CliRunner

    from service.cli import app

    url = str(client.http.base_url).rstrip("/")
    args = ["summarize", docs[PDF.name], docs[LOG.name], "--dry-run", "--api", url]
    out = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert PDF.name in out.output and LOG.name in out.output and "reserved output" in out.output
    assert "estimated cost: $" in out.output and "MiniMax-M1: input $0.40/M" in out.output


def test_model_written_report_has_one_section_per_template_part(
    client: LongdocClient, docs: dict[str, str], llm: FakeLLM
) -> None:
    templates = {t["name"]: t for t in client.http.get("/v1/reports/templates").json()["items"]}
    digest = templates["daily_log_digest"]
    before = len(llm.requests)
    created = client.http.post(
        "/v1/reports", json={"template": "daily_log_digest", "document_ids": [docs[LOG.name]]}
    )
    assert created.status_code in (200, 201, 202), created.text
    report_id = created.json()["id"]
    deadline = time.monotonic() + 60
    while (report := client.http.get(f"/v1/reports/{report_id}").json()).get("content") is None:
        assert time.monotonic() < deadline, report
        time.sleep(0.2)
    content = report["content"]
    assert content["engine"] == "llm" and content["model"] == "MiniMax-M1"
    assert "Offline" not in content["label"]
    assert len(llm.requests) == before + 1  # every section's question in one model call
    assert [s["key"] for s in content["sections"]] == [s["key"] for s in digest["sections"]]
    source = _source_lines(LOG)
    for part in content["sections"]:  # each section is the model's answer to its question, cited
        cites = [c for item in part["items"] for c in item["citations"]]
        assert cites and all(c["status"] == "verified" for c in cites), part
        assert all(c["quote"] in source[c["line_start"] - 1] for c in cites)
    page = client.http.get(f"/v1/reports/{report_id}", params={"format": "md"})
    assert page.status_code == 200 and all(s["title"] in page.text for s in digest["sections"])
