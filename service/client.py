"""A small HTTP client for the longdoc API (used by the CLI and the demo)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx


class ApiError(Exception):
    def __init__(self, status: int, body: Any):
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.status = status
        self.code = error.get("code", "http_error")
        self.details = error.get("details")
        super().__init__(f"{status} {self.code}: {error.get('message', body)}")


class LongdocClient:
    def __init__(self, base_url: str, timeout_s: float = 60.0, token: str | None = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base_url, timeout=timeout_s, headers=headers)

    def _json(self, response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = {"error": {"message": response.text[:500]}}
        if response.status_code >= 400:
            raise ApiError(response.status_code, body)
        return body

    def ready(self) -> bool:
        try:
            return self.http.get("/readyz").status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.ready():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the API at {self.http.base_url} was not ready within {timeout_s:.0f} s")
            time.sleep(0.2)

    def upload(self, path: Path) -> dict[str, Any]:
        with open(path, "rb") as f:
            return dict(self._json(self.http.post("/v1/documents", files={"file": (path.name, f)})))

    def document(self, doc_id: str) -> dict[str, Any]:
        return dict(self._json(self.http.get(f"/v1/documents/{doc_id}")))

    def documents(self) -> dict[str, Any]:
        return dict(self._json(self.http.get("/v1/documents")))

    def text(self, doc_id: str, **params: Any) -> dict[str, Any]:
        return dict(self._json(self.http.get(f"/v1/documents/{doc_id}/text", params=params)))

    def delete(self, doc_id: str) -> None:
        response = self.http.delete(f"/v1/documents/{doc_id}")
        if response.status_code != 204:
            self._json(response)

    def submit(self, spec: dict[str, Any]) -> dict[str, Any]:
        return dict(self._json(self.http.post("/v1/jobs", json=spec)))

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(self._json(self.http.get(f"/v1/jobs/{job_id}")))

    def cancel(self, job_id: str) -> dict[str, Any]:
        return dict(self._json(self.http.post(f"/v1/jobs/{job_id}/cancel")))

    def wait_document(self, doc_id: str, timeout_s: float = 300.0) -> dict[str, Any]:
        return self._wait(lambda: self.document(doc_id), {"ready", "failed"}, timeout_s)

    def wait_job(
        self, job_id: str, timeout_s: float = 3600.0, on_poll: Callable[[dict[str, Any]], None] | None = None
    ) -> dict[str, Any]:
        return self._wait(lambda: self.job(job_id), {"succeeded", "failed", "cancelled"}, timeout_s, on_poll)

    @staticmethod
    def _wait(
        fetch: Callable[[], dict[str, Any]],
        done: set[str],
        timeout_s: float,
        on_poll: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        delay = 0.1
        while True:
            body = fetch()
            if on_poll:
                on_poll(body)
            if body.get("status") in done:
                return body
            if time.monotonic() > deadline:
                raise TimeoutError(f"still {body.get('status')} after {timeout_s:.0f} s")
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    def close(self) -> None:
        self.http.close()
