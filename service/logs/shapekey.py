"""Cache keys under which log lines mine alike, so that most lines skip the template search.

`MemberMiner` looks each line up by its shape: the line with every digit as '0'. Lines that differ
only in ids still miss that cache (a UUID, a hex address or a longer number makes a new shape), so a
miss looks the message up once more, by `message_key`: the shape with every run of two or more digits
as "00" and every hex word (UUIDs, hashes, 0x addresses: 8+ hex characters holding digits and letters)
as its first character. Masking treats all of these only as "a token with digits", so messages with
one key get one template and one level (tests/test_shapekey.py checks this on every format).

`message_key` is compiled (`service/_native.c`, ~0.2 µs a message); a pure-Python one would cost more than
the search it saves, so without the extension (no C compiler at install) the message cache is off and
mining is only slower, never different.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = [
    "ZERO_DIGITS",
    "feed_bytes",
    "feed_known",
    "line_count",
    "line_table",
    "message_key",
    "mine_cache",
    "shape_keys",
    "tally",
]

ZERO_DIGITS = str.maketrans("123456789", "000000000")

message_key: Callable[[str], str] | None
feed_known: Callable[..., tuple[int, int, int, float]] | None
feed_bytes: Callable[..., tuple[int, int, int, int, float]] | None
line_table: Callable[..., tuple[int, int]] | None
line_count: Callable[[bytes], int] | None
mine_cache: Callable[[int], object] | None
shape_keys: Callable[[str], str] | None
tally: Callable[..., tuple[float, float]] | None
try:
    from service._native import (
        feed_bytes,
        feed_known,
        line_count,
        line_table,
        message_key,
        mine_cache,
        shape_keys,
        tally,
    )
except ImportError:  # pragma: no cover - built by every install that has a C compiler
    message_key = feed_known = feed_bytes = line_count = line_table = mine_cache = shape_keys = tally = None
