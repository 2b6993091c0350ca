"""Model provider failures through a real worker: rate limits, exhausted 5xx, output cut off by max_tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from service.client import LongdocClient
from service.config import ModelSettings, Settings
from service.redis_conn import EmbeddedRedis
from tests.fakellm import FakeLLM
from tests.procs import ApiThread, workers

DOC = "The deployment window is Tuesday 14:00 UTC.\nRollback needs approval from the on-call lead.\n"


@dataclass
class Stack:
    client: LongdocClient
    llm: FakeLLM
    doc_id: str

    def run(self) -> dict[str, Any]:
        spec = {"type": "qa", "document_ids": [self.doc_id], "question": "When is the deployment window?"}
        return self.client.wait_job(self.client.submit(spec)["id"], 60)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One worker for the whole module; each test queues its faults on the shared FakeLLM."""
    tmp = tmp_path_factory.mktemp("provider")
    with EmbeddedRedis() as redis, FakeLLM() as llm:
        model = ModelSettings(
            provider_base_url=llm.base_url, api_key="sk-provider-secret", max_attempts=3, backoff_base_s=0.05
        )
        settings = Settings.model_validate(
            {
                "redis_url": redis.url,
                "storage_dir": tmp / "store",
                "key_prefix": "prov",
                "model": model,
                "auth": {"mode": "off"},
            }
        )
        with ApiThread(settings) as api, workers(settings, tmp, 1):
            client = LongdocClient(api.url)
            path = tmp / "notes.txt"
            path.write_text(DOC)
            doc = client.wait_document(client.upload(path)["id"], 60)
            yield Stack(client, llm, doc["id"])


def _seconds(job: dict[str, Any]) -> float:

    return (
        datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["started_at"])
    ).total_seconds()


def test_rate_limit_then_success_honours_retry_after(stack: Stack) -> None:
    before = len(stack.llm.requests)
    stack.llm.fail_next(status=429, retry_after=2)
    job = stack.run()
    assert job["status"] == "succeeded", job.get("error")
    assert len(stack.llm.requests) - before == 2
    assert _seconds(job) >= 2.0  # the backoff alone would have waited ~0.05 s
    assert job["result"]["finish_reason"] == "stop" and job["result"]["answer"]


def test_exhausted_5xx_fails_with_the_providers_reason(stack: Stack) -> None:
    before = len(stack.llm.requests)
    for _ in range(3):
        stack.llm.fail_next(status=503, message="upstream overloaded (fake)")
    job = stack.run()
    assert job["status"] == "failed" and job["result"] is None
    assert job["error"]["code"].startswith("provider_"), job["error"]
    assert "upstream overloaded (fake)" in job["error"]["message"]
    assert len(stack.llm.requests) - before == 3  # bounded: max_attempts, no Celery retry on top


def test_length_cut_with_empty_answer_fails(stack: Stack) -> None:
    stack.llm.finish_length()
    job = stack.run()
    assert job["status"] == "failed" and job["result"] is None
    assert job["error"]["code"] == "output_truncated", job["error"]


def test_partial_answer_is_labelled_as_cut_off(stack: Stack) -> None:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "x",
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    stack.llm.raw_stream(
        [chunk({"content": "The window is Tuesday"}), chunk({}, "length"), "data: [DONE]\n\n"]
    )
    job = stack.run()
    # Observed: a non-empty answer cut off by max_tokens succeeds, and says so.
    assert job["status"] == "succeeded", job.get("error")
    assert job["result"]["answer"].startswith("The window is Tuesday")
    assert job["result"]["finish_reason"] == "length"
