"""Webhooks through the real API and worker: a loopback receiver that fails first, signed retries,
the delivery log, test deliveries, secret rotation, redirects refused, and schedule-run events."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from service import webhooks
from service.client import ApiError, LongdocClient
from service.local_stack import LocalStack
from service.pipeline import build_services
from service.queue import JobQueue
from service.scheduling import runner

SAMPLES = Path(__file__).resolve().parents[1] / "sample_docs"


class Receiver:
    """A loopback HTTP server answering with scripted statuses (then 200) and recording every request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status = receiver.script.pop(0) if receiver.script else 200
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(status)
                if status in (301, 302, 307):
                    self.send_header("Location", f"{receiver.url}/moved")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout_s: float = 30.0) -> list[dict[str, Any]]:
        return poll(lambda: list(self.requests) if len(self.requests) >= count else None, timeout_s)


def poll(fetch: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while (value := fetch()) is None:
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return value


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.server.shutdown()
    running.server.server_close()


def secret(api: LongdocClient) -> str:
    return str(api.http.get("/v1/webhooks/secret").json()["secret"])


def deliveries(api: LongdocClient, event_id: str) -> list[dict[str, Any]]:
    return list(api.http.get("/v1/webhooks/deliveries", params={"event_id": event_id}).json()["items"])


def test_signature_scheme() -> None:
    body = b'{"event":"job.finished"}'
    header = webhooks.sign("s3cret", body, 1_700_000_000)
    assert webhooks.verify("s3cret", header, body, now=1_700_000_100)
    assert not webhooks.verify("s3cret", header, body + b" ", now=1_700_000_100)  # tampered body
    assert not webhooks.verify("other", header, body, now=1_700_000_100)
    assert not webhooks.verify("s3cret", header, body, now=1_700_001_000)  # replayed too late
    assert not webhooks.verify("s3cret", "v1=abc", body)


def test_job_callback_is_retried_after_a_failure_and_signed(api: LongdocClient, receiver: Receiver) -> None:
    receiver.script = [500]
    doc = api.upload(SAMPLES / "release_notes.txt")
    job = api.submit(
        {"type": "summarize", "document_ids": [doc["id"]], "callback_url": f"{receiver.url}/hook"}
    )
    first, second = receiver.wait_for(2)
    key = secret(api)
    for request, attempt in ((first, "1"), (second, "2")):
        assert webhooks.verify(key, request["headers"][webhooks.SIGNATURE_HEADER], request["body"])
        assert request["headers"]["X-Longdoc-Attempt"] == attempt and request["path"] == "/hook"
    assert first["body"] == second["body"]  # the same event, re-signed
    event = json.loads(second["body"])
    assert (
        event["event"] == "job.finished" and event["job_id"] == job["id"] and event["status"] == "succeeded"
    )
    assert second["headers"]["X-Longdoc-Delivery"] == f"job.finished:{job['id']}"

    def both_logged() -> list[dict[str, Any]] | None:
        found = deliveries(api, event["event_id"])
        return found if len(found) == 2 else None

    log = poll(both_logged)
    assert [(d["attempt"], d["status"], d["status_code"]) for d in log] == [
        (2, "delivered", 200),
        (1, "retrying", 500),
    ]
    assert log[1]["retry_in_s"] > 0 and log[1]["error"] == "HTTP 500"


def test_report_callback_names_the_report(api: LongdocClient, receiver: Receiver) -> None:
    doc = api.upload(SAMPLES / "payments-service.log")
    body = {"template": "daily_log_digest", "document_ids": [doc["id"]], "callback_url": receiver.url}
    created = api.http.post("/v1/reports", json=body).json()
    (request,) = receiver.wait_for(1)
    event = json.loads(request["body"])
    assert event["report_id"] == created["id"] and event["links"]["report"] == f"/v1/reports/{created['id']}"
    assert api.http.get(f"/v1/reports/{created['id']}").json()["status"] == "ready"


def test_test_delivery_rotation_and_no_redirects(api: LongdocClient, receiver: Receiver) -> None:
    old = secret(api)
    rotated = api.http.post("/v1/webhooks/secret/rotate").json()["secret"]
    assert rotated != old and secret(api) == rotated
    sent = api.http.post("/v1/webhooks/test", json={"url": receiver.url}).json()
    assert sent["status"] == "delivered" and sent["status_code"] == 200
    (request,) = receiver.requests
    assert json.loads(request["body"])["event"] == "webhook.test"
    assert webhooks.verify(rotated, request["headers"][webhooks.SIGNATURE_HEADER], request["body"])
    assert not webhooks.verify(old, request["headers"][webhooks.SIGNATURE_HEADER], request["body"])

    receiver.script = [302]
    moved = api.http.post("/v1/webhooks/test", json={"url": receiver.url}).json()
    assert moved["status"] == "failed" and moved["status_code"] == 302 and "not followed" in moved["error"]
    assert [r["path"] for r in receiver.requests] == ["/", "/"]  # /moved was never requested
    assert deliveries(api, moved["event_id"])[0]["status"] == "failed"
    bad = api.http.post("/v1/webhooks/test", json={"url": "file:///etc/passwd"})
    assert bad.status_code == 422


def test_schedule_run_webhook_from_the_sweep(
    api: LongdocClient, stack: LocalStack, receiver: Receiver
) -> None:
    doc = api.upload(SAMPLES / "payments-service.log")
    body = {
        "name": "hooked",
        "interval_s": 86400,
        "callback_url": f"{receiver.url}/runs",
        "template": {"document_ids": [doc["id"]], "report_template": "daily_log_digest"},
    }
    schedule = api.http.post("/v1/schedules", json=body).json()
    run = api.http.post(f"/v1/schedules/{schedule['id']}/run").json()
    api.wait_job(run["job_id"], 60)
    queue = JobQueue(stack.settings)
    services = build_services(stack.settings)
    try:
        assert run["id"] in [r.id for r in runner.sweep(services, queue)]
    finally:
        queue.close()
    (request,) = receiver.wait_for(1)
    event = json.loads(request["body"])
    assert event["event"] == "schedule.run.finished" and event["run_id"] == run["id"]
    assert event["status"] == "succeeded" and event["report_id"] == run["report_id"]
    assert webhooks.verify(secret(api), request["headers"][webhooks.SIGNATURE_HEADER], request["body"])
    api.http.delete(f"/v1/schedules/{schedule['id']}")


def test_a_cancelled_job_announces_itself_exactly_once(api: LongdocClient, receiver: Receiver) -> None:
    doc = api.wait_document(api.upload(SAMPLES / "release_notes.txt")["id"], 120)
    job = api.submit({"type": "summarize", "document_ids": [doc["id"]], "callback_url": receiver.url})
    try:
        status = api.cancel(job["id"])["status"]  # usually still queued: revoked before a worker runs it
    except ApiError as exc:  # the worker was faster: the job has already finished
        assert exc.code == "job_finished"
        status = api.wait_job(job["id"], 60)["status"]
    (request,) = receiver.wait_for(1)
    event = json.loads(request["body"])
    assert event["job_id"] == job["id"] and event["status"] == status
    time.sleep(2)  # a worker that still saw the job must not announce it a second time
    assert len(receiver.requests) == 1
