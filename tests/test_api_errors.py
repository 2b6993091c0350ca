"""HTTP error contract: every bad request is a JSON error with a stable code (no worker needed)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.config import LimitSettings, Settings
from service.main import create_app


@pytest.fixture()
def client(settings: Settings) -> Iterator[TestClient]:
    small = settings.model_copy(update={"limits": LimitSettings(max_upload_bytes=10_000)})
    with TestClient(create_app(small)) as c:
        yield c


def _error(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()["error"]  # type: ignore[attr-defined]
    assert body["code"] == code and body["message"]
    return dict(body)


def test_unknown_ids_are_404(client: TestClient) -> None:
    _error(client.get("/v1/documents/doc_nope"), 404, "document_not_found")
    _error(client.get("/v1/documents/doc_nope/text"), 404, "document_not_found")
    _error(client.delete("/v1/documents/doc_nope"), 404, "document_not_found")
    _error(client.get("/v1/jobs/job_nope"), 404, "job_not_found")
    _error(client.post("/v1/jobs/job_nope/cancel"), 404, "job_not_found")
    _error(client.get("/v1/nothing-here"), 404, "not_found")


def test_unsupported_bytes_are_415_whatever_the_name(client: TestClient) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    _error(client.post("/v1/documents", files={"file": ("contract.pdf", png)}), 415, "unsupported_media_type")
    _error(client.post("/v1/documents", files={"file": ("empty.txt", b"")}), 415, "empty_file")


def test_too_large_upload_is_413_and_leaves_no_partial_file(client: TestClient, settings: Settings) -> None:
    body = io.BytesIO(b"x" * 50_000)
    _error(client.post("/v1/documents", files={"file": ("big.txt", body)}), 413, "payload_too_large")
    tmp = settings.storage_dir / "tmp"
    assert not tmp.exists() or not any(tmp.iterdir())


def test_upload_must_be_multipart_with_a_file_field(client: TestClient) -> None:
    _error(
        client.post("/v1/documents", content=b"hello", headers={"content-type": "text/plain"}),
        400,
        "multipart_required",
    )
    _error(
        client.post("/v1/documents", data={"other": "x"}, files={"nofile": ("a.txt", b"hi")}),
        400,
        "file_required",
    )


def test_job_requests_are_validated(client: TestClient) -> None:
    _error(
        client.post(
            "/v1/jobs", json={"type": "qa", "document_ids": ["doc_x"], "question": "q", "surprise": 1}
        ),
        422,
        "validation_error",
    )
    _error(
        client.post("/v1/jobs", json={"type": "translate", "document_ids": ["doc_x"]}),
        422,
        "validation_error",
    )
    _error(client.post("/v1/jobs", json={"type": "qa", "document_ids": []}), 422, "validation_error")
    _error(client.post("/v1/jobs", json={"type": "qa", "document_ids": ["doc_x"]}), 400, "question_required")
    _error(
        client.post("/v1/jobs", json={"type": "qa", "document_ids": ["doc_x"], "question": "q"}),
        404,
        "document_not_found",
    )
    _error(
        client.post("/v1/jobs", json={"type": "summarize", "document_ids": ["doc_x"], "model": "gpt-9"}),
        400,
        "unknown_model",
    )
    _error(
        client.post("/v1/jobs", content=b"{not json", headers={"content-type": "application/json"}),
        422,
        "validation_error",
    )


def test_openapi_documents_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/documents",
        "/v1/documents/{document_id}",
        "/v1/documents/{document_id}/text",
        "/v1/jobs",
        "/v1/jobs/{job_id}",
        "/v1/jobs/{job_id}/cancel",
        "/healthz",
        "/readyz",
    ):
        assert path in paths
