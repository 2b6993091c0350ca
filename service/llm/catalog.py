"""The model catalog: windows, output limits, sampling ranges, prices and rate limits per model id.

The built-in catalog is `models.toml` next to this module; `load_catalog(extra_path)` merges a user TOML
over it (a model present in both has its fields overridden one by one, tables merged recursively).
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from service.errors import BadRequest

log = logging.getLogger(__name__)

BUILTIN_CATALOG = Path(__file__).with_name("models.toml")

ReasoningFormat = Literal["think_tags", "reasoning_content", "reasoning_details", "none"]


class PriceTier(BaseModel):
    """Input price in USD per 1M tokens for prompts up to `up_to_tokens` (None = no upper bound)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    up_to_tokens: int | None = None
    usd: float = Field(ge=0)


class Price(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    input: list[PriceTier] = Field(min_length=1)
    output: float = Field(ge=0)
    cache_read: float | None = Field(
        default=None, ge=0, description="None: cached tokens are billed as input."
    )

    def input_rate(self, prompt_tokens: int) -> float:
        """Rate of the tier the whole prompt falls in (MiniMax bills the whole input at one tier)."""
        for tier in self.input:
            if tier.up_to_tokens is None or prompt_tokens <= tier.up_to_tokens:
                return tier.usd
        return self.input[-1].usd


class RateLimits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rpm: int = Field(default=0, ge=0, description="Requests per minute; 0 = unknown/unlimited.")
    tpm: int = Field(default=0, ge=0, description="Tokens per minute; 0 = unknown/unlimited.")


class ModelInfo(BaseModel):
    """Everything the service needs to know about one model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    provider_model_id: str
    openrouter_model_id: str | None = None
    openrouter_provider_only: list[str] = Field(default_factory=list)
    context_window: int = Field(gt=0)
    max_output: int = Field(gt=0)
    default_max_output: int = Field(default=8192, gt=0)
    output_counts_against_window: bool = True
    temperature_default: float = 1.0
    top_p_default: float = Field(default=0.95, gt=0, le=1)
    temperature_range: tuple[float, float] = (0.0, 2.0)
    reasoning_format: ReasoningFormat = "think_tags"
    price: Price
    rate_limits: RateLimits = RateLimits()

    @model_validator(mode="after")
    def _check(self) -> ModelInfo:
        low, high = self.temperature_range
        if low < 0 or high < low:
            raise ValueError(f"bad temperature_range {self.temperature_range}")
        return self

    def clamp_temperature(self, value: float | None) -> float:
        """The requested temperature (or the default) forced into the model's accepted range."""
        wanted = self.temperature_default if value is None else value
        low, high = self.temperature_range
        clamped = min(max(wanted, low), high)
        if clamped != wanted:
            log.info("temperature %s clamped to %s for model %s", wanted, clamped, self.id)
        return clamped

    def cost_usd(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float:
        """USD cost of one call. Cached prompt tokens are billed at the cache-read rate when one exists."""
        rate_in = self.price.input_rate(prompt_tokens)
        cached = min(max(cached_tokens, 0), prompt_tokens)
        rate_cached = rate_in if self.price.cache_read is None else self.price.cache_read
        total = (prompt_tokens - cached) * rate_in + cached * rate_cached
        return (total + completion_tokens * self.price.output) / 1_000_000


class Catalog:
    """Model ids -> `ModelInfo`."""

    def __init__(self, models: Mapping[str, ModelInfo]):
        self._models = dict(models)

    def get(self, model_id: str) -> ModelInfo:
        try:
            return self._models[model_id]
        except KeyError:
            known = ", ".join(sorted(self._models))
            raise BadRequest(
                f"unknown model {model_id!r}; known models: {known}",
                code="unknown_model",
                details={"model": model_id, "known": sorted(self._models)},
            ) from None

    def ids(self) -> list[str]:
        return sorted(self._models)

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._models


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_models(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BadRequest(f"cannot read model catalog {path}: {exc}", code="bad_catalog") from exc
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise BadRequest(f"model catalog {path}: [models] must be a table", code="bad_catalog")
    return models


def load_catalog(extra_path: Path | None = None) -> Catalog:
    """The built-in catalog with the models of `extra_path` (TOML, [models.<id>] tables) merged over it."""
    raw = _read_models(BUILTIN_CATALOG)
    if extra_path is not None:
        raw = _deep_merge(raw, _read_models(extra_path))
    models: dict[str, ModelInfo] = {}
    for model_id, fields in raw.items():
        try:
            fields = {"provider_model_id": model_id, **fields, "id": model_id}
            models[model_id] = ModelInfo.model_validate(fields)
        except ValidationError as exc:
            message = f"model catalog entry {model_id!r} is invalid: {exc}"
            raise BadRequest(message, code="bad_catalog") from exc
    return Catalog(models)
