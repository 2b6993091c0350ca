"""A minimal Server-Sent Events reader over already-split lines (httpx `Response.iter_lines()`).

Handles `data:` with or without the space, multi-line data, `event:` names, `:` comment lines
(OpenRouter's ": OPENROUTER PROCESSING" keep-alives, yielded as event "comment" so a reader can
check cancellation and deadlines during a long prefill) and `id:`/`retry:` fields (ignored). A bare JSON line
outside SSE framing (a provider that answers a stream request with plain JSON) is yielded as one event.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class SSEEvent:
    event: str
    data: str


def iter_sse(lines: Iterable[str]) -> Iterator[SSEEvent]:
    """Yield one event per blank-line-terminated block; a final unterminated block is yielded too."""
    event = "message"
    data: list[str] = []
    for raw in lines:
        line = raw.rstrip("\r")
        if not line:
            if data:
                yield SSEEvent(event, "\n".join(data))
            event, data = "message", []
            continue
        if line.startswith(":"):
            yield SSEEvent("comment", line[1:].strip())  # lets the reader check cancel/deadline while idle
            continue
        field, sep, value = line.partition(":")
        if not sep:
            if line.lstrip().startswith(("{", "[")) and not data:
                yield SSEEvent("message", line)  # plain JSON, not SSE
            continue
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            data.append(value)
        elif field == "event":
            event = value.strip() or "message"
        elif field.lstrip().startswith(("{", "[")) and not data:
            yield SSEEvent("message", line)
    if data:
        yield SSEEvent(event, "\n".join(data))
