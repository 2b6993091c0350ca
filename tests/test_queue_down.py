"""When the broker cannot take a task, nothing is left waiting forever for a worker that will never come."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from service.pipeline import build_services
from service.queue import JobQueue
from service.redis_conn import free_port


@pytest.fixture()
def client(settings: Settings) -> Iterator[TestClient]:
    dead_broker = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    app = create_app(settings, services=build_services(settings), queue=JobQueue(dead_broker))
    with TestClient(app) as c:
        yield c


def test_upload_and_job_fail_visibly_when_the_queue_is_down(client: TestClient, settings: Settings) -> None:
    r = client.post("/v1/documents", files={"file": ("notes.txt", b"plain words for a test\n")})
    assert r.status_code == 503 and r.json()["error"]["code"] == "redis_unavailable"
    services = build_services(settings)
    _, docs = services.records.list_documents("default")
    assert len(docs) == 1
    doc = client.get(f"/v1/documents/{docs[0].id}").json()
    assert doc["status"] == "failed" and doc["error"]["code"] == "queue_unavailable"

    r = client.post("/v1/jobs", json={"type": "summarize", "document_ids": [docs[0].id]})
    assert r.status_code == 503
    _, jobs = services.records.list_jobs("default")
    assert len(jobs) == 1 and jobs[0].status == "failed" and jobs[0].error is not None
    assert jobs[0].error.code == "queue_unavailable"
