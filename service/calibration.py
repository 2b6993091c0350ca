"""Calibrating the token estimator against what the provider bills.

After every real model call the pipeline records (our unscaled estimate, the provider's `prompt_tokens`)
per model in a bounded Redis list. Once a model has `MIN_SAMPLES`, `calibrated()` wraps the estimator in a
`ScaledCounter` whose factor is the median ratio provider/ours (clamped to [0.7, 1.5] so one odd sample or
a misconfigured provider cannot halve or triple our budgets) and whose expected error is the largest
deviation of any sample from that median plus a small allowance, never more than the estimator's own.
Exact counters are not rescaled: they already count with the model's tokenizer.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import redis

from service.tokens import ScaledCounter, TokenCounter

MIN_SAMPLES = 3
MAX_SAMPLES = 50
FACTOR_RANGE = (0.7, 1.5)
_ALLOWANCE = 0.02  # documents differ from the ones sampled; never claim better than +-3%
_FLOOR = 0.03


@dataclass(frozen=True)
class Calibration:
    factor: float
    samples: int
    expected_error: float


class CalibrationStore:
    """Samples per model in Redis: `{prefix}:calib:{model}` = newest-first list of "ours,provider"."""

    def __init__(self, client: redis.Redis, prefix: str):
        self.r = client
        self.p = prefix

    def _key(self, model: str) -> str:
        return f"{self.p}:calib:{model}"

    def record(self, model: str, ours: int, provider: int) -> None:
        """Keep one sample; nonsense (zero or negative counts) is ignored."""
        if ours <= 0 or provider <= 0:
            return
        pipe = self.r.pipeline()
        pipe.lpush(self._key(model), f"{ours},{provider}")
        pipe.ltrim(self._key(model), 0, MAX_SAMPLES - 1)
        pipe.execute()

    def ratios(self, model: str) -> list[float]:
        ratios: list[float] = []
        for raw in self.r.lrange(self._key(model), 0, MAX_SAMPLES - 1):
            ours, _, provider = (raw.decode() if isinstance(raw, bytes) else str(raw)).partition(",")
            if ours.isdigit() and provider.isdigit() and int(ours) > 0:
                ratios.append(int(provider) / int(ours))
        return ratios

    def calibration(self, model: str, base_error: float) -> Calibration | None:
        ratios = self.ratios(model)
        if len(ratios) < MIN_SAMPLES:
            return None
        low, high = FACTOR_RANGE
        median = statistics.median(ratios)
        factor = min(max(median, low), high)
        spread = max(abs(r / factor - 1.0) for r in ratios)
        error = min(max(spread + _ALLOWANCE, _FLOOR), base_error)
        return Calibration(round(factor, 4), len(ratios), round(error, 4))

    def calibrated(self, model: str, counter: TokenCounter) -> TokenCounter:
        """`counter` scaled by the model's calibration, or `counter` itself (exact, or too few samples)."""
        if not counter.method.startswith("estimate:"):
            return counter
        found = self.calibration(model, counter.expected_error)
        if found is None:
            return counter
        method = f"{counter.method}+calibrated(n={found.samples})"
        return ScaledCounter(counter, found.factor, method, found.expected_error)
