"""Hostile or sloppy API input gets a clear JSON error: oversized JSON (declared or chunked), unknown
fields, wrong types, long questions, odd filenames, non-multipart uploads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from service.api.middleware import BodyLimitMiddleware
from service.config import LimitSettings, Settings
from service.main import create_app

JSON_LIMIT = 2000


@pytest.fixture()
def client(settings: Settings) -> Iterator[TestClient]:
    assert settings.redis_url
    conf = settings.model_copy(
        update={
            "redis_url": settings.redis_url.rsplit("/", 1)[0] + "/6",  # no worker consumes this db
            "limits": LimitSettings(max_json_body_bytes=JSON_LIMIT, max_question_chars=100),
        }
    )
    with TestClient(create_app(conf)) as c:
        yield c


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    assert body["code"] == code and body["message"]
    return body


def _padded_job(size: int) -> bytes:
    """A valid-looking job request of about `size` bytes."""
    head = b'{"type": "summarize", "document_ids": ["doc_x"], "model": "'
    return head + b"m" * max(0, size - len(head) - 2) + b'"}'


def test_json_body_over_the_limit_is_413_by_content_length(client: TestClient) -> None:
    body = _padded_job(JSON_LIMIT + 1)
    err = _error(
        client.post("/v1/jobs", content=body, headers={"content-type": "application/json"}),
        413,
        "body_too_large",
    )
    assert err["details"] == {"limit_bytes": JSON_LIMIT}


def test_chunked_json_body_over_the_limit_is_413_through_the_api(client: TestClient) -> None:
    chunks = (b" " * 500 for _ in range(10))
    resp = client.post("/v1/jobs", content=chunks, headers={"content-type": "application/json"})
    _error(resp, 413, "body_too_large")
    assert "content-length" not in {k.lower() for k in resp.request.headers}


def test_body_limit_stops_reading_a_chunked_body_at_the_limit() -> None:
    """At the ASGI level (TestClient buffers bodies): the middleware pulls chunks only up to the limit."""
    pulled, sent, app_called = 0, [], []

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 500, "more_body": True}  # an endless body

    async def send(message: Message) -> None:
        sent.append(message)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        app_called.append(scope)

    scope = {"type": "http", "method": "POST", "path": "/v1/jobs", "headers": [], "query_string": b""}
    anyio.run(BodyLimitMiddleware(app, max_bytes=JSON_LIMIT), scope, receive, send)
    assert pulled == JSON_LIMIT // 500 + 1 and not app_called
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"]["code"] == "body_too_large"


def test_json_body_under_the_limit_reaches_validation(client: TestClient) -> None:
    body = _padded_job(JSON_LIMIT - 10)
    resp = client.post("/v1/jobs", content=body, headers={"content-type": "application/json"})
    assert resp.status_code in (400, 404), resp.text  # got past the size check to the job checks
    assert resp.json()["error"]["code"] != "body_too_large"


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "qa", "document_ids": ["doc_x"], "question": "q", "tenant": "someone-else"},
        {"type": "qa", "document_ids": ["doc_x"], "question": "q", "options": {"tools": ["shell"]}},
        {"type": "qa", "document_ids": "doc_x", "question": "q"},
        {"type": "qa", "document_ids": [1, 2], "question": "q"},
        {"type": "qa", "document_ids": ["doc_x"], "question": ["q"]},
        {"type": "qa", "document_ids": ["doc_x"], "question": "q", "options": {"temperature": "hot"}},
        {"type": "qa", "document_ids": ["doc_x"], "question": "q", "options": {"max_output_tokens": -5}},
        {"type": "summarize"},
        [],
        "summarize",
    ],
)
def test_unknown_fields_and_wrong_types_are_422(client: TestClient, spec: Any) -> None:
    err = _error(client.post("/v1/jobs", json=spec), 422, "validation_error")
    assert err["details"] and all("loc" in d and "msg" in d for d in err["details"])


def test_malformed_json_is_422(client: TestClient) -> None:
    resp = client.post("/v1/jobs", content=b'{"type": "qa",', headers={"content-type": "application/json"})
    _error(resp, 422, "validation_error")


def test_questions_longer_than_the_limit_are_400(client: TestClient) -> None:
    long_q = "why " * 30  # 120 characters, limit 100
    for spec in (
        {"type": "qa", "document_ids": ["doc_x"], "question": long_q},
        {"type": "qa", "document_ids": ["doc_x"], "questions": ["ok?", long_q]},
    ):
        err = _error(client.post("/v1/jobs", json=spec), 400, "question_too_long")
        assert "100" in err["message"]


def _raw_multipart(filename: bytes, data: bytes = b"hello there\n") -> tuple[bytes, dict[str, str]]:
    """Multipart built by hand: HTTP clients percent-encode odd filenames, attackers do not."""
    body = (
        b'--XBOUNDARYX\r\nContent-Disposition: form-data; name="file"; filename="'
        + filename
        + b'"\r\nContent-Type: text/plain\r\n\r\n'
        + data
        + b"\r\n--XBOUNDARYX--\r\n"
    )
    return body, {"content-type": "multipart/form-data; boundary=XBOUNDARYX"}


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (b"../../etc/passwd", "passwd"),
        (b"..\\..\\windows\\win.ini", "win.ini"),
        (b"/abs/path/report.pdf.txt", "report.pdf.txt"),
        (b"a\x00b\x1bc\x7f.txt", "abc.txt"),
        (b"line\nbreak.txt", "linebreak.txt"),
        (b"..", "upload"),
        (b"", "upload"),
    ],
)
def test_filenames_are_sanitised(client: TestClient, raw: bytes, stored: str) -> None:
    body, headers = _raw_multipart(raw)
    resp = client.post("/v1/documents", content=body, headers=headers)
    assert resp.status_code == 201, resp.text
    assert resp.json()["name"] == stored
    assert client.get(f"/v1/documents/{resp.json()['id']}").json()["name"] == stored


def test_a_broken_multipart_header_is_400_not_500(client: TestClient) -> None:
    body, headers = _raw_multipart(b"evil\r\nX-Injected: 1\r\n.txt")
    _error(client.post("/v1/documents", content=body, headers=headers), 400, "bad_multipart")


def test_urlencoded_upload_is_400(client: TestClient) -> None:
    resp = client.post("/v1/documents", data={"file": "hello"})
    assert resp.request.headers["content-type"] == "application/x-www-form-urlencoded"
    _error(resp, 400, "multipart_required")


def test_the_upload_route_is_not_held_to_the_json_limit(client: TestClient) -> None:
    resp = client.post("/v1/documents", files={"file": ("big.txt", b"word " * JSON_LIMIT)})
    assert resp.status_code == 201, resp.text
