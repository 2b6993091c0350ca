"""Exact token counts (tokenizer.json, tokenizer by name, the server's /tokenize) and calibration."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest

from service.calibration import MAX_SAMPLES, CalibrationStore
from service.redis_conn import EmbeddedRedis, connect, free_port
from service.tokens import EstimatingCounter, HFTokenizerCounter, ScaledCounter, make_counter, unscaled
from service.tokens_remote import EndpointCounter
from tests.fakellm import FakeLLM

PROSE = "The supplier shall deliver the services described in Schedule A within thirty days. " * 40


def train_tokenizer(path: Path) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["[UNK]"], show_progress=False)
    tokenizer.train_from_iterator([PROSE, "2024-01-01 ERROR disk full\n" * 20], trainer)
    out = path / "tokenizer.json"
    tokenizer.save(str(out))
    return out


def test_tokenizer_file_counts_exactly(tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    path = train_tokenizer(tmp_path)
    counter = make_counter(tokenizer_path=path)
    assert isinstance(counter, HFTokenizerCounter) and counter.method == "exact:tokenizer.json"
    text = PROSE * 30  # longer than one 65,536-character chunk
    reference = Tokenizer.from_file(str(path)).encode(text[:65536], add_special_tokens=False).ids
    assert counter.count(text[:65536]) == len(reference)
    assert counter.count(text) > counter.count(text[:65536])


def test_tokenizer_by_name_offline_falls_back_with_a_log_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # this machine has no internet; fail fast instead of retrying
    with caplog.at_level(logging.WARNING, logger="service.tokens"):
        counter = make_counter(tokenizer_name="MiniMaxAI/MiniMax-M1-40k")
    assert isinstance(counter, EstimatingCounter)
    assert any("MiniMaxAI/MiniMax-M1-40k" in r.message and "estimator" in r.message for r in caplog.records)


@pytest.mark.parametrize("dialect", ["vllm", "llamacpp"])
def test_tokenize_endpoint_in_both_dialects(dialect: str) -> None:
    with FakeLLM(flavor="vllm", tokenize_dialect=dialect, chars_per_token=4.0) as server:  # type: ignore[arg-type]
        counter = make_counter(tokenize_endpoint=server.tokenize_url, model="local")
        assert isinstance(counter, EndpointCounter)
        assert counter.method == f"exact:{dialect}-tokenize"
        assert counter.count(PROSE) == server.count_tokens(PROSE)
        assert counter.count("") == 0


def test_tokenize_endpoint_down_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        counter = make_counter(tokenize_endpoint=f"http://127.0.0.1:{free_port()}/tokenize")
    assert isinstance(counter, EstimatingCounter)
    assert any("tokenize endpoint" in r.message for r in caplog.records)
    with FakeLLM(flavor="vllm") as server:
        live = EndpointCounter.probe(server.tokenize_url, "local")
    # the server is gone now: counts fall back to the estimator, and the method says so
    assert live.count(PROSE) == EstimatingCounter().count(PROSE)
    assert live.method == "exact:vllm-tokenize+fallback-estimate(1)"
    assert live.expected_error == EstimatingCounter().expected_error


@pytest.fixture()
def store(redis_server: EmbeddedRedis) -> CalibrationStore:
    return CalibrationStore(connect(redis_server.url), f"t{uuid.uuid4().hex[:8]}")


def test_calibration_needs_three_samples_then_scales_and_narrows_the_error(store: CalibrationStore) -> None:
    base = EstimatingCounter()
    store.record("MiniMax-M1", 1000, 1200)
    store.record("MiniMax-M1", 2000, 2500)
    assert store.calibrated("MiniMax-M1", base) is base
    store.record("MiniMax-M1", 4000, 5200)
    counter = store.calibrated("MiniMax-M1", base)
    assert isinstance(counter, ScaledCounter)
    assert counter.method == "estimate:script-aware-v1+calibrated(n=3)"
    assert counter.factor == 1.25  # median of 1.2, 1.25, 1.3
    assert 0.03 <= counter.expected_error < base.expected_error  # widest sample is 4% off, + 2% allowance
    assert counter.expected_error == pytest.approx(0.06, abs=0.001)
    assert counter.count(PROSE) == -(-base.count(PROSE) * 5 // 4)
    assert unscaled(counter, counter.count(PROSE)) == pytest.approx(base.count(PROSE), abs=1)
    assert store.calibrated("MiniMax-Text-01", base) is base  # per model


def test_calibration_is_clamped_bounded_and_skips_exact_counters(
    store: CalibrationStore, tmp_path: Path
) -> None:
    for _ in range(MAX_SAMPLES + 10):
        store.record("m", 1000, 3000)  # a provider counting 3x: clamp, do not triple every budget
    store.record("m", 0, 10)  # nonsense is ignored
    assert len(store.ratios("m")) == MAX_SAMPLES
    calibration = store.calibration("m", 0.10)
    assert calibration is not None and calibration.factor == 1.5
    assert calibration.expected_error == 0.10  # samples far from the clamped factor: no narrowing
    exact = make_counter(tokenizer_path=train_tokenizer(tmp_path))
    assert store.calibrated("m", exact) is exact
