"""The test server itself: response shapes per flavor, so the engine tests exercise realistic traffic."""

from __future__ import annotations

import httpx
import pytest

from tests.fakellm import FakeLLM, build_reply

USER = (
    '<documents>\n<document id="d1" name="a.txt" kind="text" lines="2">\n1| \n2| Hello "world"\n</document>\n'
    '</documents>\n\n<task>\n<question n="1">What &lt;is&gt; it?</question>\n</task>'
)


def post(server: FakeLLM, stream: bool, max_tokens: int = 10) -> httpx.Response:
    body = {"messages": [{"role": "user", "content": USER}], "stream": stream, "max_tokens": max_tokens}
    return httpx.post(server.base_url + "/chat/completions", json=body, timeout=10)


def test_build_reply_cites_first_line() -> None:
    reasoning, answer = build_reply(USER)
    assert "d1" in reasoning
    assert '"line_start": 2' in answer and '"quote": "Hello \\"world\\""' in answer
    assert '"question": "What <is> it?"' in answer
    paged = '<document id="p" kind="pdf">\n<page number="2">\n\n  Title line\n</page>\n</document>'
    assert '"page": 2' in build_reply(paged)[1] and '"line_start": null' in build_reply(paged)[1]


@pytest.mark.parametrize(
    ("flavor", "field"), [("minimax", None), ("vllm", "reasoning_content"), ("openrouter", "reasoning")]
)
def test_non_streaming_shapes(flavor: str, field: str | None) -> None:
    with FakeLLM(flavor=flavor) as server:  # type: ignore[arg-type]
        first = post(server, stream=False).json()
        second = post(server, stream=False).json()
    message = first["choices"][0]["message"]
    if field is None:
        assert message["content"].startswith("<think>\n") and first["base_resp"]["status_code"] == 0
    else:
        assert "I will cite it" in message[field] and "<think>" not in message["content"]
    assert first["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    assert second["usage"]["prompt_tokens_details"]["cached_tokens"] > 0
    assert first["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def test_minimax_stream_splits_tags_and_repeats_whole_text() -> None:
    with FakeLLM(flavor="minimax") as server:
        text = post(server, stream=True).text
    assert '"content": "<th"' in text and '"content": "ink"' in text and '"content": "</t"' in text
    assert text.rstrip().endswith("data: [DONE]")


@pytest.mark.parametrize(
    ("flavor", "status", "needle"),
    [
        ("minimax", 200, "context window exceeds limit"),
        ("openrouter", 400, "maximum context length is 50 tokens. However, you requested about"),
        ("vllm", 400, "This model's maximum context length is 50 tokens. However, you requested"),
    ],
)
def test_overflow_shapes(flavor: str, status: int, needle: str) -> None:
    with FakeLLM(flavor=flavor, context_limit=50) as server:  # type: ignore[arg-type]
        response = post(server, stream=True)
    assert response.status_code == status and needle in response.text


def test_faults_are_consumed_in_order() -> None:
    with FakeLLM(flavor="openrouter") as server:
        server.fail_next(status=429, retry_after=2)
        server.midstream_error(after_chunks=1)
        limited = post(server, stream=True)
        broken = post(server, stream=True)
        fine = post(server, stream=True)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert limited.json()["error"]["code"] == 429
    assert '"finish_reason": "error"' in broken.text and "[DONE]" not in broken.text
    assert fine.status_code == 200 and "[DONE]" in fine.text
    assert len(server.requests) == 3
