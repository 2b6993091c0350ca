def message_key(message: str, /) -> str: ...
def ascii_line_units(text: str, /) -> int: ...
def feed_known(
    lines: list[str],
    keys: list[str],
    start: int,
    shapes: dict[str, tuple[object, ...]],
    stamps: dict[str, float],
    tid: int,
    level: int,
    ts: float,
    templates: object,
    levels: bytearray,
    times: object,
    starts: bytearray,
    /,
) -> tuple[int, int, int, float]: ...
def shape_keys(joined: str, /) -> str: ...
def tally(
    templates: object,
    levels: bytes,
    times: object,
    starts: bytes,
    first_line: int,
    events: object,
    lines: object,
    first_lines: object,
    last_starts: object,
    last_lines: object,
    first_times: object,
    last_times: object,
    level_counts: object,
    /,
) -> tuple[float, float]: ...
def mine_cache(seed: int, /) -> object: ...
def line_count(data: bytes, /) -> int: ...
def line_table(
    data: bytes, char_base: int, starts: object, ends: object, prices: object, /
) -> tuple[int, int]: ...
def feed_bytes(
    data: bytes,
    pos: int,
    line: int,
    shapes: dict[str, tuple[object, ...]],
    stamps: dict[str, float],
    cache: object,
    tid: int,
    level: int,
    ts: float,
    templates: object,
    levels: bytearray,
    times: object,
    starts: bytearray,
    /,
) -> tuple[int, int, int, int, float]: ...
