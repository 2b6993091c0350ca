"""`EstimatingCounter.count_numbered` prices numbered lines per line; it must equal counting the text whole."""

from __future__ import annotations

import random

from service.tokens import EstimatingCounter


def _whole(counter: EstimatingCounter, lines: list[str], first: int, head: str, tail: str) -> int:
    return counter.count(head + "".join(f"{first + i}| {line}\n" for i, line in enumerate(lines)) + tail)


def test_numbered_count_equals_counting_the_rendered_text() -> None:
    counter = EstimatingCounter()
    rng = random.Random(3)
    alphabet = "ab0123 .,;:-\t/x\r\x0b|<"  # words, digits, symbols, blanks, other whitespace
    wrappers = [
        ("", ""),
        ('<file path="svc/app.log">\n', "</file>\n"),
        ('<file path="é.log">\n', "</file>\n"),
    ]
    for _ in range(3000):
        chars = alphabet + ("é漢" if rng.random() < 0.1 else "")
        lines = [
            "".join(rng.choice(chars) for _ in range(rng.randint(0, 40))) for _ in range(rng.randint(1, 12))
        ]
        first = rng.choice([1, 9, 99, 998, 12_345, 999_999])
        head, tail = rng.choice(wrappers)
        assert counter.count_numbered(lines, first, head, tail) == _whole(counter, lines, first, head, tail)


def test_repeated_shapes_reuse_the_cache_and_stay_exact() -> None:
    counter = EstimatingCounter()
    lines = [f"2026-03-04 10:00:{i % 60:02d},{i % 1000:03d} INFO user u{i} logged in" for i in range(1500)]
    for start in range(0, 1500, 500):
        block = lines[start : start + 500]
        assert counter.count_numbered(block, start + 1) == _whole(counter, block, start + 1, "", "")
    assert counter == EstimatingCounter()  # the cache is not part of the counter's identity


def test_compiled_line_prices_equal_the_python_prices() -> None:
    from service import tokens

    assert tokens.ascii_line_units is not None  # built by the install (setup.py)
    rng = random.Random(11)
    alphabet = "aZ09 \t.,;:-/\r\x0b\x0c\x1c\x1f\x00|<{"
    for _ in range(5000):
        lines = [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(rng.randint(1, 6))
        ]
        joined = "\n".join(lines)
        python = sum(tokens._line_cost(key) for key in joined.translate(tokens._CLASS_CHARS).split("\n"))
        assert tokens.ascii_line_units(joined) == python, repr(joined)


def test_line_number_prices_by_digit_count() -> None:
    from service.tokens import _UNIT, _number_units

    for start, stop in [
        (1, 1),
        (1, 2),
        (9, 11),
        (1, 501),
        (998, 1003),
        (99_999, 100_001),
        (0, 12),
        (7, 1_000_001),
    ]:
        assert _number_units(start, stop) == sum(_UNIT * ((len(str(n)) + 2) // 3) for n in range(start, stop))
