"""An OpenAI-compatible chat-completions server for tests, run by uvicorn on 127.0.0.1 in a thread.

    with FakeLLM(flavor="minimax", context_limit=50_000) as llm:
        llm.fail_next(status=429, retry_after=1)
        settings = ModelSettings(provider_base_url=llm.base_url, api_key="k")
        ...
        llm.requests[-1]["max_tokens"]

Flavors pick the reasoning format and the error shapes:
- "minimax":    `<think>` inside content (tags deliberately split into 3-character chunks), the native
                quirk of repeating the whole text in the final chunk, HTTP 200 + base_resp errors;
- "vllm":       `reasoning_content` deltas, `{"object": "error", ...}` bodies;
- "openrouter": `reasoning` (+ `reasoning_details`) deltas, `: OPENROUTER PROCESSING` comments,
                `{"error": {...}}` bodies, and mid-stream errors inside an HTTP 200 stream.

The answer cites the first non-empty line of the first `<document id=...>` in the user message (page from
`<page number="N">`, line from a `N| ` prefix), once per `<question n=...>` of the task.
Faults are queued and each consumes one request: fail_next, base_resp_error, midstream_error,
truncate_stream, hang, finish_length, raw_stream.

Prompt tokens are counted as len(text) / chars_per_token (+4 per message). `POST /tokenize` counts the same
way, in vLLM's dialect ({"model", "prompt"} -> {"count", "tokens", "max_model_len"}) and llama.cpp's
({"content"} -> {"tokens"}); tokenize_dialect="llamacpp" refuses vLLM's shape like a llama.cpp server.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import socket
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

Flavor = Literal["minimax", "openrouter", "vllm"]
_DOC_RE = re.compile(r'<document id="([^"]*)"[^>]*>(.*?)</document>', re.S)
_QUESTION_RE = re.compile(r'<question n="\d+">(.*?)</question>', re.S)
_PAGE_RE = re.compile(r'<page number="(\d+)">')
_LINE_RE = re.compile(r"^(\d+)\| ?(.*)$")
_MESSAGES = {401: "invalid api key", 402: "insufficient credits", 429: "rate limit exceeded"}


@dataclass
class Fault:
    kind: str
    status: int = 500
    retry_after: int | str | None = None
    code: int = 0
    message: str = ""
    seconds: float = 0.0
    after_chunks: int = 0
    sse: bool = False
    echo_auth: bool = False
    events: list[Any] = field(default_factory=list)


def build_reply(user: str) -> tuple[str, str]:
    """(reasoning, answer with a ```json block) citing the first non-empty line of the first document."""
    tail = user[user.rfind("</document>") :] if "</document>" in user else user
    questions: list[str | None] = [html.unescape(q.strip()) for q in _QUESTION_RE.findall(tail)] or [None]
    match = _DOC_RE.search(user)
    if not match:
        return "There is no document to read.", "No documents were provided."
    doc_id, body = match.group(1), match.group(2)
    page: int | None = None
    for raw in body.split("\n"):
        if page_match := _PAGE_RE.fullmatch(raw.strip()):
            page = int(page_match.group(1))
            continue
        if raw.strip() in ("", "</page>"):
            continue
        line_match = _LINE_RE.match(raw)
        line = int(line_match.group(1)) if line_match else None
        quote = (line_match.group(2) if line_match else raw).strip()
        if not quote:
            continue
        citation = {"document_id": doc_id, "page": page, "line_start": line, "line_end": line, "quote": quote}
        break
    else:
        return "The document is empty.", "The document has no text."
    answers = [
        {"question": q, "answer": f"The document begins with: {quote}", "citations": [citation]}
        for q in questions
    ]
    reasoning = f"The user asks about document {doc_id}. Its first line reads: {quote}. I will cite it."
    answer = f'According to the document, it begins with "{quote}".\n\n```json\n'
    return reasoning, answer + json.dumps({"answers": answers}, ensure_ascii=False) + "\n```"


def _pieces(text: str, size: int) -> list[str]:
    """Split text into chunks of `size`, and `<think>`/`</think>` tags into 3-character chunks."""
    out: list[str] = []
    for part in re.split(r"(</?think>)", text):
        step = 3 if part in ("<think>", "</think>") else size
        out += [part[i : i + step] for i in range(0, len(part), step)]
    return out


class FakeLLM:
    """The test server; see the module docstring."""

    def __init__(
        self,
        flavor: Flavor = "minimax",
        context_limit: int = 200_000,
        chunk_chars: int = 16,
        chunk_delay: float = 0.0,
        omit_open_think: bool = False,
        cumulative_final: bool | None = None,
        chars_per_token: float = 3.0,
        tokenize_dialect: Literal["vllm", "llamacpp", "both"] = "both",
    ):
        self.flavor = flavor
        self.context_limit = context_limit
        self.chunk_chars = chunk_chars
        self.chunk_delay = chunk_delay
        self.omit_open_think = omit_open_think
        self.cumulative_final = flavor == "minimax" if cumulative_final is None else cumulative_final
        self.chars_per_token = chars_per_token
        self.tokenize_dialect = tokenize_dialect
        self.tokenize_calls = 0
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.disconnects = 0
        self._faults: list[Fault] = []
        self._prompts: list[str] = []
        self._lock = threading.Lock()
        self._stopping = False
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/tokenize", self._tokenize, methods=["POST"]),
            ]
        )

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def tokenize_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tokenize"

    def count_tokens(self, text: str) -> int:
        return int(len(text) / self.chars_per_token)

    def start(self) -> FakeLLM:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("FakeLLM did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._stopping = True
        if self._server and self._thread:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for_disconnect(self, timeout: float = 3.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.disconnects:
                return True
            time.sleep(0.02)
        return False

    # ------------------------------------------------------------------ fault queue

    def _push(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def fail_next(
        self,
        status: int = 500,
        retry_after: int | str | None = None,
        message: str = "",
        echo_auth: bool = False,
    ) -> None:
        """The next request gets an HTTP error in the flavor's shape (optionally with Retry-After)."""
        self._push(
            Fault("status", status=status, retry_after=retry_after, message=message, echo_auth=echo_auth)
        )

    def base_resp_error(self, code: int = 1002, msg: str = "rate limit", sse: bool = False) -> None:
        """HTTP 200 whose body (plain JSON, or one SSE event) carries MiniMax's base_resp error."""
        self._push(Fault("base_resp", code=code, message=msg, sse=sse))

    def midstream_error(self, after_chunks: int = 3) -> None:
        self._push(Fault("midstream", after_chunks=after_chunks))

    def truncate_stream(self, after_chunks: int = 3) -> None:
        """Close the stream after some chunks, with neither finish_reason nor [DONE]."""
        self._push(Fault("truncate", after_chunks=after_chunks))

    def hang(self, seconds: float, after_chunks: int = 0) -> None:
        """Go silent for `seconds` before the response (or after `after_chunks` chunks)."""
        self._push(Fault("hang", seconds=seconds, after_chunks=after_chunks))

    def finish_length(self) -> None:
        """Reasoning only, then finish_reason "length": the output budget ran out before the answer."""
        self._push(Fault("length"))

    def raw_stream(self, events: list[Any]) -> None:
        """Send exactly these SSE events: dicts as `data: <json>`, strings verbatim."""
        self._push(Fault("raw", events=events))

    # ------------------------------------------------------------------ request handling

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            fault = self._faults.pop(0) if self._faults else None
        if fault and fault.kind == "hang" and not fault.after_chunks:
            await self._sleep(fault.seconds)
        if fault and fault.kind == "status":
            return self._http_error(fault, request.headers.get("authorization", ""))
        if fault and fault.kind == "base_resp":
            payload = {
                "id": "x",
                "choices": None,
                "usage": {"total_tokens": 0},
                "base_resp": {"status_code": fault.code, "status_msg": fault.message},
            }
            return self._sse([payload]) if fault.sse else JSONResponse(payload)
        if fault and fault.kind == "raw":
            return self._sse(fault.events, request=request)
        messages = body.get("messages") or []
        text = "".join(str(m.get("content") or "") for m in messages)
        prompt_tokens = self.count_tokens(text) + 4 * len(messages)
        max_tokens = int(body.get("max_tokens") or body.get("max_completion_tokens") or 0)
        if (overflow := self._overflow(prompt_tokens, max_tokens)) is not None:
            return overflow
        user = next((str(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
        reasoning, answer = build_reply(user)
        finish = "stop"
        if fault and fault.kind == "length":
            answer, finish = "", "length"
        usage = self._usage(text, prompt_tokens, reasoning, answer)
        if not body.get("stream"):
            return JSONResponse(self._completion(reasoning, answer, finish, usage))
        events = self._events(reasoning, answer, finish, usage)
        return self._sse(events, fault=fault, request=request)

    async def _tokenize(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.tokenize_calls += 1
        if "prompt" in body and self.tokenize_dialect != "llamacpp":
            count = self.count_tokens(str(body["prompt"]))
            return JSONResponse(
                {"count": count, "tokens": list(range(count)), "max_model_len": self.context_limit}
            )
        if "content" in body and self.tokenize_dialect != "vllm":
            return JSONResponse({"tokens": list(range(self.count_tokens(str(body["content"]))))})
        return JSONResponse({"error": {"message": "unsupported tokenize body"}}, status_code=400)

    async def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self._stopping:
            await asyncio.sleep(0.02)

    def _http_error(self, fault: Fault, auth: str) -> Response:
        message = fault.message or _MESSAGES.get(fault.status, "internal server error")
        if fault.echo_auth:
            message += f" (received Authorization: {auth})"
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
        return JSONResponse(
            self._error_body(fault.status, message), status_code=fault.status, headers=headers
        )

    def _error_body(self, status: int, message: str) -> dict[str, Any]:
        if self.flavor == "openrouter":
            return {"error": {"code": status, "message": message, "metadata": {}}}
        if self.flavor == "vllm":
            return {
                "object": "error",
                "message": message,
                "type": "BadRequestError",
                "param": None,
                "code": status,
            }
        return {"type": "error", "error": {"type": "api_error", "message": message, "http_code": str(status)}}

    def _overflow(self, prompt_tokens: int, max_tokens: int) -> Response | None:
        limit = self.context_limit
        if self.flavor == "minimax":
            if prompt_tokens <= limit:
                return None
            msg = "invalid params, context window exceeds limit"
            return JSONResponse(
                {"id": "x", "choices": None, "base_resp": {"status_code": 2013, "status_msg": msg}}
            )
        requested = prompt_tokens + max_tokens
        if requested <= limit:
            return None
        if self.flavor == "openrouter":
            msg = (
                f"This endpoint's maximum context length is {limit} tokens. However, you requested about "
                f"{requested} tokens ({prompt_tokens} of text input, 0 of tool input, {max_tokens} in the "
                "output). Please reduce the length of either one, or use the context-compression plugin."
            )
        else:
            msg = (
                f"This model's maximum context length is {limit} tokens. However, you requested {requested} "
                f"tokens ({prompt_tokens} in the messages, {max_tokens} in the completion). Please reduce the "
                "length of the messages or completion."
            )
        return JSONResponse(self._error_body(400, msg), status_code=400)

    def _usage(self, text: str, prompt_tokens: int, reasoning: str, answer: str) -> dict[str, Any]:
        with self._lock:
            prefix = max((_common_prefix(text, old) for old in self._prompts), default=0)
            self._prompts = [*self._prompts[-20:], text]
        cached = min(prefix // 3 // 16 * 16, prompt_tokens)
        reasoning_tokens = len(reasoning) // 3
        completion = reasoning_tokens + len(answer) // 3
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion,
            "completion_tokens_details": {"reasoning_tokens": reasoning_tokens},
            "prompt_tokens_details": {"cached_tokens": cached},
        }

    def _message(self, reasoning: str, answer: str) -> dict[str, Any]:
        if self.flavor == "minimax":
            opener = "" if self.omit_open_think else "<think>\n"
            return {"role": "assistant", "content": f"{opener}{reasoning}\n</think>\n\n{answer}"}
        key = "reasoning_content" if self.flavor == "vllm" else "reasoning"
        return {"role": "assistant", "content": answer, key: reasoning}

    def _completion(self, reasoning: str, answer: str, finish: str, usage: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "model": "fake",
            "choices": [{"index": 0, "message": self._message(reasoning, answer), "finish_reason": finish}],
            "usage": usage,
        }
        if self.flavor == "minimax":
            body["base_resp"] = {"status_code": 0, "status_msg": ""}
        return body

    def _events(self, reasoning: str, answer: str, finish: str, usage: dict[str, Any]) -> list[Any]:
        def chunk(delta: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "finish_reason": reason}
            return {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "model": "fake",
                "choices": [choice],
            }

        events: list[Any] = []
        message = self._message(reasoning, answer)
        if self.flavor == "minimax":
            events += [
                chunk({"content": p, "reasoning_content": ""})
                for p in _pieces(message["content"], self.chunk_chars)
            ]
            final = chunk({"content": message["content"] if self.cumulative_final else ""}, finish)
            final["usage"] = usage
            final["base_resp"] = {"status_code": 0, "status_msg": ""}
            return [*events, final, "data: [DONE]\n\n"]
        if self.flavor == "openrouter":
            events.append(": OPENROUTER PROCESSING\n\n")
            for p in _pieces(reasoning, self.chunk_chars):
                events.append(
                    chunk({"reasoning": p, "reasoning_details": [{"type": "reasoning.text", "text": p}]})
                )
        else:
            events += [chunk({"reasoning_content": p}) for p in _pieces(reasoning, self.chunk_chars)]
        events += [chunk({"content": p}) for p in _pieces(answer, self.chunk_chars)]
        events.append(chunk({}, finish))
        events.append(
            {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "choices": [], "usage": usage}
        )
        return [*events, "data: [DONE]\n\n"]

    def _midstream(self) -> str:
        if self.flavor == "openrouter":
            payload = {
                "id": "x",
                "object": "chat.completion.chunk",
                "error": {"code": 502, "message": "Provider disconnected"},
                "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
            }
            return f"data: {json.dumps(payload)}\n\n"
        return 'event: error\ndata: {"error": {"message": "upstream failure", "code": 500}}\n\n'

    def _sse(self, events: list[Any], fault: Fault | None = None, request: Request | None = None) -> Response:
        async def body() -> AsyncIterator[bytes]:
            try:
                async for piece in produce():
                    yield piece
            except (GeneratorExit, asyncio.CancelledError, OSError):
                self._disconnected()  # the client went away mid-stream
                raise

        async def produce() -> AsyncIterator[bytes]:
            for index, event in enumerate(events):
                if fault and index == fault.after_chunks and fault.kind in ("midstream", "truncate", "hang"):
                    if fault.kind == "midstream":
                        yield self._midstream().encode()
                        return
                    if fault.kind == "truncate":
                        return
                    await self._sleep(fault.seconds)
                if self.chunk_delay:
                    await asyncio.sleep(self.chunk_delay)
                if request is not None and await request.is_disconnected():
                    self._disconnected()
                    return
                text = event if isinstance(event, str) else f"data: {json.dumps(event)}\n\n"
                yield text.encode()

        return StreamingResponse(body(), media_type="text/event-stream")

    def _disconnected(self) -> None:
        with self._lock:
            self.disconnects += 1


def _common_prefix(a: str, b: str) -> int:
    size = min(len(a), len(b))
    i = 0
    while i < size and a[i] == b[i]:
        i += 1
    return i
