"""The real-model job path in process: pipeline.run_job against FakeLLM and a real Redis.

Cost and usage, calibration after each call, the one re-pack on a provider overflow (or a failure with both
counts), several questions in one call, the shared rate quota, and the issue's ~900K-token round trip.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.config import ModelSettings, Settings
from service.llm.catalog import load_catalog
from service.models import ContentRecord, DocumentRecord, ExtractedText, JobSpec, JobState
from service.pipeline import Services, build_services, extract_content, run_job
from service.tokens import EstimatingCounter
from tests.fakellm import FakeLLM

TINY_CATALOG = """
[models.tiny]
provider_model_id = "tiny"
context_window = 20_000
max_output = 500
default_max_output = 500
reasoning_format = "reasoning_content"
price = { input = [{ usd = 1.0 }], output = 2.0 }

[models."MiniMax-M1"]
rate_limits = { rpm = 120, tpm = 2_000_000 }  # an account with a raised quota, for the 900K round trip
"""
_WORDS = [
    "contract",
    "supplier",
    "delivery",
    "invoice",
    "payment",
    "termination",
    "liability",
    "governing",
    "law",
    "clause",
    "schedule",
    "service",
    "level",
    "availability",
    "notice",
    "period",
    "party",
    "agreement",
    "confidential",
    "obligation",
    "warranty",
    "indemnity",
    "audit",
]


def prose(lines: int, seed: int = 1, words: tuple[int, int] = (8, 14)) -> str:
    rng = random.Random(seed)
    out = [
        " ".join(rng.choice(_WORDS) for _ in range(rng.randint(*words))).capitalize() + "."
        for _ in range(lines)
    ]
    return "\n".join(out) + "\n"


SHORT_LINES = prose(1200, words=(2, 4))  # three truncation units (500 lines each), ~11K tokens by estimate


def make_services(tmp_path: Path, redis_url: str, llm: FakeLLM, **model: Any) -> Services:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(TINY_CATALOG)
    settings = Settings(
        redis_url=redis_url,
        storage_dir=tmp_path / "store",
        key_prefix=f"t{uuid.uuid4().hex[:8]}",
        model=ModelSettings(
            provider_base_url=llm.base_url,
            api_key="sk-test-pipeline-key",
            catalog_path=catalog,
            backoff_base_s=0.01,
            **model,
        ),
    )
    return build_services(settings)


def add_document(services: Services, text: str, name: str = "doc.txt") -> str:
    """A ready text document, stored as extraction would leave it."""
    sha = hashlib.sha256(text.encode()).hexdigest()
    extracted = ExtractedText(text, "text")
    services.blobs.save_text(sha, extracted)
    content = ContentRecord(sha256=sha, kind="text", media_type="text/plain", status="ready")
    content.tokens, content.chars = services.counter.count(text), len(text)
    services.records.put_content(content)
    doc = DocumentRecord(
        id=f"doc_{uuid.uuid4().hex[:12]}", name=name, media_type="text/plain", kind="text", size=len(text),
        sha256=sha,
    )  # fmt: skip
    services.records.put_document(doc)
    return doc.id


def run(services: Services, **spec: Any) -> JobState:
    job = JobState(id=f"job_{uuid.uuid4().hex[:12]}", spec=JobSpec.model_validate(spec))
    services.records.create_job(job)
    return run_job(services, job.id)


@pytest.fixture()
def minimax() -> Iterator[FakeLLM]:
    with FakeLLM(flavor="minimax", context_limit=1_000_000) as server:
        yield server


def test_cost_usage_and_calibration_after_each_call(
    tmp_path: Path, redis_server: Any, minimax: FakeLLM
) -> None:
    services = make_services(tmp_path, redis_server.url, minimax)
    minimax.chars_per_token = 5.0  # the provider counts ~25% more tokens than we estimate for this text
    doc = add_document(services, prose(300))
    methods, errors = [], []
    for _ in range(4):
        job = run(
            services, type="qa", document_ids=[doc], question="What does line 1 say?", model="MiniMax-M1"
        )
        assert job.status == "succeeded", job.error
        result = job.result
        assert result is not None and result.manifest is not None and result.cost is not None
        methods.append(result.manifest.token_method)
        errors.append(result.manifest.token_error)
    usage = result.usage
    assert not usage.estimated and usage.reasoning_tokens > 0 and usage.cached_tokens > 0
    m1 = load_catalog(None).get("MiniMax-M1")
    expected = (usage.prompt_tokens * 0.40 + usage.completion_tokens * 2.20) / 1e6  # M1: no cache price
    assert result.cost.usd == pytest.approx(expected, abs=1e-8) and not result.cost.estimated
    assert "$0.40/M" in result.cost.pricing and m1.price.output == 2.20
    assert job.progress.output_tokens == usage.completion_tokens > 0
    # FakeLLM counts 5 characters per token, our estimator ~6.2 on this packed text: calibration takes over
    assert methods[:3] == ["estimate:script-aware-v1"] * 3
    assert methods[3] == "estimate:script-aware-v1+calibrated(n=3)" and errors[3] != "+-10%"
    ratios = services.calibration.ratios("MiniMax-M1")
    assert len(ratios) == 4 and all(1.1 < r < 1.4 for r in ratios)
    # the calibrated estimate is within its stated error of what the provider then billed
    assert abs(result.manifest.total_tokens / usage.prompt_tokens - 1) < 0.05


def test_provider_overflow_repacks_once_with_its_count(tmp_path: Path, redis_server: Any) -> None:
    # The provider counts 2 characters per token, far more than our estimate: our pack fits the 20,000
    # window, the provider refuses it, and the re-pack at the provider's scale (truncating) is accepted.
    with FakeLLM(flavor="vllm", context_limit=20_000, chars_per_token=2.0) as llm:
        services = make_services(tmp_path, redis_server.url, llm)
        doc = add_document(services, SHORT_LINES)
        job = run(
            services,
            type="qa",
            document_ids=[doc],
            question="q?",
            model="tiny",
            options={"overflow": "truncate"},
        )
        assert job.status == "succeeded", job.error
        assert len(llm.requests) == 2
    result = job.result
    assert result is not None and result.repacked is not None and result.manifest is not None
    repacked = result.repacked
    assert (
        repacked["provider_limit"] == 20_000 and repacked["provider_prompt_tokens"] > repacked["our_estimate"]
    )
    assert repacked["factor"] > 1.5 and repacked["new_estimate"] < 19_500
    assert result.manifest.truncated and "provider-scaled" in result.manifest.token_method
    assert result.citations and all(c.status == "verified" for c in result.citations)
    assert len(services.calibration.ratios("tiny")) == 2  # the refusal and the accepted call


def test_provider_overflow_fails_with_both_counts(tmp_path: Path, redis_server: Any) -> None:
    with FakeLLM(flavor="openrouter", context_limit=20_000, chars_per_token=2.0) as llm:
        services = make_services(tmp_path, redis_server.url, llm)
        doc = add_document(services, SHORT_LINES)
        job = run(services, type="qa", document_ids=[doc], question="q?", model="tiny")
        assert len(llm.requests) == 1  # overflow=error: the re-pack does not fit, no second call
    assert job.status == "failed" and job.error is not None and job.error.code == "context_overflow"
    details = job.error.details
    assert (
        details["provider_limit"] == 20_000
        and details["provider_prompt_tokens"] > details["our_estimate"] > 0
    )
    assert f"{details['provider_prompt_tokens']:,}" in job.error.message
    assert f"{details['our_estimate']:,}" in job.error.message


def test_minimax_overflow_without_numbers_fails_clearly(tmp_path: Path, redis_server: Any) -> None:
    with FakeLLM(flavor="minimax", context_limit=3000, chars_per_token=2.0) as llm:
        services = make_services(tmp_path, redis_server.url, llm)
        doc = add_document(services, SHORT_LINES)
        job = run(
            services,
            type="qa",
            document_ids=[doc],
            question="q?",
            model="tiny",
            options={"overflow": "truncate"},
        )
        assert len(llm.requests) == 1
    assert job.status == "failed" and job.error is not None and job.error.code == "context_overflow"
    assert "gave no count" in job.error.message and job.error.details["our_estimate"] > 0
    assert "context window exceeds limit" in job.error.details["provider_message"]


def test_several_questions_one_call_one_answer_each(
    tmp_path: Path, redis_server: Any, minimax: FakeLLM
) -> None:
    services = make_services(tmp_path, redis_server.url, minimax)
    doc = add_document(services, prose(50))
    questions = ["Who are the parties?", "When does it end?", "What is the fee?"]
    job = run(services, type="qa", document_ids=[doc], questions=questions, model="MiniMax-M1")
    assert job.status == "succeeded" and job.result is not None
    assert len(minimax.requests) == 1
    assert [a.question for a in job.result.answers] == questions
    for answer in job.result.answers:
        assert answer.citations and answer.citations[0].status == "verified"
    user = minimax.requests[0]["messages"][-1]["content"]
    assert user.index("</documents>") < user.index('<question n="1">') < user.index('<question n="3">')


def _corpus_of(tokens: int) -> str:
    """Prose whose packed estimate (with the "N| " line prefixes) is about `tokens`; a distinctive first line."""
    counter, blocks = EstimatingCounter(), ["Clause 0. The Supplier is Northwind Logistics GmbH.\n"]
    total, line, seed = 0, 2, 0
    while total < tokens:
        seed += 1
        block = prose(200, seed)  # small blocks: the total overshoots `tokens` by at most ~1,500
        total += counter.count("".join(f"{line + i}| {t}\n" for i, t in enumerate(block.splitlines())))
        line += 200
        blocks.append(block)
    return "".join(blocks)


def test_900k_token_corpus_round_trips(tmp_path: Path, redis_server: Any) -> None:
    # M1's window is 1,000,000. With 8,192 output tokens reserved and the estimator's 10% margin, the prompt
    # can be at most ~901K tokens by our estimate; the documents here are ~890K (plus instructions).
    text = _corpus_of(888_000)
    with FakeLLM(flavor="minimax", context_limit=1_000_000) as llm:
        services = make_services(tmp_path, redis_server.url, llm)
        estimate = services.counter.count(text)
        # the provider's tokenizer sees ~3% more tokens than our estimate of the raw prose (the "N| " line
        # prefixes cost us relatively more, so its count of the whole prompt ends up below ours)
        llm.chars_per_token = len(text) / estimate / 1.03
        doc = add_document(services, text, "big.txt")
        job = run(
            services, type="qa", document_ids=[doc], question="Who is the supplier?", model="MiniMax-M1"
        )
        assert job.status == "succeeded", job.error
        assert len(llm.requests) == 1
        sent = llm.requests[0]["messages"][-1]["content"]
    result = job.result
    assert result is not None and result.manifest is not None
    assert result.manifest.document_tokens > 880_000 and result.manifest.total_tokens < 901_643
    assert not result.manifest.truncated and len(sent) > len(text)  # the whole corpus went out
    assert 800_000 < result.usage.prompt_tokens < 1_000_000
    citation = result.citations[0]
    assert (
        citation.status == "verified" and "Northwind Logistics" in citation.quote and citation.line_start == 1
    )
    assert result.cost is not None and result.cost.usd > 1.0  # >200K: M1's $1.30/M tier


def test_one_prompt_over_the_tpm_quota_fails_before_any_call(tmp_path: Path, redis_server: Any) -> None:
    with FakeLLM(flavor="minimax", context_limit=1_000_000) as llm:
        services = make_services(tmp_path, redis_server.url, llm)
        doc = add_document(services, prose(3000))
        job = run(services, type="qa", document_ids=[doc], question="q?", model="MiniMax-M1")
        assert job.status == "succeeded"
        # the same deployment against a provider whose catalog quota is tiny
        tight = tmp_path / "tight.toml"
        tight.write_text('[models."MiniMax-M1"]\nrate_limits = { rpm = 120, tpm = 20_000 }\n')
        model = services.settings.model.model_copy(update={"catalog_path": tight})
        services = build_services(services.settings.model_copy(update={"model": model}))
        job = run(services, type="qa", document_ids=[doc], question="q?", model="MiniMax-M1")
        assert len(llm.requests) == 1
    assert job.status == "failed" and job.error is not None and job.error.code == "exceeds_rate_quota"
    assert job.error.details["tpm"] == 20_000 and job.error.details["tokens"] > 20_000


def add_log(services: Services, text: str, name: str = "app.log") -> str:
    """A log document taken through the real extraction path (ingest: per-line table, unit counts)."""
    writer = services.blobs.writer(1 << 30)
    writer.write(text.encode())
    sha = writer.finish()
    writer.commit(sha)
    content = ContentRecord(sha256=sha, kind="log", media_type="text/plain", status="uploaded")
    services.records.put_content(content)
    assert extract_content(services, sha).status == "ready"  # type: ignore[union-attr]
    doc = DocumentRecord(
        id=f"doc_{uuid.uuid4().hex[:12]}", name=name, media_type="text/plain", kind="log", size=len(text),
        sha256=sha,
    )  # fmt: skip
    services.records.put_document(doc)
    return doc.id


def test_a_log_too_big_for_the_window_reaches_the_model_as_its_compressed_view(
    tmp_path: Path, redis_server: Any, minimax: FakeLLM
) -> None:
    rng = random.Random(5)
    lines = []
    for i in range(6000):
        burst = 3000 <= i < 3040
        level = "ERROR" if burst or i % 997 == 0 else "INFO"
        what = (
            f"payment {i} declined by acquirer"
            if level == "ERROR"
            else f"request {rng.randrange(10**6)} served"
        )
        lines.append(f"2026-03-04T10:{i // 600:02d}:{i % 60:02d}.{i % 1000:03d}Z {level} api - {what}")
    services = make_services(tmp_path, redis_server.url, minimax)
    doc = add_log(services, "\n".join(lines) + "\n")
    before = len(minimax.requests)
    job = run(
        services, type="qa", document_ids=[doc], question="When did payments start failing?", model="tiny"
    )
    assert job.status == "succeeded", job.error
    assert len(minimax.requests) == before + 1
    prompt = "\n".join(str(m["content"]) for m in minimax.requests[-1]["messages"])
    assert "<log-view" in prompt and "BURSTS" in prompt  # the view, not a truncated log
    budget = job.result.manifest.documents[0]  # type: ignore[union-attr]
    view = budget.view or {}
    assert view["dropped_lines"] == 0 and view["verbatim_lines"] + view["template_only_lines"] == 6000
    assert view["burst_error_lines_verbatim"] == view["burst_error_lines"] >= 40
    for n in range(3001, 3041):  # every error line of the burst, verbatim, with its real number
        assert f"{n}| {lines[n - 1]}\n" in prompt
    assert job.result.manifest.total_tokens <= 20_000  # type: ignore[union-attr]
