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
