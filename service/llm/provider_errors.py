"""Translating provider failures into the domain error tree, once, at the client boundary.

    HTTP 408/429/5xx/529, MiniMax retryable base_resp codes, mid-stream errors   -> ProviderRetryable
    HTTP 400/401/402/403/404/422, MiniMax auth/balance/moderation/invalid codes   -> ProviderFinal
    "maximum context length is N tokens ... requested X" / MiniMax 2013 window     -> ContextOverflow

Messages quote the provider's text (shortened); callers scrub the API key before raising.
"""

from __future__ import annotations

import json
import re
import time
from email.utils import parsedate_to_datetime
from typing import Any

from service.errors import ContextOverflow, LongdocError, ProviderFinal, ProviderRetryable

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
FINAL_STATUS_CODES = {
    400: "provider_invalid_request",
    401: "provider_auth",
    402: "provider_insufficient_balance",
    403: "provider_forbidden",
    404: "provider_not_found",
    413: "provider_request_too_large",
    422: "provider_invalid_request",
}
# MiniMax base_resp.status_code -> None (retryable) or the ProviderFinal code.
MINIMAX_CODES: dict[int, str | None] = {
    1000: None,
    1001: None,
    1002: None,
    1013: None,
    1024: None,
    1033: None,
    1039: None,
    1041: None,
    2045: None,
    1004: "provider_auth",
    2049: "provider_auth",
    1008: "provider_insufficient_balance",
    1026: "provider_moderation",
    1027: "provider_moderation",
    1042: "provider_invalid_request",
    2013: "provider_invalid_request",
    2056: "provider_usage_limit",
}
_NUM = r"(\d[\d,]*)"
_LIMIT_RE = re.compile(r"maximum context length is " + _NUM + r"\s*tokens", re.I)
_REQUESTED_RES = (
    re.compile(r"you requested (?:about )?" + _NUM + r"\s*tokens", re.I),
    re.compile(r"your (?:request|prompt) (?:has|contains(?: at least)?) " + _NUM + r"\s*(?:input )?", re.I),
)
# The prompt's own share when the message splits the request into input and output (vLLM, OpenRouter).
_PROMPT_PART_RE = re.compile(r"\(" + _NUM + r"\s*(?:of text input|in the messages)", re.I)
_OVERFLOW_HINTS = ("context window exceeds limit", "context_length_exceeded", "maximum context length")
_MODERATION_HINTS = ("moderation", "flagged", "guardrail", "sensitive")
_MAX_MESSAGE = 500


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "..."


def parse_retry_after(value: str | None, cap_s: float) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), clamped to [0, cap_s]."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return min(max(seconds, 0.0), cap_s)


def overflow_from_message(message: str) -> ContextOverflow | None:
    """A ContextOverflow if the provider text says the prompt did not fit, with the numbers when given."""
    lowered = message.lower()
    if not any(hint in lowered for hint in _OVERFLOW_HINTS):
        return None
    details: dict[str, Any] = {"provider_message": short(message)}
    if limit := _LIMIT_RE.search(message):
        details["provider_limit"] = _int(limit.group(1))
    for pattern in _REQUESTED_RES:
        if requested := pattern.search(message):
            details["provider_prompt_tokens"] = _int(requested.group(1))
            break
    if part := _PROMPT_PART_RE.search(message):  # "you requested N" counted the output too
        details["provider_requested_tokens"] = details.get("provider_prompt_tokens")
        details["provider_prompt_tokens"] = _int(part.group(1))
    return ContextOverflow(f"the provider refused the prompt as too long: {short(message)}", details=details)


def error_text(body: Any) -> str:
    """The human message inside the many error shapes providers use."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            text = str(error.get("message") or "")
            metadata = error.get("metadata")
            raw = metadata.get("raw") if isinstance(metadata, dict) else None
            return f"{text} ({short(str(raw))})" if raw else text
        if isinstance(error, str):
            return error
        base = body.get("base_resp")
        if isinstance(base, dict) and base.get("status_msg"):
            return str(base["status_msg"])
        for key in ("message", "detail", "msg"):
            if body.get(key):
                return str(body[key])
    return "" if body is None else str(body)


def from_base_resp(body: dict[str, Any]) -> LongdocError | None:
    """The error a MiniMax `base_resp` with a non-zero status code stands for, else None."""
    base = body.get("base_resp")
    if not isinstance(base, dict):
        return None
    try:
        code = int(base.get("status_code") or 0)
    except (TypeError, ValueError):
        return None
    if code == 0:
        return None
    msg = str(base.get("status_msg") or "")
    if overflow := overflow_from_message(msg):
        return overflow
    details = {"provider_code": code}
    text = f"provider error {code}: {short(msg)}"
    final_code = MINIMAX_CODES.get(code, "provider_rejected")
    if final_code is None:
        return ProviderRetryable(text, details=details)
    return ProviderFinal(text, code=final_code, details=details)


def from_http_status(status: int, body: Any, retry_after: float | None) -> LongdocError:
    """Map a non-2xx response (already read and JSON-decoded when possible)."""
    if isinstance(body, dict) and (mapped := from_base_resp(body)):
        return mapped
    message = error_text(body)
    if overflow := overflow_from_message(message):
        return overflow
    text = f"provider returned HTTP {status}" + (f": {short(message)}" if message else "")
    details: dict[str, Any] = {"http_status": status}
    if status in RETRYABLE_STATUS or status >= 500:
        return ProviderRetryable(text, retry_after_s=retry_after, details=details)
    code = FINAL_STATUS_CODES.get(status, "provider_rejected")
    if status == 403 and any(h in message.lower() for h in _MODERATION_HINTS):
        code = "provider_moderation"
    return ProviderFinal(text, code=code, details=details)


def from_stream_error(payload: Any) -> LongdocError:
    """An error delivered inside a 200 stream (OpenRouter `{"error": ...}` chunks, `event: error`)."""
    if isinstance(payload, dict) and (mapped := from_base_resp(payload)):
        return mapped
    message = error_text(payload)
    if overflow := overflow_from_message(message):
        return overflow
    error = payload.get("error") if isinstance(payload, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    if isinstance(code, int) and 400 <= code < 500 and code not in RETRYABLE_STATUS:
        return from_http_status(code, payload, None)
    return ProviderRetryable(f"provider failed mid-stream: {short(message) or 'unknown error'}")


def decode_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
