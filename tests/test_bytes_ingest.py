"""The byte-level ingest paths against the str paths they replace: `MemberMiner.feed_bytes` (compiled
C tables, no str per line) against `feed`, and the compiled index pass (`line_table`) against
`_index_lines`. Same columns, templates, summaries, line starts and unit prices, on every format and on
odd lines."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench.logdata import FORMAT_NAMES, generate, multi_service_stream
from service.extract import logstore
from service.logs import member, shapekey
from service.logs.member import Block, MemberMiner, mine_chunks, mine_lines
from tests.minedcols import per_line


def _messy_lines(n: int, seed: int = 3) -> list[str]:
    """Stamped and unstamped lines with ids, non-ASCII text and digits, CR, '<', long and empty lines."""
    rng = random.Random(seed)
    pieces = ["job", "0x1f2e3d4c5b", "de4db33f-0000-1111-2222-abcdefabcdef", "é", "٣٤", "\t", "<b>", "ERROR"]
    pieces += ["=", "ok", "(x)", "user=alice", "12", "a1b2c3d4e5f6", "€", "😀"]
    lines = []
    for i in range(n):
        second = rng.choice(["00", "59", "60", "07"])
        month = rng.choice(["03", "13", "11"])
        body = " ".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        stamp = f"2026-{month}-04 10:{i % 60:02d}:{second},{rng.randint(0, 999):03d}"
        lines.append(
            rng.choice(
                [
                    f"{stamp} INFO {body}",
                    f"  at {body}",
                    f"{stamp} WARN {body}\r",
                    body,
                    "",
                    f"{stamp} DEBUG {'x' * rng.randint(1000, 1100)} {body}",  # around the 1,024 cache bound
                ]
            )
        )
    return lines


CASES: dict[str, list[str]] = {name: generate(name, 3000, seed=11).lines for name in FORMAT_NAMES}
CASES["multi"] = list(multi_service_stream(20_000, seed=4))
CASES["messy"] = _messy_lines(4000)
CASES["no timestamps"] = [f"worker {i % 7} handled request {i} é" for i in range(1500)]


def _chunks(lines: list[str], rng: random.Random, newline_at_end: bool) -> list[bytes]:
    """The file's bytes cut after random newlines, as `read_chunks` cuts them."""
    data = ("\n".join(lines) + ("\n" if newline_at_end else "")).encode()
    out, start = [], 0
    while start < len(data):
        cut = data.find(b"\n", min(len(data), start + rng.randint(1, 40_000)))
        cut = len(data) if cut < 0 else cut + 1
        out.append(data[start:cut])
        start = cut
    return out


def _compare(lines: list[str], chunks: list[bytes]) -> None:
    str_blocks: list[Block] = []
    by_str = mine_lines(lines, 2026, on_block=str_blocks.append)
    byte_blocks: list[Block] = []
    by_bytes = mine_chunks(chunks, 2026, on_block=byte_blocks.append)
    assert sum(len(b.template) for b in byte_blocks) == len(lines)
    assert per_line(byte_blocks, by_bytes) == per_line(str_blocks, by_str)
    assert by_bytes.to_dict() == by_str.to_dict()
    assert {t.pattern: t.examples for t in by_bytes.templates} == {
        t.pattern: t.examples for t in by_str.templates
    }


def test_the_compiled_byte_path_is_built() -> None:
    assert shapekey.feed_bytes is not None and shapekey.line_table is not None


@pytest.mark.parametrize("name", list(CASES))
def test_feeding_bytes_mines_like_feeding_lines(name: str) -> None:
    lines = CASES[name]
    rng = random.Random(name)
    _compare(lines, _chunks(lines, rng, newline_at_end=True))
    unended = lines if lines[-1] else [*lines[:-1], "last"]  # an empty last line would be no line
    _compare(unended, _chunks(unended, rng, newline_at_end=False))  # a last line without a newline


def test_feeding_bytes_without_the_extension_mines_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = CASES["messy"]
    chunks = _chunks(lines, random.Random(1), newline_at_end=True)
    compiled = mine_chunks(chunks, 2026)
    monkeypatch.setattr(member, "feed_known_bytes", None)
    assert mine_chunks(chunks, 2026).to_dict() == compiled.to_dict()


def test_byte_tables_follow_a_cleared_shape_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the shape dict cleared every few shapes, the C tables are cleared with it: same results."""
    monkeypatch.setattr(member, "_SHAPE_LIMIT", 7)
    lines = CASES["multi"][:6000]
    _compare(lines, _chunks(lines, random.Random(2), newline_at_end=True))


def test_empty_and_newline_only_files() -> None:
    for lines in ([], [""], ["", "", ""]):
        data = "\n".join(lines).encode() + (b"\n" if lines else b"")
        assert mine_chunks([data] if data else []).to_dict() == mine_lines(lines).to_dict()
    miner = MemberMiner([])
    assert len(miner.feed_bytes(b"").template) == 0


def test_bad_utf8_is_an_error_not_a_guess() -> None:
    miner = MemberMiner(["2026-03-04 10:00:00 INFO start"])
    with pytest.raises(UnicodeDecodeError):
        miner.feed_bytes(b"2026-03-04 10:00:00 INFO start\n2026-03-04 10:00:01 INFO \xff\xfe\n")


def test_compiled_byte_functions_refuse_bad_arguments() -> None:
    from array import array

    from service import _native

    cache = _native.mine_cache(1)
    outputs = (array("i", [0]), bytearray(1), array("d", [0.0]), bytearray(1))
    with pytest.raises(TypeError):
        _native.feed_bytes("text", 0, 0, {}, {}, cache, -1, 0, 0.0, *outputs)  # type: ignore[arg-type]
    with pytest.raises(ValueError):  # not a mine_cache
        _native.feed_bytes(b"a\n", 0, 0, {}, {}, object(), -1, 0, 0.0, *outputs)
    with pytest.raises(ValueError):  # a start beyond the data
        _native.feed_bytes(b"a\n", 5, 0, {}, {}, cache, -1, 0, 0.0, *outputs)
    with pytest.raises(ValueError):  # template ids shorter than the other outputs
        _native.feed_bytes(b"a\n", 0, 0, {}, {}, cache, -1, 0, 0.0, array("i"), *outputs[1:])
    # An unknown shape is left to Python at once: nothing done.
    assert _native.feed_bytes(b"a\n", 0, 0, {}, {}, cache, -1, 0, 0.0, *outputs)[:2] == (0, 0)
    with pytest.raises(TypeError):
        _native.line_count("a")  # type: ignore[arg-type]
    assert [_native.line_count(d) for d in (b"", b"a", b"a\n", b"\n\n", b"a\nb")] == [0, 1, 1, 2, 2]
    with pytest.raises(ValueError):  # more lines than the arrays hold
        _native.line_table(b"a\nb\n", 0, *(array("q", [0]) for _ in range(3)))


@pytest.mark.parametrize(
    "text", ["0x" + "ab12" * 3, "x-" + "0123456789abcdef-" * 3, "0X1234abcd=1 (deadbeef12)"]
)
def test_one_byte_shape_keys_equal_the_general_ones(text: str) -> None:
    from service._native import shape_keys

    rng = random.Random(text)
    alphabet = [*"0123456789abcdefABCDEFxX-_=(:. \t\r/gz", "...", text, "é"]
    for _ in range(3000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        wide = shape_keys(s + "\u0100")  # a 2-byte str: the general loop, not the byte tables
        assert shape_keys(s) == wide[:-1], repr(s)


def _store(tmp_path: Path, name: str, text: bytes, wrap: str | None) -> tuple[bytes, list[int], int, int]:
    work = tmp_path / name
    work.mkdir()
    member_file = work / "member.txt"
    member_file.write_bytes(text)
    store = logstore._open_store(work)
    logstore._index(store, member_file, wrap)
    store.text.close()
    store.lines.close()
    store.table.close()
    return (work / logstore.LINES).read_bytes(), store.units, store.chars, store.line_count


@pytest.mark.parametrize("wrap", [None, "svc/app.log", "sërvice/app.log"])
@pytest.mark.parametrize("name", ["multi", "messy", "no timestamps"])
def test_compiled_index_pass_writes_the_same_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, wrap: str | None
) -> None:
    lines = CASES[name] if CASES[name][-1] else [*CASES[name][:-1], "last"]
    for end in ("\n", ""):
        text = ("\n".join(lines) + end).encode()
        compiled = _store(tmp_path, f"c{len(end)}", text, wrap)
        with monkeypatch.context() as m:
            m.setattr(logstore, "line_table", None)
            python = _store(tmp_path, f"p{len(end)}", text, wrap)
        assert compiled == python
        assert compiled[3] == len(lines)
