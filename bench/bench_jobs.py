"""Job overhead with an instant model: API accept -> worker start -> result stored -> result visible.

Run: .venv/bin/python bench/bench_jobs.py [--jobs 50] [--workers 2] [--poll-ms 5]

Starts an embedded Redis, `longdoc serve` and `longdoc worker` as separate processes, and FakeLLM
(tests/fakellm.py, zero chunk delay) on a loopback port as the configured provider. One tiny document
is uploaded; then, per engine, --jobs summarize jobs run one after another (after 3 warm-up jobs):
- offline: `"model": "offline"`, the built-in extractive engine;
- fakellm: the default model (MiniMax-M1) served by FakeLLM, i.e. the real streaming client path.
Columns: POST /v1/jobs latency (client), submit->started and started->finished from the job's own
`created_at`/`started_at`/`finished_at`, and submit->visible: from just before the POST until a poll of
GET /v1/jobs/{id} (every --poll-ms) first shows `succeeded`.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import ROOT, Stack, banner, percentile, print_table, run_main, temp_dir  # noqa: E402
from tests.fakellm import FakeLLM  # noqa: E402

TERMINAL = {"succeeded", "failed", "cancelled"}


def wait_ready(client: httpx.Client, doc_id: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = client.get(f"/v1/documents/{doc_id}").json()["status"]
        if status == "ready":
            return
        if status == "failed":
            raise RuntimeError(f"document {doc_id} failed to extract")
        time.sleep(0.05)
    raise TimeoutError(f"document {doc_id} not ready after {timeout_s:.0f} s")


def run_job(client: httpx.Client, spec: dict[str, Any], poll_s: float) -> dict[str, float]:
    """Submit one job and poll until it is finished; returns the latencies in milliseconds."""
    submitted = time.time()
    response = client.post("/v1/jobs", json=spec)
    accepted = time.time()
    response.raise_for_status()
    job_id = response.json()["id"]
    while True:
        body = client.get(f"/v1/jobs/{job_id}").json()
        if body["status"] in TERMINAL:
            visible = time.time()
            break
        time.sleep(poll_s)
    if body["status"] != "succeeded":
        raise RuntimeError(f"job {job_id} ended {body['status']}: {body.get('error')}")
    created, started, finished = (
        datetime.fromisoformat(body[k]) for k in ("created_at", "started_at", "finished_at")
    )
    return {
        "accept": (accepted - submitted) * 1000,
        "queued": (started - created).total_seconds() * 1000,
        "run": (finished - started).total_seconds() * 1000,
        "visible": (visible - submitted) * 1000,
        "engine_is_offline": float(body["result"]["engine"] == "offline"),
    }


def measure(client: httpx.Client, spec: dict[str, Any], jobs: int, poll_s: float) -> list[dict[str, float]]:
    for _ in range(3):  # warm-up: the worker imports engines and opens connections on first use
        run_job(client, spec, poll_s)
    return [run_job(client, spec, poll_s) for _ in range(jobs)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=50, help="measured jobs per engine")
    parser.add_argument("--workers", type=int, default=2, help="worker concurrency")
    parser.add_argument("--poll-ms", type=float, default=5)
    args = parser.parse_args()
    banner(
        f"bench_jobs: job overhead, {args.jobs} sequential jobs per engine, worker concurrency {args.workers}"
    )
    rows: list[list[Any]] = []
    with temp_dir("longdoc-bench-jobs-") as root, FakeLLM(flavor="minimax", chunk_delay=0.0) as llm:
        env = {"LONGDOC_MODEL__PROVIDER_BASE_URL": llm.base_url, "LONGDOC_MODEL__API_KEY": "bench-key"}
        with (
            Stack(root, workers=args.workers, env=env) as stack,
            httpx.Client(base_url=stack.url, timeout=60) as client,
        ):
            sample = ROOT / "sample_docs" / "release_notes.txt"
            doc = client.post("/v1/documents", files={"file": (sample.name, sample.read_bytes())}).json()
            wait_ready(client, doc["id"])
            for engine, model in (("offline", "offline"), ("fakellm", None)):
                spec: dict[str, Any] = {"type": "summarize", "document_ids": [doc["id"]]}
                if model:
                    spec["model"] = model
                results = measure(client, spec, args.jobs, args.poll_ms / 1000)
                if any(r["engine_is_offline"] != (engine == "offline") for r in results):
                    raise RuntimeError(f"{engine} jobs ran on the wrong engine")
                for key, label in (
                    ("accept", "POST /v1/jobs (accept)"),
                    ("queued", "submit -> started"),
                    ("run", "started -> finished"),
                    ("visible", "submit -> result visible"),
                ):
                    values = [r[key] for r in results]
                    rows.append(
                        [
                            engine,
                            label,
                            len(values),
                            percentile(values, 50),
                            percentile(values, 95),
                            max(values),
                        ]
                    )
    print_table(["engine", "interval", "jobs", "p50 ms", "p95 ms", "max ms"], rows)
    print(f"FakeLLM served {len(llm.requests)} chat requests")


if __name__ == "__main__":
    run_main(main)
