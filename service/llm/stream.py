"""Accumulating a chat-completions stream: answer text, reasoning, finish reason, usage.

Copes with the variants seen in the wild:
- incremental deltas (OpenAI style) and cumulative ones (MiniMax's native stream repeats the WHOLE text in
  the final chunk; some samples send every chunk cumulative): a piece that starts with everything received
  so far on that channel only contributes its new suffix;
- reasoning in `<think>` tags inside content, in `reasoning_content` (vLLM, MiniMax native), `reasoning`
  (OpenRouter) or `reasoning_details[].text`; one delta may repeat the same text in several of those
  fields, so only the first non-empty one counts;
- `choices: null` / `[]` chunks (usage-only, keep-alive), a final `message` object instead of `delta`,
  errors inside the stream (`{"error": ...}`, MiniMax `base_resp`).
"""

from __future__ import annotations

from typing import Any

from service.errors import ProviderRetryable
from service.llm.provider_errors import from_base_resp, from_stream_error
from service.llm.reasoning import ThinkSplitter

# A chunk is only taken as cumulative once the repeated prefix is this long (short prefixes repeat by chance).
_MIN_CUMULATIVE_PREFIX = 8


class _Channel:
    """One text channel (content or reasoning) with cumulative-chunk detection."""

    def __init__(self) -> None:
        self.received = ""
        self.cumulative = False

    def add(self, piece: str) -> str:
        seen = self.received
        if seen and piece.startswith(seen) and (self.cumulative or len(seen) >= _MIN_CUMULATIVE_PREFIX):
            self.cumulative = True
            piece = piece[len(seen) :]
        self.received += piece
        return piece


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # content parts
        return "".join(str(p.get("text") or "") for p in value if isinstance(p, dict))
    return ""


def _reasoning_piece(part: dict[str, Any]) -> str:
    for key in ("reasoning_content", "reasoning"):
        if text := _text(part.get(key)):
            return text
    details = part.get("reasoning_details")
    if isinstance(details, list):
        return "".join(str(d.get("text") or d.get("summary") or "") for d in details if isinstance(d, dict))
    return ""


class StreamAccumulator:
    """Feed decoded chunk objects with `add`; call `finish()` once the stream ended."""

    def __init__(self) -> None:
        self._content = _Channel()
        self._reasoning = _Channel()
        self._splitter = ThinkSplitter()
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self.chunks = 0
        self.chars = 0

    def add(self, payload: Any) -> None:
        """Take one decoded chunk; raises the mapped provider error when the chunk reports one."""
        if not isinstance(payload, dict):
            return
        self.chunks += 1
        if payload.get("error"):
            raise from_stream_error(payload)
        if mapped := from_base_resp(payload):
            raise mapped
        usage = payload.get("usage")
        if isinstance(usage, dict) and any(usage.get(k) for k in ("prompt_tokens", "completion_tokens")):
            self.usage = usage
        choices = payload.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return
        choice = choices[0]
        for key in ("delta", "message"):
            part = choice.get(key)
            if isinstance(part, dict):
                self._add_part(part)
        if reason := choice.get("finish_reason"):
            if reason == "error":
                raise ProviderRetryable("provider ended the stream with finish_reason=error")
            self.finish_reason = str(reason)

    def _add_part(self, part: dict[str, Any]) -> None:
        reasoning = self._reasoning.add(_reasoning_piece(part))
        content = self._content.add(_text(part.get("content")))
        self._splitter.feed(content)
        self.chars += len(reasoning) + len(content)

    def finish(self) -> tuple[str, str]:
        """(answer, reasoning) once the stream is over."""
        self._splitter.finish()
        reasoning = "\n\n".join(
            part.strip() for part in (self._reasoning.received, self._splitter.reasoning) if part.strip()
        )
        return self._splitter.answer.strip(), reasoning
