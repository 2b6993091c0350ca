"""The real-model engine: OpenAI-compatible chat completions over httpx, streamed.

One call = one POST {base_url}/chat/completions with stream=true. Provider failures are translated once,
here (see `provider_errors`), and retried here only (see `retry`); callers (pipeline, Celery task) must not
retry `ProviderRetryable` again on top. The API key goes into the Authorization header and nowhere else:
it is never logged and is scrubbed from every error message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from service.config import ModelSettings
from service.errors import BadRequest, JobCancelled, LongdocError, ProviderFinal, ProviderRetryable
from service.llm.answers import parse_answers
from service.llm.base import RunHooks
from service.llm.catalog import Catalog, ModelInfo
from service.llm.provider_errors import decode_json, from_http_status, from_stream_error, parse_retry_after
from service.llm.ratelimit import NoRateLimit, RateLimiter, scope_for
from service.llm.retry import RetryPolicy, call_with_retry
from service.llm.sse import iter_sse
from service.llm.stream import StreamAccumulator
from service.models import EngineOutput, JobSpec, PackedPrompt, Usage

log = logging.getLogger(__name__)

_ERROR_BODY_LIMIT = 64 * 1024
_PROGRESS_EVERY_CHUNKS = 20
_PROGRESS_EVERY_S = 1.0
_CHARS_PER_TOKEN = 4  # rough, for progress and for usage estimates when the provider sends none


class _Borrowed(httpx.BaseTransport):
    """An injected transport used per call but owned (and closed) by whoever injected it."""

    def __init__(self, inner: httpx.BaseTransport):
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(request)

    def close(self) -> None:
        return None


@dataclass
class _Completion:
    answer: str
    reasoning: str
    finish_reason: str | None
    usage: dict[str, Any] | None
    chars: int


class OpenAICompatEngine:
    """Engine for any OpenAI-compatible endpoint (MiniMax, OpenRouter, vLLM, llama.cpp...)."""

    name = "llm"

    def __init__(
        self,
        settings: ModelSettings,
        catalog: Catalog,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rate_limiter: RateLimiter | None = None,
    ):
        if not settings.provider_base_url:
            raise BadRequest("no model provider configured", code="provider_not_configured")
        self._settings = settings
        self._catalog = catalog
        self._transport = _Borrowed(transport) if transport is not None else None
        self._sleep = sleep
        self._limiter: RateLimiter = rate_limiter or NoRateLimit()
        self._url = settings.provider_base_url.rstrip("/") + "/chat/completions"
        self._openrouter = "openrouter.ai" in settings.provider_base_url
        self._key = settings.api_key.get_secret_value() if settings.api_key else ""
        self._timeout = httpx.Timeout(
            connect=settings.connect_timeout_s, read=settings.read_timeout_s, write=60.0, pool=10.0
        )
        self._policy = RetryPolicy(
            max_attempts=settings.max_attempts,
            base_s=settings.backoff_base_s,
            cap_s=settings.backoff_max_s,
            total_deadline_s=settings.total_deadline_s,
        )

    def run(self, prompt: PackedPrompt, spec: JobSpec, hooks: RunHooks) -> EngineOutput:
        info = self._catalog.get(spec.model or self._settings.default_model)
        body = self.build_request(prompt, spec, info)
        log.info(
            "model call: model=%s max_tokens=%s chars=%d",
            body["model"],
            body["max_tokens"],
            len(prompt.system) + len(prompt.user),
        )
        scope = scope_for(self._settings.provider_base_url or "", info.id)
        reserve = prompt.manifest.total_tokens + body["max_tokens"]  # what the provider counts against TPM

        def attempt(_attempt: int, deadline: float) -> _Completion:
            self._limiter.acquire(scope, info.rate_limits, reserve, deadline, hooks.cancelled)
            return self._attempt(client, body, hooks, deadline)

        try:
            with httpx.Client(transport=self._transport, timeout=self._timeout) as client:
                completion = call_with_retry(
                    attempt, self._policy, sleep=self._sleep, cancelled=hooks.cancelled
                )
            output = self._output(completion, prompt, info, body["max_tokens"])
        except LongdocError as exc:
            raise self._scrub(exc) from exc.__cause__
        if not output.usage.estimated:  # give back the unused part of the output reservation
            self._limiter.release(scope, info.rate_limits, reserve - output.usage.total_tokens)
        return output

    def build_request(self, prompt: PackedPrompt, spec: JobSpec, info: ModelInfo) -> dict[str, Any]:
        """The JSON body of the chat-completions call (no secrets in it)."""
        wanted = spec.options.max_output_tokens or self._settings.default_max_output_tokens
        max_tokens = min(wanted, info.max_output)
        body: dict[str, Any] = {
            "model": info.provider_model_id,
            "messages": [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user},
            ],
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": max_tokens,
            "max_completion_tokens": max_tokens,
            "temperature": info.clamp_temperature(spec.options.temperature),
            "top_p": info.top_p_default,
        }
        if self._openrouter:
            body["model"] = info.openrouter_model_id or info.provider_model_id
            body["transforms"] = []  # never middle-out: it silently drops the middle of the documents
            provider: dict[str, Any] = {"allow_fallbacks": False, "require_parameters": True}
            if info.openrouter_provider_only:
                provider["only"] = list(info.openrouter_provider_only)
                provider["order"] = list(info.openrouter_provider_only)
            body["provider"] = provider
        elif info.reasoning_format == "reasoning_details":
            body["reasoning_split"] = True  # MiniMax M2.x: reasoning into reasoning_details, not content
        return body

    # ------------------------------------------------------------------ one attempt

    def _attempt(
        self, client: httpx.Client, body: dict[str, Any], hooks: RunHooks, deadline: float
    ) -> _Completion:
        headers = {"Accept": "text/event-stream"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        acc = StreamAccumulator()
        try:
            with client.stream("POST", self._url, json=body, headers=headers) as response:
                if response.status_code >= 300:
                    raise self._http_error(response)
                if "text/event-stream" in response.headers.get("content-type", ""):
                    complete = self._consume(response, acc, hooks, deadline, body["max_tokens"])
                else:  # a plain JSON answer (errors with HTTP 200, or a server ignoring stream=true)
                    acc.add(decode_json(self._read_capped(response, None)))
                    complete = True
        except httpx.TimeoutException as exc:
            message = f"provider timed out ({type(exc).__name__})"
            raise ProviderRetryable(message, code="provider_timeout") from exc
        except httpx.HTTPError as exc:
            raise ProviderRetryable(f"provider connection failed ({type(exc).__name__})") from exc
        if not complete and acc.finish_reason is None:
            raise ProviderRetryable("the stream ended before completion", code="provider_truncated_stream")
        answer, reasoning = acc.finish()
        return _Completion(answer, reasoning, acc.finish_reason, acc.usage, acc.chars)

    def _consume(
        self, response: httpx.Response, acc: StreamAccumulator, hooks: RunHooks, deadline: float, budget: int
    ) -> bool:
        """Read SSE events into `acc`; True when `[DONE]` arrived."""
        last_time, last_chunks = time.monotonic(), 0
        for event in iter_sse(response.iter_lines()):
            if hooks.cancelled():
                raise JobCancelled("the job was cancelled during generation")
            now = time.monotonic()
            if now > deadline:
                raise ProviderRetryable("the model call exceeded its total deadline", code="provider_timeout")
            if event.event == "comment":
                continue
            data = event.data.strip()
            if data == "[DONE]":
                return True
            payload = decode_json(data)
            if event.event == "error":
                raise from_stream_error(payload)
            acc.add(payload)
            if acc.chunks - last_chunks >= _PROGRESS_EVERY_CHUNKS or now - last_time >= _PROGRESS_EVERY_S:
                tokens = acc.chars // _CHARS_PER_TOKEN
                hooks.progress("generating", min(99.0, 100.0 * tokens / max(budget, 1)), output_tokens=tokens)
                last_time, last_chunks = now, acc.chunks
        return False

    def _http_error(self, response: httpx.Response) -> LongdocError:
        retry_after = parse_retry_after(response.headers.get("retry-after"), self._settings.backoff_max_s)
        body = decode_json(self._read_capped(response, _ERROR_BODY_LIMIT))
        return from_http_status(response.status_code, body, retry_after)

    @staticmethod
    def _read_capped(response: httpx.Response, limit: int | None) -> str:
        data = bytearray()
        for piece in response.iter_bytes():
            data += piece
            if limit is not None and len(data) >= limit:
                break
        return bytes(data[:limit] if limit else data).decode("utf-8", errors="replace")

    # ------------------------------------------------------------------ result

    def _output(self, done: _Completion, prompt: PackedPrompt, info: ModelInfo, budget: int) -> EngineOutput:
        if not done.answer:
            if done.finish_reason == "length":
                raise ProviderFinal(
                    f"the output budget ({budget} tokens) ran out before the model wrote an answer",
                    code="output_truncated",
                    details={"max_output_tokens": budget, "reasoning_chars": len(done.reasoning)},
                )
            raise ProviderFinal("the model returned an empty answer", code="empty_answer")
        return EngineOutput(
            engine=self.name,
            model=info.id,
            answers=parse_answers(done.answer, prompt.job_type, prompt.questions),
            reasoning=done.reasoning or None,  # the pipeline decides whether the client sees it
            usage=_usage(done, prompt),
            finish_reason=done.finish_reason,
        )

    def _scrub(self, exc: LongdocError) -> LongdocError:
        """Remove the API key from an error's message and details (a proxy might echo headers)."""
        if self._key and (self._key in exc.message or self._key in repr(exc.details)):
            exc.message = exc.message.replace(self._key, "***")
            exc.args = (exc.message,)
            exc.details = {
                k: str(v).replace(self._key, "***") if self._key in str(v) else v
                for k, v in exc.details.items()
            }
        return exc


def _usage(done: _Completion, prompt: PackedPrompt) -> Usage:
    raw = done.usage
    if raw:
        completion_details = raw.get("completion_tokens_details") or {}
        prompt_details = raw.get("prompt_tokens_details") or {}
        prompt_tokens = int(raw.get("prompt_tokens") or 0)
        completion_tokens = int(raw.get("completion_tokens") or 0)
        return Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
            cached_tokens=int(prompt_details.get("cached_tokens") or 0),
            total_tokens=int(raw.get("total_tokens") or prompt_tokens + completion_tokens),
            estimated=False,
        )
    prompt_chars = len(prompt.system) + len(prompt.user)
    prompt_tokens = prompt.manifest.total_tokens or prompt_chars // _CHARS_PER_TOKEN
    completion_tokens = (len(done.answer) + len(done.reasoning)) // _CHARS_PER_TOKEN
    return Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        reasoning_tokens=len(done.reasoning) // _CHARS_PER_TOKEN,
        cached_tokens=0,
        total_tokens=prompt_tokens + completion_tokens,
        estimated=True,
    )
