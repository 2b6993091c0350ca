"""What a call costs, from the catalog's prices: estimated before (dry run) and actual after (usage).

Output is billed on `completion_tokens`, which includes reasoning tokens at every provider we know; if a
provider reports reasoning tokens larger than the completion (i.e. outside it), they are added. Cached
prompt tokens are billed at the model's cache-read price when it has one. M1's input tier is chosen by the
whole prompt's size, as MiniMax bills it.
"""

from __future__ import annotations

from service.llm.catalog import ModelInfo
from service.models import Cost, Usage


def _rates(info: ModelInfo, prompt_tokens: int) -> str:
    rate_in = info.price.input_rate(prompt_tokens)
    tiered = len(info.price.input) > 1
    tier = f" (tier for a {prompt_tokens:,}-token prompt)" if tiered else ""
    cached = f", cached input ${info.price.cache_read:.2f}/M" if info.price.cache_read is not None else ""
    return f"{info.id}: input ${rate_in:.2f}/M{tier}, output ${info.price.output:.2f}/M{cached}"


def billed_output(usage: Usage) -> int:
    """Output tokens to bill: the completion, reasoning included."""
    if usage.reasoning_tokens > usage.completion_tokens:
        return usage.completion_tokens + usage.reasoning_tokens
    return usage.completion_tokens


def actual_cost(info: ModelInfo, usage: Usage) -> Cost:
    """Cost of a finished call from the provider's usage (estimated when the provider sent none)."""
    usd = info.cost_usd(usage.prompt_tokens, billed_output(usage), usage.cached_tokens)
    pricing = _rates(info, usage.prompt_tokens)
    if usage.estimated:
        pricing += "; the provider reported no usage, so the token counts are ours"
    return Cost(usd=round(usd, 8), estimated=usage.estimated, pricing=pricing)


def estimated_cost(info: ModelInfo, prompt_tokens: int, max_output_tokens: int) -> Cost:
    """Upper-bound estimate before a call: our prompt count and the whole output budget, nothing cached."""
    usd = info.cost_usd(prompt_tokens, max_output_tokens)
    pricing = _rates(info, prompt_tokens) + f"; assumes all {max_output_tokens:,} output tokens are used"
    return Cost(usd=round(usd, 8), estimated=True, pricing=pricing)


def free(engine: str) -> Cost:
    return Cost(usd=0.0, estimated=False, pricing=f"{engine} engine: runs locally, no provider charges")
