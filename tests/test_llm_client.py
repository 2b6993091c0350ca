"""The OpenAI-compatible engine against the loopback FakeLLM server (no patching of internals)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.config import ModelSettings
from service.errors import BadRequest, ContextOverflow, JobCancelled, ProviderFinal, ProviderRetryable
from service.llm.answers import parse_answers
from service.llm.catalog import Catalog, load_catalog
from service.llm.openai_compat import OpenAICompatEngine
from service.llm.prompts import PROMPT_VERSION, system_prompt, task_block
from service.llm.provider_errors import overflow_from_message
from service.llm.reasoning import ThinkSplitter, split_think
from service.llm.sse import SSEEvent, iter_sse
from service.models import (
    CorpusDocument,
    EngineAnswer,
    EngineOutput,
    ExtractedText,
    JobOptions,
    JobSpec,
    PackedPrompt,
    PackManifest,
)
from tests.fakellm import FakeLLM

KEY = "sk-test-SECRET-123456"
LOG_TEXT = "\n2024-01-01 ERROR disk full on /var\n2024-01-01 INFO retry ok\n"


def make_prompt(
    text: str = LOG_TEXT, questions: list[str] | None = None, pages: bool = False, job: str = "qa"
) -> PackedPrompt:
    questions = ["What failed?"] if questions is None and job == "qa" else (questions or [])
    if pages:
        body = "".join(f'<page number="{n}">\n{p}\n</page>\n' for n, p in enumerate(text.split("\f"), 1))
    else:
        body = "".join(f"{n}| {line}\n" for n, line in enumerate(text.split("\n"), 1))
    user = f'<documents>\n<document id="doc-1" name="x" kind="log">\n{body}</document>\n</documents>\n\n'
    user += task_block(job, questions)
    manifest = PackManifest(
        model="MiniMax-M1", window=1_000_000, reserved_output=8192, safety_margin=0, instruction_tokens=0,
        document_tokens=0, total_tokens=0, remaining=0, token_method="chars", token_error="0",
        overflow_policy="error", documents=[],
    )  # fmt: skip
    doc = CorpusDocument("doc-1", "x", "log", ExtractedText(text, "log"))
    return PackedPrompt(system_prompt(job), user, manifest, [doc], questions, job)  # type: ignore[arg-type]


def spec(job: str = "qa", model: str | None = None, **options: Any) -> JobSpec:
    return JobSpec(type=job, document_ids=["doc-1"], model=model, options=JobOptions(**options))  # type: ignore[arg-type]


class Hooks:
    def __init__(self, cancel_after: int | None = None):
        self.cancel_after = cancel_after
        self.checks = 0
        self.reports: list[tuple[str, float, int]] = []

    def progress(self, stage: str, percent: float, output_tokens: int = 0) -> None:
        self.reports.append((stage, percent, output_tokens))

    def cancelled(self) -> bool:
        self.checks += 1
        return self.cancel_after is not None and self.checks > self.cancel_after


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(None)


@pytest.fixture
def minimax() -> Iterator[FakeLLM]:
    with FakeLLM(flavor="minimax") as server:
        yield server


def make_engine(
    server: FakeLLM, catalog: Catalog, sleeps: list[float] | None = None, **kw: Any
) -> OpenAICompatEngine:
    fields: dict[str, Any] = {"provider_base_url": server.base_url, "api_key": KEY, "backoff_base_s": 0.5}
    settings = ModelSettings(**{**fields, **kw})
    record = sleeps if sleeps is not None else []
    return OpenAICompatEngine(settings, catalog, sleep=record.append)


def run(engine: OpenAICompatEngine, prompt: PackedPrompt | None = None, **kw: Any) -> EngineOutput:
    return engine.run(prompt or make_prompt(), spec(**kw), Hooks())


def assert_cites_first_line(out: EngineOutput) -> None:
    assert out.engine == "llm" and out.model == "MiniMax-M1"
    [answer] = out.answers
    assert answer.question == "What failed?"
    [cite] = answer.citations
    assert (cite.document_id, cite.line_start, cite.page) == ("doc-1", 2, None)
    assert cite.quote == "2024-01-01 ERROR disk full on /var"
    assert out.reasoning and "I will cite it" in out.reasoning
    assert "think>" not in answer.answer and "I will cite it" not in answer.answer


# ---------------------------------------------------------------- happy paths


@pytest.mark.parametrize("flavor", ["minimax", "vllm", "openrouter"])
def test_happy_path_separates_reasoning(flavor: str, catalog: Catalog) -> None:
    with FakeLLM(flavor=flavor, chunk_chars=5) as server:  # type: ignore[arg-type]
        out = run(make_engine(server, catalog))
        assert_cites_first_line(out)
        assert out.finish_reason == "stop"
        assert out.reasoning and "think>" not in out.reasoning
        assert server.headers[0]["authorization"] == f"Bearer {KEY}"
        body = server.requests[0]
        assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
        assert body["max_tokens"] == body["max_completion_tokens"] == 8192


def test_missing_opening_think_tag(catalog: Catalog) -> None:
    with FakeLLM(flavor="minimax", omit_open_think=True, chunk_chars=3) as server:
        assert_cites_first_line(run(make_engine(server, catalog)))


def test_pages_and_multiple_questions(minimax: FakeLLM, catalog: Catalog) -> None:
    prompt = make_prompt("\n\nFirst page text\f second page", ["Q one?", "Q two?"], pages=True)
    out = run(make_engine(minimax, catalog), prompt)
    assert [a.question for a in out.answers] == ["Q one?", "Q two?"]
    for answer in out.answers:
        assert [(c.page, c.line_start, c.quote) for c in answer.citations] == [(1, None, "First page text")]


def test_summary_has_one_answer_without_question(minimax: FakeLLM, catalog: Catalog) -> None:
    out = minimax_run = run(make_engine(minimax, catalog), make_prompt(job="summarize"), job="summarize")
    assert [a.question for a in minimax_run.answers] == [None]
    assert out.answers[0].citations[0].document_id == "doc-1"


def test_cumulative_chunks_are_not_duplicated(minimax: FakeLLM, catalog: Catalog) -> None:
    full = "<think>ponder ponder</think>The answer is forty-two, plainly."
    events: list[Any] = [": keep-alive\n\n", {"choices": None}]
    events += [{"choices": [{"delta": {"content": full[:n]}}]} for n in (10, 25, 40, len(full))]
    events += [{"choices": [{"delta": {}, "finish_reason": "stop"}]}, "data: [DONE]\n\n"]
    minimax.raw_stream(events)
    out = run(make_engine(minimax, catalog), include_reasoning=True)
    assert out.answers[0].answer == "The answer is forty-two, plainly."
    assert out.reasoning == "ponder ponder"
    assert out.answers[0].citations == []
    assert out.usage.estimated and out.usage.completion_tokens > 0


def test_usage_with_reasoning_and_cached_tokens(minimax: FakeLLM, catalog: Catalog) -> None:
    engine = make_engine(minimax, catalog)
    first = run(engine)
    second = run(engine)
    assert first.usage.prompt_tokens > 0 and not first.usage.estimated
    assert first.usage.reasoning_tokens > 0 and first.usage.completion_tokens > first.usage.reasoning_tokens
    assert first.usage.cached_tokens == 0
    assert 0 < second.usage.cached_tokens <= second.usage.prompt_tokens
    assert second.usage.total_tokens == second.usage.prompt_tokens + second.usage.completion_tokens


def test_progress_reports_output_tokens(catalog: Catalog) -> None:
    with FakeLLM(flavor="vllm", chunk_chars=2) as server:
        hooks = Hooks()
        make_engine(server, catalog).run(make_prompt(), spec(), hooks)
        assert hooks.reports and all(stage == "generating" for stage, _, _ in hooks.reports)
        assert hooks.reports[-1][2] > hooks.reports[0][2] > 0
        assert all(0 <= pct < 100 for _, pct, _ in hooks.reports)


# ---------------------------------------------------------------- request shape


class RedirectTransport(httpx.BaseTransport):
    """Sends every request to the loopback fake, whatever host the client aimed at."""

    def __init__(self, target: str):
        self.target = httpx.URL(target)
        self.inner = httpx.HTTPTransport()
        self.hosts: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        path = self.target.path.rstrip("/") + "/chat/completions"
        request.url = request.url.copy_with(
            scheme="http", host=self.target.host, port=self.target.port, path=path
        )
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_openrouter_request_has_no_transforms_and_pinned_provider(catalog: Catalog) -> None:
    with FakeLLM(flavor="openrouter") as server:
        transport = RedirectTransport(server.base_url)
        settings = ModelSettings(provider_base_url="https://openrouter.ai/api/v1", api_key=KEY)
        engine = OpenAICompatEngine(settings, catalog, transport=transport)
        assert_cites_first_line(run(engine))
        assert_cites_first_line(run(engine))  # the injected transport survives a run
        assert transport.hosts == ["openrouter.ai", "openrouter.ai"]
        transport.close()
        sent = server.requests[0]
        assert sent["transforms"] == []
        assert sent["provider"] == {
            "allow_fallbacks": False, "require_parameters": True, "only": ["minimax"], "order": ["minimax"]
        }  # fmt: skip
        assert sent["model"] == "minimax/minimax-m1"


def test_direct_provider_request_has_no_openrouter_fields(minimax: FakeLLM, catalog: Catalog) -> None:
    run(make_engine(minimax, catalog))
    sent = minimax.requests[0]
    assert "transforms" not in sent and "provider" not in sent and sent["model"] == "MiniMax-M1"
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]


def test_temperature_zero_is_clamped_for_minimax(minimax: FakeLLM, catalog: Catalog) -> None:
    engine = make_engine(minimax, catalog)
    run(engine, temperature=0.0)
    run(engine, temperature=1.7)
    run(engine, model="local", temperature=0.0)
    run(engine)
    temps = [r["temperature"] for r in minimax.requests]
    assert temps == [0.01, 1.0, 0.0, 1.0]
    assert minimax.requests[2]["model"] == "local"


def test_max_output_is_capped_by_catalog(minimax: FakeLLM, catalog: Catalog) -> None:
    run(make_engine(minimax, catalog), max_output_tokens=150_000)
    assert minimax.requests[0]["max_tokens"] == 80_000


# ---------------------------------------------------------------- retries


def test_429_retry_after_is_honoured(minimax: FakeLLM, catalog: Catalog) -> None:
    sleeps: list[float] = []
    minimax.fail_next(status=429, retry_after=3)
    assert_cites_first_line(run(make_engine(minimax, catalog, sleeps)))
    assert sleeps == [3.0] and len(minimax.requests) == 2


def test_retry_after_http_date_is_capped(minimax: FakeLLM, catalog: Catalog) -> None:
    sleeps: list[float] = []
    minimax.fail_next(status=503, retry_after=formatdate(time.time() + 3600, usegmt=True))
    run(make_engine(minimax, catalog, sleeps, backoff_max_s=7.0))
    assert sleeps == [7.0]


def test_500_then_success_uses_jittered_backoff(minimax: FakeLLM, catalog: Catalog) -> None:
    sleeps: list[float] = []
    minimax.fail_next(status=500)
    minimax.fail_next(status=502)
    run(make_engine(minimax, catalog, sleeps))
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 1.0


def test_retries_exhausted(minimax: FakeLLM, catalog: Catalog) -> None:
    sleeps: list[float] = []
    for _ in range(3):
        minimax.fail_next(status=529)
    with pytest.raises(ProviderRetryable) as info:
        run(make_engine(minimax, catalog, sleeps, max_attempts=3))
    assert len(minimax.requests) == 3 and len(sleeps) == 2
    assert info.value.details["attempts"] == 3 and info.value.details["http_status"] == 529


def test_total_deadline_stops_retrying(minimax: FakeLLM, catalog: Catalog) -> None:
    minimax.fail_next(status=429, retry_after=30)
    with pytest.raises(ProviderRetryable):
        run(make_engine(minimax, catalog, total_deadline_s=5.0))
    assert len(minimax.requests) == 1


def test_base_resp_balance_is_final(minimax: FakeLLM, catalog: Catalog) -> None:
    minimax.base_resp_error(code=1008, msg="insufficient balance")
    with pytest.raises(ProviderFinal) as info:
        run(make_engine(minimax, catalog))
    assert info.value.code == "provider_insufficient_balance"
    assert info.value.details["provider_code"] == 1008 and len(minimax.requests) == 1


@pytest.mark.parametrize("sse", [False, True])
def test_base_resp_rate_limit_is_retried(sse: bool, minimax: FakeLLM, catalog: Catalog) -> None:
    minimax.base_resp_error(code=1002, msg="rate limit", sse=sse)
    assert_cites_first_line(run(make_engine(minimax, catalog)))
    assert len(minimax.requests) == 2


@pytest.mark.parametrize(
    ("status", "code"),
    [(401, "provider_auth"), (402, "provider_insufficient_balance"), (400, "provider_invalid_request"),
     (404, "provider_not_found"), (422, "provider_invalid_request")],
)  # fmt: skip
def test_final_http_statuses_are_not_retried(status: int, code: str, catalog: Catalog) -> None:
    with FakeLLM(flavor="openrouter") as server:
        server.fail_next(status=status, echo_auth=True)
        with pytest.raises(ProviderFinal) as info:
            run(make_engine(server, catalog))
        assert info.value.code == code and len(server.requests) == 1
        assert KEY not in str(info.value) and KEY not in repr(info.value.details)
        assert "***" in info.value.message


def test_moderation_403(catalog: Catalog) -> None:
    with FakeLLM(flavor="openrouter") as server:
        server.fail_next(status=403, message="Input was flagged by moderation")
        with pytest.raises(ProviderFinal) as info:
            run(make_engine(server, catalog))
        assert info.value.code == "provider_moderation"


@pytest.mark.parametrize("flavor", ["vllm", "openrouter"])
def test_midstream_error_is_retried(flavor: str, catalog: Catalog) -> None:
    with FakeLLM(flavor=flavor) as server:  # type: ignore[arg-type]
        server.midstream_error(after_chunks=4)
        sleeps: list[float] = []
        assert_cites_first_line(run(make_engine(server, catalog, sleeps)))
        assert len(server.requests) == 2 and len(sleeps) == 1


def test_truncated_stream_is_retried(minimax: FakeLLM, catalog: Catalog) -> None:
    minimax.truncate_stream(after_chunks=5)
    assert_cites_first_line(run(make_engine(minimax, catalog)))
    assert len(minimax.requests) == 2


def test_truncated_stream_every_time_fails_retryable(minimax: FakeLLM, catalog: Catalog) -> None:
    minimax.truncate_stream()
    minimax.truncate_stream()
    with pytest.raises(ProviderRetryable) as info:
        run(make_engine(minimax, catalog, max_attempts=2))
    assert info.value.code == "provider_truncated_stream"


def test_read_timeout_is_retried(minimax: FakeLLM, catalog: Catalog) -> None:
    minimax.hang(2.0, after_chunks=3)
    assert_cites_first_line(run(make_engine(minimax, catalog, read_timeout_s=0.3)))
    assert len(minimax.requests) == 2


def test_connection_refused_is_retryable(catalog: Catalog) -> None:
    with FakeLLM() as server:
        url = server.base_url
    settings = ModelSettings(provider_base_url=url, api_key=KEY, max_attempts=2, connect_timeout_s=1)
    sleeps: list[float] = []
    with pytest.raises(ProviderRetryable):
        OpenAICompatEngine(settings, catalog, sleep=sleeps.append).run(make_prompt(), spec(), Hooks())
    assert len(sleeps) == 1


# ---------------------------------------------------------------- overflow, truncation, cancel


@pytest.mark.parametrize("flavor", ["minimax", "vllm", "openrouter"])
def test_context_overflow(flavor: str, catalog: Catalog) -> None:
    with FakeLLM(flavor=flavor, context_limit=500) as server:  # type: ignore[arg-type]
        with pytest.raises(ContextOverflow) as info:
            run(make_engine(server, catalog), max_output_tokens=100)
        assert len(server.requests) == 1
        details = info.value.details
        if flavor == "minimax":
            assert "context window exceeds limit" in details["provider_message"]
        else:
            assert details["provider_limit"] == 500
            assert details["provider_prompt_tokens"] > 500


def test_finish_length_with_empty_answer_is_an_error(minimax: FakeLLM, catalog: Catalog) -> None:
    minimax.finish_length()
    with pytest.raises(ProviderFinal) as info:
        run(make_engine(minimax, catalog))
    assert info.value.code == "output_truncated" and len(minimax.requests) == 1


def test_finish_length_with_answer_is_marked(minimax: FakeLLM, catalog: Catalog) -> None:
    events: list[Any] = [
        {"choices": [{"delta": {"content": "</think>Partial answer"}, "finish_reason": "length"}]}
    ]
    minimax.raw_stream([*events, "data: [DONE]\n\n"])
    out = run(make_engine(minimax, catalog))
    assert out.finish_reason == "length" and out.answers[0].answer == "Partial answer"


def test_cancellation_closes_the_stream(catalog: Catalog) -> None:
    with FakeLLM(flavor="vllm", chunk_chars=2, chunk_delay=0.02) as server:
        hooks = Hooks(cancel_after=5)
        started = time.monotonic()
        with pytest.raises(JobCancelled):
            make_engine(server, catalog).run(make_prompt(), spec(), hooks)
        assert time.monotonic() - started < 2.0
        assert server.wait_for_disconnect()
        assert len(server.requests) == 1


def test_unknown_model(minimax: FakeLLM, catalog: Catalog) -> None:
    with pytest.raises(BadRequest) as info:
        run(make_engine(minimax, catalog), model="gpt-nope")
    assert info.value.code == "unknown_model" and not minimax.requests


# ---------------------------------------------------------------- catalog


def test_cost_uses_m1_tier_above_200k(catalog: Catalog) -> None:
    m1 = catalog.get("MiniMax-M1")
    assert m1.cost_usd(800_000, 20_000) == pytest.approx(0.8 * 1.30 + 0.02 * 2.20)
    assert m1.cost_usd(200_000, 0) == pytest.approx(0.2 * 0.40)
    m21 = catalog.get("MiniMax-M2.1")
    assert m21.cost_usd(100_000, 1000, cached_tokens=60_000) == pytest.approx(
        (40_000 * 0.30 + 60_000 * 0.03 + 1000 * 1.20) / 1e6
    )
    assert catalog.get("local").cost_usd(10**6, 10**6) == 0


def test_user_catalog_merges_over_builtin(tmp_path: Path) -> None:
    extra = tmp_path / "models.toml"
    extra.write_text(
        '[models."MiniMax-M1"]\ncontext_window = 500000\n'
        '[models."my-vllm"]\ncontext_window = 32768\nmax_output = 4096\n'
        "price = { input = [{ usd = 0 }], output = 0 }\n"
    )
    cat = load_catalog(extra)
    assert cat.get("MiniMax-M1").context_window == 500_000
    assert cat.get("MiniMax-M1").price.output == 2.20
    assert cat.get("my-vllm").provider_model_id == "my-vllm"
    assert {"MiniMax-M2.1", "MiniMax-Text-01", "local"} <= set(cat.ids())
    extra.write_text('[models."bad"]\ncontext_window = -1\n')
    with pytest.raises(BadRequest):
        load_catalog(extra)


# ---------------------------------------------------------------- pure parts: think splitter, answers, SSE

SPLIT_SAMPLES = [
    "<think>\nstep one </thin < think\n</think>\n\nThe answer <th is < here",
    "lead in<think>a</think>b<think>c</think>d",
    "mid-thought without opener</think>\nanswer text",
    "no tags at all, just < and > and </ and <think",
    "<think>never closed",
]


@pytest.mark.parametrize("sample", SPLIT_SAMPLES)
def test_think_splitter_every_split_position(sample: str) -> None:
    expected = split_think(sample)
    for i in range(len(sample) + 1):
        for j in range(i, len(sample) + 1):
            splitter = ThinkSplitter()
            for piece in (sample[:i], sample[i:j], sample[j:]):
                splitter.feed(piece)
            splitter.finish()
            assert (splitter.reasoning, splitter.answer) == expected, (i, j)


def test_think_splitter_one_character_at_a_time() -> None:
    splitter = ThinkSplitter()
    for char in "<think>secret plan</think>public answer":
        splitter.feed(char)
    splitter.finish()
    assert (splitter.reasoning, splitter.answer) == ("secret plan", "public answer")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<think>r</think>a", ("r", "a")),
        ("r</think>a", ("r", "a")),
        ("plain", ("", "plain")),
        ("<think>only", ("only", "")),
        ("a<think>r</think>b", ("r", "ab")),
        ("<think>r</think>a</think>b", ("r", "ab")),
    ],
)
def test_split_think_cases(text: str, expected: tuple[str, str]) -> None:
    assert split_think(text) == expected


def test_parse_answers_fenced_bare_and_invalid() -> None:
    fenced = (
        'Prose.\n```json\n{"answers": [{"question": "q", "answer": "A", "citations": ['
        '{"document_id": "d", "page": "3", "line_start": 4, "quote": "x"}, {"quote": "no doc"}]}]}\n```'
    )
    [answer] = parse_answers(fenced, "qa", ["q"])
    assert answer.answer == "A"
    assert [(c.document_id, c.page, c.line_start, c.line_end) for c in answer.citations] == [("d", 3, 4, 4)]
    bare = 'Text first.\n{"answers": [{"question": null, "answer": "S", "citations": []}]}'
    assert parse_answers(bare, "summarize", []) == [EngineAnswer(None, "S", [])]
    broken = "Just prose.\n```json\n{not json\n```"
    assert [a.answer for a in parse_answers(broken, "qa", ["a", "b"])] == [broken.strip()] * 2
    swapped = (
        '```json\n{"answers": [{"question": "B?", "answer": "b"}, {"question": "A?", "answer": "a"}]}\n```'
    )
    assert [a.answer for a in parse_answers(swapped, "qa", ["A?", "B?", "C?"])][:2] == ["a", "b"]


def test_sse_reader_handles_comments_events_and_bare_json() -> None:
    lines = [": ping", "event: error", 'data: {"a":', "data: 1}", "", "data:[DONE]", "", '{"base_resp": 1}']
    events = list(iter_sse(lines))
    assert events[0] == SSEEvent("comment", "ping")
    assert events[1:] == [
        SSEEvent("error", '{"a":\n1}'),
        SSEEvent("message", "[DONE]"),
        SSEEvent("message", '{"base_resp": 1}'),
    ]


def test_prompts_mark_documents_as_untrusted() -> None:
    text = system_prompt("qa")
    assert "untrusted" in text and "```json" in text and PROMPT_VERSION in text
    assert "Governing law" in system_prompt("summarize") and "Top errors" in system_prompt("summarize")
    block = task_block("qa", ["a < b?", "second"])
    assert '<question n="1">a &lt; b?</question>' in block and '<question n="2">second</question>' in block


def test_overflow_messages_parse_numbers() -> None:
    vllm_new = (
        "This model's maximum context length is 4,096 tokens. However, your request has 5000 input tokens."
    )
    err = overflow_from_message(vllm_new)
    assert err is not None and err.details["provider_limit"] == 4096
    assert err.details["provider_prompt_tokens"] == 5000
    assert overflow_from_message("rate limit") is None
