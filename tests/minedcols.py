"""Per-line columns of a mined log, by pattern: what the block-miner comparisons assert equal."""

from __future__ import annotations

import math

from service.logs.member import Block, MinedMember


def per_line(blocks: list[Block], mined: MinedMember) -> list[tuple[str, int, float | None, int]]:
    """(template pattern, level id, time or None, event start) of every line fed."""
    pattern = {t.id: t.pattern for t in mined.templates}
    return [
        (pattern[mined.resolve[t]], lvl, None if math.isnan(ts) else ts, start)
        for b in blocks
        for t, lvl, ts, start in zip(b.template, b.level, b.ts, b.starts, strict=True)
    ]
