"""Live job progress over SSE: a real worker's job from queued to done, late joiners, heartbeats."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from rich.console import Console

from service.client import LongdocClient
from service.config import ReportingSettings, Settings
from service.main import create_app
from service.models import JobSpec, JobState
from service.pipeline import build_services
from service.redis_conn import free_port

SAMPLES = Path(__file__).resolve().parents[1] / "sample_docs"


def read_sse(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, object] | None]]:
    """(event name, data) per SSE message; comments come as ("comment", None)."""
    event, data = "message", ""
    for line in lines:
        if line.startswith(":"):
            yield "comment", None
        elif line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and data:
            yield event, json.loads(data)
            event, data = "message", ""


def collect(url: str, params: dict[str, str] | None = None, timeout: float = 60) -> list[tuple[str, dict]]:
    out = []
    with httpx.stream("GET", url, params=params, timeout=timeout) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for name, data in read_sse(response.iter_lines()):
            if data is not None:
                out.append((name, data))
    return out


def test_job_events_from_queued_to_done_with_a_real_worker(api: LongdocClient, stack: object) -> None:
    doc = api.wait_document(api.upload(SAMPLES / "payments-service.log")["id"])
    job = api.submit({"type": "summarize", "document_ids": [doc["id"]]})
    url = f"{api.http.base_url}/v1/jobs/{job['id']}/events"
    events = collect(url, {"replay": "true"})
    names = [n for n, _ in events]
    stages = [d["stage"] for _, d in events]
    assert names[-1] == "done" and names.count("done") == 1
    assert events[0][1]["status"] == "queued"
    assert events[-1][1]["status"] == "succeeded" and events[-1][1]["percent"] == 100.0
    # "generating" may be throttled away on a job this fast (JobHooks writes it at most every 0.5 s)
    assert stages.index("starting") < stages.index("packing") < len(stages) - 1
    running = [d["percent"] for _, d in events if d["status"] == "running"]
    assert running == sorted(running)
    # connecting after the end: only the current (terminal) state, then the stream closes
    late = collect(url)
    assert [n for n, _ in late] == ["done"] and late[0][1]["status"] == "succeeded"


def test_unknown_job_events_is_404(api: LongdocClient) -> None:
    response = api.http.get("/v1/jobs/job_nope/events")
    assert response.status_code == 404 and response.json()["error"]["code"] == "job_not_found"


@pytest.fixture()
def quick_api(settings: Settings) -> Iterator[tuple[str, Settings]]:
    """The API alone (no worker) with a short SSE heartbeat."""
    settings = settings.model_copy(update={"reporting": ReportingSettings(sse_heartbeat_s=0.3)})
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    client = LongdocClient(base)
    for _ in range(200):
        if _ready(client):
            break
    yield base, settings
    client.close()
    server.should_exit = True
    thread.join(10)


def _ready(client: LongdocClient) -> bool:
    try:
        return client.http.get("/healthz").status_code == 200
    except httpx.HTTPError:
        time.sleep(0.05)
        return False


def test_late_joiner_gets_state_then_heartbeats_then_changes(quick_api: tuple[str, Settings]) -> None:
    base, settings = quick_api
    records = build_services(settings).records
    job = JobState(id="job_sse_manual", spec=JobSpec(type="summarize", document_ids=["doc_x"]))
    records.create_job(job)

    def running(j: JobState) -> JobState:
        j.status, j.progress.stage, j.progress.percent = "running", "generating", 40.0
        j.progress.output_tokens = 123
        return j

    records.update_job(job.id, running)  # before the client connects: it must still see "running"
    seen: list[tuple[str, dict[str, object] | None]] = []
    with httpx.stream("GET", f"{base}/v1/jobs/{job.id}/events", timeout=30) as response:
        messages = read_sse(response.iter_lines())
        for name, data in messages:
            seen.append((name, data))
            if name == "state":
                assert data is not None and data["stage"] == "generating" and data["output_tokens"] == 123
            if name == "comment" and sum(1 for n, _ in seen if n == "comment") == 2:
                records.update_job(job.id, lambda j: j.model_copy(update={"status": "failed"}))
    names = [n for n, _ in seen]
    assert names[0] == "state" and names.count("comment") >= 2 and names[-1] == "done"
    assert seen[-1][1] is not None and seen[-1][1]["status"] == "failed"
    # a record update that changes nothing a subscriber sees publishes nothing
    before = records.r.xlen(f"{settings.key_prefix}:job:{job.id}:events")
    records.update_job(job.id, lambda j: j.model_copy(update={"attempts": 5}))
    assert records.r.xlen(f"{settings.key_prefix}:job:{job.id}:events") == before


def test_cli_progress_follows_the_stream_to_the_end(api: LongdocClient) -> None:
    from service.progress import follow_job, job_events

    doc = api.wait_document(api.upload(SAMPLES / "release_notes.txt")["id"])
    job = api.submit({"type": "summarize", "document_ids": [doc["id"]]})
    views = list(job_events(api, job["id"]))
    assert views[-1]["status"] == "succeeded"
    out = io.StringIO()
    finished = follow_job(api, job["id"], Console(file=out, width=100))
    assert finished["status"] == "succeeded" and finished["result"]["answer"]
