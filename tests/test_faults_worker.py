"""Workers killed with SIGKILL, a poison job, and a job longer than the Redis visibility timeout.

Real `longdoc worker` processes, a real Redis and the FakeLLM: the first generation request of a job
hangs (`FakeLLM.hang`), which holds the job still inside the pool child that runs it, so the test can
find that child by its TCP connection to the FakeLLM and kill it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.client import LongdocClient
from service.config import ModelSettings, Settings, WorkerSettings
from service.redis_conn import EmbeddedRedis
from tests.fakellm import FakeLLM
from tests.procs import ApiThread, WorkerProc, wait_for, workers

DOC_TEXT = "The deployment window is Tuesday 14:00 UTC.\nRollback needs approval from the on-call lead.\n"


def fault_settings(redis: EmbeddedRedis, tmp_path: Path, llm: FakeLLM, **worker: Any) -> Settings:
    """Online engine on the FakeLLM, short per-job lock lease so a dead worker's job is retried soon."""
    model = ModelSettings(provider_base_url=llm.base_url, api_key="sk-fault-secret", backoff_base_s=0.05)
    return Settings.model_validate(
        {
            "redis_url": redis.url,
            "storage_dir": tmp_path / "store",
            "key_prefix": f"f{uuid.uuid4().hex[:8]}",
            "model": model,
            "worker": WorkerSettings.model_validate({"job_lock_ttl_s": 2, **worker}),
            "auth": {"mode": "off"},  # tenancy is tested elsewhere; these tests are about faults
        }
    )


def submit_qa(client: LongdocClient, tmp_path: Path, text: str = DOC_TEXT) -> str:
    path = tmp_path / f"notes-{uuid.uuid4().hex[:6]}.txt"
    path.write_text(text)
    doc = client.wait_document(client.upload(path)["id"], 30)
    assert doc["status"] == "ready", doc
    spec = {"type": "qa", "document_ids": [doc["id"]], "question": "When is the deployment window?"}
    return str(client.submit(spec)["id"])


def events(job: dict[str, Any]) -> list[str]:
    return [e["event"] for e in job["history"]]


def runner_of(procs: list[WorkerProc], llm: FakeLLM) -> WorkerProc:
    """The worker whose pool child is talking to the FakeLLM right now."""
    return wait_for(
        lambda: next((p for p in procs if p.child_connected_to(llm.port)), None), 30, "a worker generating"
    )


def ran_task(proc: WorkerProc, job_id: str) -> bool:
    return f"longdoc.run_job[task-{job_id}] succeeded" in proc.log()


def ran_by(procs: list[WorkerProc], job_id: str, timeout_s: float = 10.0) -> list[WorkerProc]:
    """The workers whose log says they ran the task. Celery logs the success after the job's record
    (what the client waited for) is already written, so give the line a moment to appear."""
    deadline = time.monotonic() + timeout_s
    while not (found := [p for p in procs if ran_task(p, job_id)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


@pytest.fixture()
def redis_server() -> Iterator[EmbeddedRedis]:
    """A private redis-server per test: Celery's queues are not under our key prefix, and a worker of
    another test (or the session stack) must not consume these jobs, nor restore this test's unacked ones."""
    with EmbeddedRedis() as server:
        yield server


@pytest.fixture()
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


def assert_succeeded_once(job: dict[str, Any], llm: FakeLLM, attempts: int) -> None:
    assert job["status"] == "succeeded", job.get("error")
    assert job["attempts"] == attempts
    assert events(job).count("succeeded") == 1
    assert "Tuesday 14:00 UTC" in job["result"]["answer"] or job["result"]["citations"]
    assert job["result"]["finish_reason"] == "stop"


def test_killed_pool_child_is_requeued_and_finishes_on_the_other_worker(
    redis_server: EmbeddedRedis, tmp_path: Path, llm: FakeLLM
) -> None:
    llm.hang(120)  # the first generation never ends by itself
    settings = fault_settings(redis_server, tmp_path, llm, job_lock_ttl_s=1)
    with ApiThread(settings) as api, workers(settings, tmp_path, 2) as procs:
        client = LongdocClient(api.url)
        job_id = submit_qa(client, tmp_path)
        runner = runner_of(procs, llm)
        other = next(p for p in procs if p is not runner)
        child = runner.child_connected_to(llm.port)
        assert child is not None
        runner.kill_child(child)  # main process survives: WorkerLostError -> reject + requeue
        job = client.wait_job(job_id, 30)
        assert_succeeded_once(job, llm, attempts=2)
        assert events(job) == ["queued", "started", "retried", "succeeded"]
        assert len(llm.requests) == 2
        assert "WorkerLostError" in runner.log()
        # Observed: either worker may take the requeued message (the runner's main process spawns a new
        # child at once); what matters is that exactly one of them completes it.
        assert len(ran_by([other, runner], job_id)) == 1


def test_killed_worker_group_job_returns_after_visibility_timeout(
    redis_server: EmbeddedRedis, tmp_path: Path, llm: FakeLLM
) -> None:
    llm.hang(120)
    settings = fault_settings(redis_server, tmp_path, llm, visibility_timeout_s=5)
    with ApiThread(settings) as api, workers(settings, tmp_path, 2) as procs:
        client = LongdocClient(api.url)
        job_id = submit_qa(client, tmp_path)
        runner = runner_of(procs, llm)
        other = next(p for p in procs if p is not runner)
        killed_at = time.monotonic()
        runner.kill_group()  # nobody is left to reject the message: only the visibility timeout brings it back
        job = client.wait_job(job_id, 40)
        recovered_s = time.monotonic() - killed_at
        assert_succeeded_once(job, llm, attempts=2)
        assert events(job) == ["queued", "started", "retried", "succeeded"]
        assert len(llm.requests) == 2
        assert ran_by([other], job_id) == [other]
        assert recovered_s < 5 + 10, f"took {recovered_s:.1f} s after the kill"


def test_poison_job_fails_after_max_attempts(
    redis_server: EmbeddedRedis, tmp_path: Path, llm: FakeLLM
) -> None:
    for _ in range(4):
        llm.hang(120)
    settings = fault_settings(redis_server, tmp_path, llm, max_job_attempts=3, job_lock_ttl_s=1)
    with ApiThread(settings) as api, workers(settings, tmp_path, 1) as (worker,):
        client = LongdocClient(api.url)
        job_id = submit_qa(client, tmp_path)
        for attempt in range(1, 4):  # the "document" kills its worker on every attempt
            child = wait_for(lambda: worker.child_connected_to(llm.port), 30, f"attempt {attempt} generating")
            assert client.job(job_id)["attempts"] == attempt
            worker.kill_child(child)
        job = client.wait_job(job_id, 30)
        assert job["status"] == "failed" and job["error"]["code"] == "too_many_attempts", job
        assert job["result"] is None
        assert events(job) == ["queued", "started", "retried", "retried", "failed"]
        assert len(llm.requests) == 3  # the 4th delivery is refused before any model call
        assert worker.process.poll() is None  # the worker survived and is still consuming


def test_job_longer_than_visibility_timeout_runs_once(
    redis_server: EmbeddedRedis, tmp_path: Path, llm: FakeLLM
) -> None:
    llm.hang(7, after_chunks=1)  # the job takes ~7 s; the visibility timeout is 3 s
    settings = fault_settings(redis_server, tmp_path, llm, visibility_timeout_s=3, job_lock_ttl_s=1)
    with ApiThread(settings) as api, workers(settings, tmp_path, 2) as procs:
        client = LongdocClient(api.url)
        job_id = submit_qa(client, tmp_path)
        runner = runner_of(procs, llm)
        other = next(p for p in procs if p is not runner)
        # Redis hands the still-running job to the other worker; the per-job lock turns it away.
        wait_for(lambda: f"task-{job_id}] received" in other.log(), 15, "the duplicate delivery")
        job = client.wait_job(job_id, 30)
        assert_succeeded_once(job, llm, attempts=1)
        assert events(job) == ["queued", "started", "succeeded"]
        assert len(llm.requests) == 1  # observed: never a second generation
        assert ran_by([runner], job_id) == [runner]
