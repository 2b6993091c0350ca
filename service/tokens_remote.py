"""Exact token counts from the model server itself: vLLM's and llama.cpp's `POST /tokenize`.

    vLLM       {"model": m, "prompt": text}  -> {"count": n, "tokens": [...], "max_model_len": ...}
    llama.cpp  {"content": text}             -> {"tokens": [...]}

`probe` finds which shape the server speaks with a one-word request (vLLM's first; a 4xx or an answer
without `count`/`tokens` tries llama.cpp's). A later failure of the server does not stop a job: that count
falls back to the estimator (with a warning) and `method` says so from then on.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import httpx

from service.tokens import EstimatingCounter

log = logging.getLogger(__name__)

Dialect = Literal["vllm", "llamacpp"]
_TIMEOUT = httpx.Timeout(60.0, connect=5.0)


def _body(dialect: Dialect, model: str, text: str) -> dict[str, Any]:
    return {"model": model, "prompt": text} if dialect == "vllm" else {"content": text}


def _parse(payload: Any) -> int | None:
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("count"), int):
        return int(payload["count"])
    if isinstance(payload.get("tokens"), list):
        return len(payload["tokens"])
    return None


class EndpointCounter:
    """Counts by asking the serving engine; see the module docstring."""

    expected_error = 0.01  # the chat template adds a few tokens the endpoint does not see

    def __init__(self, url: str, dialect: Dialect, model: str, client: httpx.Client | None = None):
        self.url = url
        self.dialect: Dialect = dialect
        self.model = model
        self._client = client or httpx.Client(timeout=_TIMEOUT)
        self._fallback = EstimatingCounter()
        self._fallbacks = 0

    @property
    def method(self) -> str:
        base = f"exact:{self.dialect}-tokenize"
        return f"{base}+fallback-estimate({self._fallbacks})" if self._fallbacks else base

    @classmethod
    def probe(cls, url: str, model: str, client: httpx.Client | None = None) -> EndpointCounter:
        """A counter for `url` in the dialect the server answers; raises when it answers neither."""
        owned = client is None
        client = client or httpx.Client(timeout=_TIMEOUT)
        problems: list[str] = []
        for dialect in ("vllm", "llamacpp"):
            try:
                response = client.post(url, json=_body(dialect, model, "hello"))
                count = _parse(response.json()) if response.status_code < 300 else None
            except (httpx.HTTPError, ValueError) as exc:
                problems.append(f"{dialect}: {type(exc).__name__}")
                continue
            if count is not None:
                log.info("token counts from %s (%s dialect)", url, dialect)
                return cls(url, dialect, model, client)
            problems.append(f"{dialect}: HTTP {response.status_code}")
        if owned:
            client.close()
        raise ValueError("no usable /tokenize answer (" + "; ".join(problems) + ")")

    def count(self, text: str) -> int:
        if not text:
            return 0
        try:
            response = self._client.post(self.url, json=_body(self.dialect, self.model, text))
            count = _parse(response.json()) if response.status_code < 300 else None
        except (httpx.HTTPError, ValueError) as exc:
            count, reason = None, type(exc).__name__
        else:
            reason = f"HTTP {response.status_code}"
        if count is None:
            self._fallbacks += 1
            log.warning("tokenize endpoint %s failed (%s); estimating this count", self.url, reason)
            self.expected_error = max(self.expected_error, self._fallback.expected_error)
            return self._fallback.count(text)
        return count
