"""pack -> model for one job, with what the provider tells us fed back: calibration, re-pack, cost.

- After every real call, (our unscaled estimate, the provider's prompt_tokens) is recorded for the model
  (`service.calibration`), so later packs use the provider's own scale.
- If the provider still says "context exceeded" and reports its count, the documents are packed ONCE more
  with our counter scaled by provider/ours (and the provider's limit if it is smaller than the catalog's).
  If that does not fit (policy "error"), re-packing cannot change the prompt, or the provider refuses again,
  the job fails with both counts. Nothing is ever cut silently: cuts happen only under overflow="truncate",
  and the manifest says what was cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from service.errors import ContextOverflow, JobCancelled
from service.llm.base import Engine, RunHooks
from service.llm.cost import actual_cost, free
from service.models import CorpusDocument, Cost, EngineOutput, JobSpec, PackedPrompt
from service.pack import Budget, pack
from service.tokens import ScaledCounter, TokenCounter, unscaled

if TYPE_CHECKING:
    from service.pipeline import Services


@dataclass
class Generation:
    prompt: PackedPrompt
    output: EngineOutput
    cost: Cost
    repacked: dict[str, Any] | None = None


def _pack(corpus: list[CorpusDocument], spec: JobSpec, budget: Budget, counter: TokenCounter) -> PackedPrompt:
    return pack(corpus, spec.type, spec.all_questions(), budget, counter, spec.options.overflow)


def prepare(services: Services, corpus: list[CorpusDocument], spec: JobSpec) -> PackedPrompt:
    """The packed prompt for `spec` with the model's calibrated counter (also used by dry runs)."""
    budget = services.budget_for(spec.model, spec.options.max_output_tokens)
    return _pack(corpus, spec, budget, services.counter_for(spec.model))


def generate(services: Services, corpus: list[CorpusDocument], spec: JobSpec, hooks: RunHooks) -> Generation:
    """Pack, call the engine (re-packing once on a provider overflow), record calibration, price it."""
    budget = services.budget_for(spec.model, spec.options.max_output_tokens)
    counter = services.counter_for(spec.model)
    prompt = _pack(corpus, spec, budget, counter)
    if hooks.cancelled():
        raise JobCancelled("cancelled before generation")
    hooks.progress("generating", 15.0)
    engine = services.engine_for(spec.model)
    repacked: dict[str, Any] | None = None
    try:
        output = engine.run(prompt, spec, hooks)
    except ContextOverflow as first:
        prompt, counter, repacked = _repack(services, corpus, spec, budget, counter, prompt, first)
        output = _run_again(engine, prompt, spec, hooks, repacked)
    if output.engine == "offline":
        return Generation(prompt, output, free(output.engine), repacked)
    usage = output.usage
    if not usage.estimated and usage.prompt_tokens > 0:
        ours = unscaled(counter, prompt.manifest.total_tokens)
        services.calibration.record(output.model, ours, usage.prompt_tokens)
    return Generation(prompt, output, actual_cost(services.catalog.get(output.model), usage), repacked)


def _counts(prompt: PackedPrompt, exc: ContextOverflow) -> dict[str, Any]:
    return {
        "our_estimate": prompt.manifest.total_tokens,
        "provider_prompt_tokens": exc.details.get("provider_prompt_tokens"),
        "provider_limit": exc.details.get("provider_limit"),
        "provider_message": exc.details.get("provider_message"),
    }


def _refuse(why: str, counts: dict[str, Any], extra: dict[str, Any] | None = None) -> ContextOverflow:
    provider = counts.get("provider_prompt_tokens")
    limit = counts.get("provider_limit")
    told = f"{provider:,}" if isinstance(provider, int) else "an unstated number of"
    message = (
        f"the provider refused the prompt as too long: it counted {told} prompt tokens where we estimated "
        f"{counts['our_estimate']:,}"
        + (f" (its limit: {limit:,})" if isinstance(limit, int) else "")
        + f"; {why}"
    )
    return ContextOverflow(message, details={**counts, **(extra or {})})


def _repack(
    services: Services,
    corpus: list[CorpusDocument],
    spec: JobSpec,
    budget: Budget,
    counter: TokenCounter,
    prompt: PackedPrompt,
    exc: ContextOverflow,
) -> tuple[PackedPrompt, TokenCounter, dict[str, Any]]:
    counts = _counts(prompt, exc)
    provider = counts["provider_prompt_tokens"]
    if not isinstance(provider, int) or provider <= 0 or counts["our_estimate"] <= 0:
        raise _refuse("it gave no count to re-pack with; choose fewer documents", counts) from exc
    services.calibration.record(budget.model, unscaled(counter, counts["our_estimate"]), provider)
    factor = provider / counts["our_estimate"]
    limit = counts["provider_limit"]
    window = min(budget.window, limit) if isinstance(limit, int) and limit > 0 else budget.window
    scaled_budget = Budget(budget.model, window, budget.reserved_output)
    method = f"{counter.method}+provider-scaled(x{factor:.3f})"
    scaled = ScaledCounter(counter, factor, method, counter.expected_error)
    try:
        again = _pack(corpus, spec, scaled_budget, scaled)
    except ContextOverflow as still:
        why = "at the provider's count the documents do not fit; choose fewer documents or overflow=truncate"
        raise _refuse(why, counts, {"repack": still.details}) from exc
    if again.user == prompt.user and window == budget.window:
        raise _refuse("re-packing at its count changes nothing; choose fewer documents", counts) from exc
    repacked = {
        **counts,
        "factor": round(factor, 4),
        "window": window,
        "new_estimate": again.manifest.total_tokens,
    }
    return again, scaled, repacked


def _run_again(
    engine: Engine, prompt: PackedPrompt, spec: JobSpec, hooks: RunHooks, repacked: dict[str, Any]
) -> EngineOutput:
    try:
        return engine.run(prompt, spec, hooks)
    except ContextOverflow as second:
        counts = {**repacked, **{k: v for k, v in _counts(prompt, second).items() if v is not None}}
        counts["our_estimate"] = repacked["our_estimate"]
        raise _refuse("it refused the re-packed prompt too", counts, {"repacked": True}) from second
