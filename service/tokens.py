"""Token counting behind one interface; the only module that knows tokenizers and budgets.

Without a tokenizer file (the offline default) counts come from a script-aware estimator calibrated
against byte-level BPEs close to MiniMax-M1's 200K vocabulary (see README "Token counting"). It sorts
the text into runs the way a GPT-4-style pre-tokenizer does (letter runs, digit runs of <=3, punctuation,
whitespace, CJK) and prices each run; counts err on the high side and the packer adds a safety margin.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

ascii_line_units: Callable[[str], int] | None
try:
    from service._native import ascii_line_units
except ImportError:  # pragma: no cover - built by every install that has a C compiler
    ascii_line_units = None

log = logging.getLogger(__name__)

# One alternation, one pass: letters (incl. Latin-1/Greek/Cyrillic), digits, CJK, other symbols, spaces.
_RUN = re.compile(
    r"(?P<word>[A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff]+)"
    r"|(?P<num>[0-9]+)"
    r"|(?P<cjk>[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+)"
    r"|(?P<nl>\n+)"
    r"|(?P<space>[ \t]+)"
    r"|(?P<sym>[^\sA-Za-z0-9\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+)"
)

# Characters per token of one letter run: words up to 9 letters are one token in 200K-vocabulary BPEs,
# longer ones split about every 9 (bench/bench_tokens.py; 6 over-counted English and code by ~25%).
_WORD_CHARS_PER_TOKEN = 9.0
# Punctuation runs merge into tokens of ~3 characters (`(self`, `."`, `):`); a lone symbol is one token.
_SYM_CHARS_PER_TOKEN = 3.0
# A newline mostly merges with the punctuation before it (`.\n`, `}\n`): half a token per run.
_NEWLINE_TOKENS = 0.5
# MiniMax's own guide: 1,600 Chinese characters ~ 1,000 tokens.
_CJK_CHARS_PER_TOKEN = 1.6


class TokenCounter(Protocol):
    """Counts tokens; `method` says how (the manifest shows it), `expected_error` how well."""

    @property
    def method(self) -> str: ...

    @property
    def expected_error(self) -> float:
        """Relative; the packer reserves this share of the prompt as safety margin."""
        ...

    def count(self, text: str) -> int: ...


@dataclass
class EstimatingCounter:
    """Script-aware estimate. Against o200k_base (closest public BPE to MiniMax-M1's): +1.5% to +5% on
    English prose, contracts, code and logs, i.e. slightly high; on Chinese it assumes MiniMax's 1.6 chars
    per token (real M1 is ~2.2, so high again). The stated +-10% covers the chat template and tokenizer
    differences (bench/bench_tokens.py, README "Token counting and budgets")."""

    method: str = "estimate:script-aware-v1"
    expected_error: float = 0.10
    # Per-line prices by run shape for `count_numbered` (bounded); not part of the counter's identity.
    _line_costs: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    _wrapper: tuple[str, str, int] = field(default=("", "", 0), repr=False, compare=False)

    def count(self, text: str) -> int:
        if not text:
            return 0
        if text.isascii():
            return _count_ascii(text) // _UNIT + 1
        # Exact arithmetic in 1/48 token (48 = lcm of the 1/3, 1/2 and 5/8 prices), so every path agrees.
        units = 0
        for match in _RUN.finditer(text):
            kind = match.lastgroup
            n = len(match.group())
            if kind == "word":
                units += _UNIT * ((n + 8) // 9)  # = 1 + (n-1)//9 per _WORD_CHARS_PER_TOKEN
            elif kind == "num":
                units += _UNIT * ((n + 2) // 3)
            elif kind == "cjk":
                units += n * _UNIT * 5 // 8  # n / _CJK_CHARS_PER_TOKEN
            elif kind == "sym":
                units += max(_UNIT, n * _UNIT // 3)
            elif kind == "nl":
                units += _UNIT // 2
            elif n > 1:  # a run of spaces/tabs; a single space belongs to the next word
                units += _UNIT
        return units // _UNIT + 1

    def _wrapper_units(self, head: str, tail: str) -> int:
        """Units of a member's `<file>` head and tail: the same for each of its units, priced once."""
        if head == self._wrapper[0] and tail == self._wrapper[1]:
            return self._wrapper[2]
        units = _count_ascii(head) + _count_ascii(tail)
        self._wrapper = (head, tail, units)
        return units

    def numbered_wrapper_units(self, head: str, tail: str) -> int | None:
        """The units `count_numbered` adds for `head` and `tail`, or None when it would count the text
        whole (a non-ASCII wrapper, a tail starting with a newline)."""
        if not (head.isascii() and tail.isascii()) or "\n" in tail[:1]:
            return None
        return self._wrapper_units(head, tail)

    def numbered_from_units(self, units: int, first: int, lines: int) -> int:
        """`count_numbered` of `lines` ASCII lines numbered from `first`, given their `ascii_line_units`
        plus `numbered_wrapper_units`."""
        return (units + _number_units(first, first + lines)) // _UNIT + 1

    def count_numbered(self, lines: list[str], first: int, head: str = "", tail: str = "") -> int:
        """`count(head + "".join(f"{first + i}| {line}\\n") + tail)`, the packer's numbered-line units.

        With ASCII text the price is a sum over runs that never cross a line break, so each line's share
        is priced once per run shape (each character replaced by one of its class: same runs) and cached;
        other text is counted whole.
        `head` must be empty or end with a newline, and `tail` must not start with one.
        """
        joined = "\n".join(lines)
        if not (joined.isascii() and head.isascii() and tail.isascii()) or "\n" in tail[:1]:
            return self.count(head + "".join(f"{first + i}| {line}\n" for i, line in enumerate(lines)) + tail)
        units = self._wrapper_units(head, tail) + _number_units(first, first + len(lines))
        if ascii_line_units is not None:
            return (units + ascii_line_units(joined)) // _UNIT + 1
        costs = self._line_costs
        if len(costs) > 100_000:
            costs.clear()
        for key in joined.translate(_CLASS_CHARS).split("\n"):
            cost = costs.get(key)
            if cost is None:
                cost = _line_cost(key)
                if len(key) <= 1024:  # bounded memory: long lines are priced, not remembered
                    costs[key] = cost
            units += cost
        return units // _UNIT + 1


# ASCII fast path (logs, code, English): the same prices, with the runs measured by C-level
# bytes.translate/split/Counter instead of one Python step per regex match (~9x faster).
_UNIT = 48


def _ascii_class(c: int) -> int:
    """The run class of an ASCII byte: a letter, 0 digit, itself for space/tab/newline, x for other
    whitespace (separates runs, costs nothing, as in _RUN), . for a symbol."""
    ch = chr(c)
    if ch.isalpha() or ch.isdigit():
        return ord("a" if ch.isalpha() else "0")
    if ch in " \t\n":
        return c
    return ord("x" if ch.isspace() else ".")


_CLASS = bytes(_ascii_class(c) for c in range(128)) + b"." * 128
_ONLY = {k: bytes(ord("k") if c == k else ord(" ") for c in range(256)) for k in b"a0. \t\n"}


def _runs(classes: bytes, kind: int) -> Counter[int]:
    """Histogram of the lengths of the runs of one class."""
    return Counter(map(len, classes.translate(_ONLY[kind]).split()))


# Each ASCII character as a representative of its run class (see _ascii_class): same runs, same price.
_CLASS_CHARS = {
    c: {97: "a", 48: "0", 46: ".", 120: "\x0b"}.get(_CLASS[c], chr(_CLASS[c])) for c in range(128)
}


def _number_units(start: int, stop: int) -> int:
    """Units of the line numbers start..stop-1 (digit runs: a token per 3 digits), by digit count."""
    units, low, high = 0, 0, 10
    for digits in range(1, len(str(max(stop - 1, 0))) + 1):
        overlap = min(stop, high) - max(start, low)
        if overlap > 0:
            units += overlap * _UNIT * ((digits + 2) // 3)
        low, high = high, high * 10
    return units


def _line_cost(shape: str) -> int:
    """Units one ASCII line (as its class characters) adds as `N| line\\n` besides N's digits: its
    runs, '|', the newline, and a single leading blank that the space after '|' makes a run of two."""
    blank = len(shape) - len(shape.lstrip(" \t")) == 1
    runs = sum(map(_RUN_COSTS.__getitem__, _SHAPE_RUNS(shape)))
    return runs + _UNIT + _UNIT // 2 + (_UNIT if blank else 0)


class _RunCosts(dict[str, int]):
    """Price of one run of class characters (as _count_ascii prices it), memoised by the run."""

    def __missing__(self, run: str) -> int:
        if len(self) > 10_000:
            self.clear()
        cost = self[run] = _count_ascii(run)
        return cost


_RUN_COSTS = _RunCosts()
_SHAPE_RUNS = re.compile(r"(?:a+|0+|\.+|[ \t]+)").findall


def _count_ascii(text: str) -> int:
    c = text.encode("ascii").translate(_CLASS)
    units = sum(m * _UNIT * ((n + 8) // 9) for n, m in _runs(c, ord("a")).items())
    units += sum(m * _UNIT * ((n + 2) // 3) for n, m in _runs(c, ord("0")).items())
    units += sum(m * max(_UNIT, n * _UNIT // 3) for n, m in _runs(c, ord(".")).items())
    units += _UNIT // 2 * len(c.translate(_ONLY[ord("\n")]).split())
    blanks = c.replace(b"\t", b" ")
    units += sum(m * _UNIT for n, m in _runs(blanks, ord(" ")).items() if n > 1)
    return units


class HFTokenizerCounter:
    """Exact counts from a Hugging Face tokenizer: a `tokenizer.json` by path, or fetched by name."""

    expected_error = 0.01

    def __init__(self, tokenizer: object, method: str):
        self._tokenizer = tokenizer
        self.method = method

    @classmethod
    def from_file(cls, path: Path) -> HFTokenizerCounter:
        from tokenizers import (
            Tokenizer,
        )  # optional dependency (extra "exact-tokens"), imported when configured

        return cls(Tokenizer.from_file(str(path)), "exact:tokenizer.json")

    @classmethod
    def from_name(cls, name: str) -> HFTokenizerCounter:
        """Fetch by hub name (needs internet, or the local HF cache). Raises on any failure."""
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_pretrained(name), f"exact:{name}")

    def count(self, text: str) -> int:
        if not text:
            return 0
        chunk = 65536  # encoding one huge string is several times slower than chunks
        encode = self._tokenizer.encode  # type: ignore[attr-defined]
        return sum(
            len(encode(text[i : i + chunk], add_special_tokens=False).ids) for i in range(0, len(text), chunk)
        )


@dataclass
class ScaledCounter:
    """Another counter's counts times `factor`: calibration against the provider, or a re-pack after the
    provider reported more prompt tokens than we counted. `base_count` is the unscaled count."""

    base: TokenCounter
    factor: float
    method: str
    expected_error: float

    def count(self, text: str) -> int:
        return math.ceil(self.base.count(text) * self.factor)

    def base_count(self, text: str) -> int:
        return self.base.count(text)


def unscaled(counter: TokenCounter, tokens: int) -> int:
    """`tokens` as the unscaled base counter would have counted them (for calibration samples)."""
    if isinstance(counter, ScaledCounter):
        return unscaled(counter.base, round(tokens / counter.factor))
    return tokens


def make_counter(
    tokenizer_path: Path | None = None,
    tokenizer_name: str | None = None,
    tokenize_endpoint: str | None = None,
    model: str = "",
) -> TokenCounter:
    """The best counter this deployment has: the server's tokenize endpoint, a tokenizer file, a tokenizer
    fetched by name, else the estimator. Every unusable exact source is logged and falls through."""
    if tokenize_endpoint:
        from service.tokens_remote import EndpointCounter

        try:
            return EndpointCounter.probe(tokenize_endpoint, model)
        except Exception as exc:  # any failure: say so and fall back, never block the service
            log.warning("tokenize endpoint %s unusable (%s); falling back", tokenize_endpoint, exc)
    if tokenizer_path is not None:
        if tokenizer_path.exists():
            return HFTokenizerCounter.from_file(tokenizer_path)
        log.warning("tokenizer file %s does not exist; falling back", tokenizer_path)
    if tokenizer_name:
        try:
            return HFTokenizerCounter.from_name(tokenizer_name)
        except Exception as exc:  # offline, unknown name, tokenizers not installed
            log.warning(
                "tokenizer %r could not be fetched (%s: %s); using the estimator (%s)",
                tokenizer_name,
                type(exc).__name__,
                str(exc)[:200],
                EstimatingCounter.method,
            )
    return EstimatingCounter()


# Chat-template overhead per message (role markers, separators).
MESSAGE_OVERHEAD_TOKENS = 8
