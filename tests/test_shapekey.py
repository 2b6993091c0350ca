"""The message cache key (`service.logs.shapekey`) and the block miner with the cache on and off."""

from __future__ import annotations

import pytest

from bench.logdata import FORMAT_NAMES, generate, multi_service_stream
from service.logs.member import Block, MinedMember, mine_lines
from service.logs.shapekey import ZERO_DIGITS, message_key
from tests.minedcols import per_line


def _key(message: str) -> str:
    assert message_key is not None
    return message_key(message.translate(ZERO_DIGITS))


def test_extension_is_built() -> None:
    # Every install with a C compiler builds it (setup.py); CI must not silently lose the speed.
    assert message_key is not None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("job 33f786e1-64e2-a416-4657-d112e0dbfdb0 done", "job 0b9c04aa-1111-4e2f-9a7d-00aa00bb00cc done"),
        ("fault addr 0x7fa3c2b1 in tid 4", "fault addr 0x00e1ffd0 in tid 7"),
        ("waiting=48530 size=4", "waiting=17 size=9"),
        ("took 12.25s", "took 105.51s"),
        (
            "[req-9f1c2b3a-aaaa-4bbb-8ccc-0123456789ab d41d8cd98f00b204e9800998ecf8427e]",
            "[req-1a2b3c4d-5e6f-7a8b-9c0d-abcdefabcdef d123456789abcdef0123456789abcdef]",
        ),
    ],
)
def test_ids_and_number_lengths_share_a_key(a: str, b: str) -> None:
    assert _key(a) == _key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("up eth0", "up eth12"),  # a one-digit suffix names a thing (masking keeps eth0)
        ("state bad", "state fed"),  # hex letters alone are words
        ("id a1b2c3d4e5f6=on", "id f6e5d4c3b2a1=on"),  # a key is kept by masking
        ("call a1b2c3d4e5f6(x)", "call f6e5d4c3b2a1(x)"),  # so is a call's name
        ("flag a1b2c3d4e5f6:true", "flag f6e5d4c3b2a1:true"),  # and a flag's name
        ("x a1b2c3d4e5f6g", "x f6e5d4c3b2a1g"),  # part of a longer word
        ("x 1234abcd", "x abcd1234"),  # the first character (letter or digit) stays
        ("the deadbeef value", "the cafebabe value"),  # no digits: words, not ids
    ],
)
def test_what_masking_tells_apart_keeps_apart(a: str, b: str) -> None:
    assert _key(a) != _key(b)


def test_key_is_total_on_odd_text() -> None:
    for text in ("", "0", "0x", "0xg", "-" * 20, "é0a0a0a0a0a0 ü", "a" * 5000 + "0" * 5000, "\x00\udcff"):
        assert isinstance(_key(text), str)


def _mine(lines: list[str], cache: bool) -> tuple[list[Block], MinedMember]:
    blocks: list[Block] = []
    mined = mine_lines(lines, 2026, on_block=blocks.append, message_cache=cache)
    return blocks, mined


def _summary(mined: MinedMember) -> list[tuple[object, ...]]:
    return sorted(
        (t.pattern, t.count, t.first_line, t.last_line, t.first_ts, t.last_ts, sorted(t.levels.items()))
        for t in mined.templates
    )


@pytest.mark.parametrize("name", [*FORMAT_NAMES, "multi"])
def test_message_cache_changes_nothing_but_speed(name: str) -> None:
    lines = list(multi_service_stream(30_000)) if name == "multi" else generate(name, 6000, seed=3).lines
    off_blocks, off = _mine(lines, cache=False)
    on_blocks, on = _mine(lines, cache=True)
    assert per_line(on_blocks, on) == per_line(off_blocks, off)
    assert _summary(on) == _summary(off)
    assert (on.lines, on.events, on.levels, on.first_ts, on.last_ts) == (
        off.lines,
        off.events,
        off.levels,
        off.first_ts,
        off.last_ts,
    )
    for t in on.templates:  # examples are still collected while the cache answers
        assert all(values for values in t.examples) or not t.examples


def test_shape_keys_keep_positions_and_fold_ids() -> None:
    from service._native import shape_keys

    a = "2026-03-04 10:00:00,012 INFO job 33f786e1-64e2-a416-4657-d112e0dbfdb0 at 0x7fa3c2b1\n04-Dec-2026 x"
    b = "2026-11-30 23:59:59,999 INFO job 0b9c04aa-1111-4e2f-9a7d-00aa00bb00cc at 0x00e1ffd0\n04-Dec-2026 x"
    assert len(shape_keys(a)) == len(a)
    assert shape_keys(a) == shape_keys(b)
    assert shape_keys("level bad 12") == "level bad 00"  # words stay, digits zeroed
    assert shape_keys("é 12 ü") == "é 00 ü"


@pytest.mark.parametrize("name", [*FORMAT_NAMES, "multi"])
def test_compiled_loop_mines_like_python(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.logs import member

    lines = list(multi_service_stream(30_000)) if name == "multi" else generate(name, 6000, seed=5).lines
    compiled_blocks, compiled = _mine(lines, cache=True)
    monkeypatch.setattr(member, "feed_known", None)
    monkeypatch.setattr(member, "shape_keys", None)
    monkeypatch.setattr(member, "tally", None)
    python_blocks, python = _mine(lines, cache=True)
    assert per_line(compiled_blocks, compiled) == per_line(python_blocks, python)
    assert _summary(compiled) == _summary(python)
    assert {t.pattern: t.examples for t in compiled.templates} == {
        t.pattern: t.examples for t in python.templates
    }
    assert compiled.to_dict() == python.to_dict()


def test_compiled_loop_mines_like_python_on_messy_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Odd lines mixed in: month 13, leap seconds, non-ASCII digits and text, tabs, CR, long hex words."""
    import random

    from service.logs import member

    rng = random.Random(7)
    pieces = [
        "job",
        "0x1f2e3d4c5b",
        "de4db33f-0000-1111-2222-abcdefabcdef",
        "é",
        "٣٤",
        "\t",
        "ERROR",
        "=",
        "ok",
        "(x)",
    ]
    lines = []
    for i in range(4000):
        second = rng.choice(["00", "59", "60", "07"])
        month = rng.choice(["03", "13", "11"])
        body = " ".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        stamp = f"2026-{month}-04 10:{i % 60:02d}:{second},{rng.randint(0, 999):03d}"
        lines.append(rng.choice([f"{stamp} INFO {body}", f"  at {body}", f"{stamp} WARN {body}\r", body]))
    compiled_blocks, compiled = _mine(lines, cache=True)
    for name in ("feed_known", "shape_keys", "tally"):
        monkeypatch.setattr(member, name, None)
    python_blocks, python = _mine(lines, cache=True)
    assert per_line(compiled_blocks, compiled) == per_line(python_blocks, python)
    assert compiled.to_dict() == python.to_dict()
    assert compiled.first_ts is not None and compiled.events < len(lines) and len(compiled.templates) > 5


def test_compiled_functions_refuse_bad_arguments_without_crashing() -> None:
    from array import array

    from service import _native

    with pytest.raises(TypeError):
        _native.message_key(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _native.shape_keys(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        _native.ascii_line_units("é")
    outputs = (array("i", [0]), bytearray(1), array("d", [0.0]), bytearray(1))
    with pytest.raises(TypeError):
        _native.feed_known(["a"], ["a"], 0, {}, {}, -1, 0, 0.0)  # type: ignore[call-arg]
    with pytest.raises(ValueError):  # a start outside the lines
        _native.feed_known(["a"], ["a"], -1, {}, {}, -1, 0, 0.0, *outputs)
    with pytest.raises(ValueError):  # outputs shorter than the lines
        _native.feed_known(["a", "b"], ["a", "b"], 0, {}, {}, -1, 0, 0.0, *outputs)
    with pytest.raises(TypeError):  # an output of the wrong item size
        _native.feed_known(["a"], ["a"], 0, {}, {}, -1, 0, 0.0, array("q", [0]), *outputs[1:])
    # A shape tuple of the wrong form is not trusted: the loop stops there and leaves the line to Python.
    assert _native.feed_known(["a"], ["a"], 0, {"a": (1, "x")}, {}, 5, 0, 0.0, *outputs)[0] == 0
    counts = [array("q", [0]) for _ in range(5)]
    times = [array("d", [0.0]), array("d", [0.0])]
    with pytest.raises(IndexError):  # a template id beyond the arrays
        _native.tally(
            array("i", [3]), b"\x00", array("d", [0.0]), b"\x01", 1, *counts, *times, array("q", [0] * 8)
        )
