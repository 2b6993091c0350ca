"""Token counting behind one interface; the only module that knows tokenizers and budgets.

Without a tokenizer file (the offline default) counts come from a script-aware estimator calibrated
against byte-level BPEs close to MiniMax-M1's 200K vocabulary (see README "Token counting"). It sorts
the text into runs the way a GPT-4-style pre-tokenizer does (letter runs, digit runs of <=3, punctuation,
whitespace, CJK) and prices each run; counts err on the high side and the packer adds a safety margin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# One alternation, one pass: letters (incl. Latin-1/Greek/Cyrillic), digits, CJK, other symbols, spaces.
_RUN = re.compile(
    r"(?P<word>[A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]+)"
    r"|(?P<num>[0-9]+)"
    r"|(?P<cjk>[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+)"
    r"|(?P<nl>\n+)"
    r"|(?P<space>[ \t]+)"
    r"|(?P<sym>[^\sA-Za-z0-9\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+)"
)

# Characters per token of one letter run: short words are one token, long ones split about every 6.
_WORD_CHARS_PER_TOKEN = 6.0
# MiniMax's own guide: 1,600 Chinese characters ~ 1,000 tokens.
_CJK_CHARS_PER_TOKEN = 1.6


class TokenCounter(Protocol):
    method: str
    expected_error: float  # relative; the packer reserves this share of the prompt as safety margin

    def count(self, text: str) -> int: ...


@dataclass
class EstimatingCounter:
    """Script-aware estimate; +-10% against real BPEs on prose, code, logs and CJK (bench/bench_tokens.py)."""

    method: str = "estimate:script-aware-v1"
    expected_error: float = 0.10

    def count(self, text: str) -> int:
        if not text:
            return 0
        tokens = 0.0
        for match in _RUN.finditer(text):
            kind = match.lastgroup
            run = match.group()
            n = len(run)
            if kind == "word":
                tokens += 1.0 + (n - 1) // _WORD_CHARS_PER_TOKEN
            elif kind == "num":
                tokens += (n + 2) // 3
            elif kind == "cjk":
                tokens += n / _CJK_CHARS_PER_TOKEN
            elif kind == "sym":
                tokens += (n + 1) // 2
            elif kind == "nl" or n > 1:
                tokens += 1.0
        return int(tokens) + 1


@dataclass
class HFTokenizerCounter:
    """Exact counts from a Hugging Face `tokenizer.json` (e.g. MiniMax-M1's), when configured by path."""

    path: Path
    method: str = "exact:tokenizer.json"
    expected_error: float = 0.01

    def __post_init__(self) -> None:
        from tokenizers import Tokenizer  # optional dependency, imported only when configured

        self._tokenizer = Tokenizer.from_file(str(self.path))

    def count(self, text: str) -> int:
        if not text:
            return 0
        chunk = 65536  # encoding one huge string is several times slower than chunks
        return sum(
            len(self._tokenizer.encode(text[i : i + chunk], add_special_tokens=False).ids)
            for i in range(0, len(text), chunk)
        )


def make_counter(tokenizer_path: Path | None = None) -> TokenCounter:
    """The best counter this deployment has."""
    if tokenizer_path is not None and tokenizer_path.exists():
        return HFTokenizerCounter(tokenizer_path)
    return EstimatingCounter()


# Chat-template overhead per message (role markers, separators).
MESSAGE_OVERHEAD_TOKENS = 8
