"""Redis restarted under a running API: AOF keeps queued jobs, job states and results; the API answers 503
with Retry-After while Redis is away and recovers by itself; a worker finishes the queued jobs."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from service.client import LongdocClient
from service.config import Settings
from service.redis_conn import EmbeddedRedis
from tests.procs import ApiThread, wait_for, workers

LOG = "2026-01-01T00:00:00Z ERROR payments timeout talking to ledger\n2026-01-01T00:00:05Z INFO recovered\n"


def offline_settings(redis: EmbeddedRedis, tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {
            "redis_url": redis.url,
            "storage_dir": tmp_path / "store",
            "key_prefix": f"r{uuid.uuid4().hex[:8]}",
            "auth": {"mode": "off"},
        }
    )


def test_redis_restart_keeps_queued_jobs_states_and_results(tmp_path: Path) -> None:
    redis = EmbeddedRedis(data_dir=tmp_path / "redis", appendonly=True).start()
    settings = offline_settings(redis, tmp_path)
    try:
        with ApiThread(settings) as api:
            client = LongdocClient(api.url, timeout_s=15)
            path = tmp_path / "payments.log"
            path.write_text(LOG)
            spec: dict[str, Any] = {"type": "qa", "question": "What timed out?"}
            with workers(settings, tmp_path, 1):
                doc = client.wait_document(client.upload(path)["id"], 60)
                spec["document_ids"] = [doc["id"]]
                finished = client.wait_job(client.submit(spec)["id"], 60)
            assert finished["status"] == "succeeded"
            queued = [client.submit(spec)["id"] for _ in range(2)]  # no worker now: they wait in Redis

            redis.stop()  # SIGTERM: the documented production config (AOF) persists on the way down
            for response in (
                client.http.get(f"/v1/jobs/{queued[0]}"),
                client.http.post("/v1/jobs", json=spec),
            ):
                assert response.status_code == 503, response.text
                assert response.json()["error"]["code"] == "redis_unavailable"
                assert int(response.headers["Retry-After"]) >= 1

            redis = EmbeddedRedis(data_dir=tmp_path / "redis", port=redis.port, appendonly=True).start()
            # Same API process, no restart: it answers again once its connections are re-made.
            wait_for(lambda: client.http.get(f"/v1/jobs/{queued[0]}").status_code == 200, 20, "API recovery")
            assert client.job(finished["id"]) == finished  # state and result intact
            assert [client.job(j)["status"] for j in queued] == ["queued", "queued"]
            queued.append(client.submit(spec)["id"])  # submitting works again too

            with workers(settings, tmp_path, 1):
                for job_id in queued:
                    job = client.wait_job(job_id, 60)
                    assert job["status"] == "succeeded", job.get("error")
                    assert job["attempts"] == 1 and job["result"]["answer"]
    finally:
        redis.stop()
