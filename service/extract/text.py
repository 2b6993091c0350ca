"""Plain text, Markdown, CSV, JSON and logs, optionally compressed (.gz, .bz2, .zst single streams).

Bytes are streamed in chunks through an incremental decoder, so memory stays near the size of the text
and decompression never inflates past the running caps (see `inflate`). Encoding policy: byte-order mark, then strict UTF-8, then
charset-normalizer's guess, then cp1252, then latin-1 (which decodes anything). Line endings (CRLF, lone
CR) become LF so that line N of the text is line N of the file; NUL bytes are dropped.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Protocol

from charset_normalizer import from_bytes

from service.config import LimitSettings
from service.models import DocumentKind, ExtractedText

from ._common import check_chars
from .inflate import Compression, Meter, compression_of, file_chunks, inflate

CHUNK_BYTES = 1 << 20
SAMPLE_BYTES = 256 * 1024
# (BOM, codec that consumes the BOM, name recorded in meta)
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (b"\x00\x00\xfe\xff", "utf-32", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8-sig", "utf-8-sig"),
    (b"\xfe\xff", "utf-16", "utf-16-be"),
    (b"\xff\xfe", "utf-16", "utf-16-le"),
)

Chunks = Callable[[], Generator[bytes, None, None]]


class PieceSink(Protocol):
    """Where streamed text goes instead of into one string (the isolated child's log store)."""

    def reset(self) -> None:
        """Forget everything written: the decoder starts again with another codec."""

    def write(self, piece: str) -> None:
        """Append decoded, LF-normalised text."""


class _Undecodable(Exception):
    def __init__(self, offset: int):
        super().__init__(offset)
        self.offset = offset


def extract_plain(path: Path, limits: LimitSettings) -> ExtractedText:
    """Extract a text, Markdown, CSV or JSON file."""
    return _extract(path, "text", limits)


def extract_log(path: Path, limits: LimitSettings) -> ExtractedText:
    """Extract a log file, plain or compressed (archives of several files: see `archive`)."""
    return _extract(path, "log", limits)


def _extract(path: Path, kind: DocumentKind, limits: LimitSettings) -> ExtractedText:
    text, meta = decode_file(path, limits)
    return ExtractedText(text=text, kind=kind, meta=meta)


def decode_file(
    path: Path, limits: LimitSettings, sink: PieceSink | None = None
) -> tuple[str, dict[str, object]]:
    """(text, meta) of a plain or compressed single file; with a `sink` the text goes there ("" returned)."""
    fmt = _compression(path)
    chunks: Chunks = (lambda: _inflated_chunks(path, fmt, limits)) if fmt else (lambda: _file_chunks(path))
    text, label, nuls = _decode(chunks, limits, sink)
    meta: dict[str, object] = {"encoding": label, "compressed": fmt is not None}
    if fmt:
        meta["compression"] = fmt
    if nuls:
        meta["nul_bytes_removed"] = nuls
    return text, meta


def _compression(path: Path) -> Compression | None:
    with path.open("rb") as fh:
        return compression_of(fh.read(4))


def _file_chunks(path: Path) -> Generator[bytes, None, None]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            yield chunk


def _inflated_chunks(path: Path, fmt: Compression, limits: LimitSettings) -> Generator[bytes, None, None]:
    """Inflate in bounded chunks, stopping at the size and ratio caps (never one-shot decompress)."""
    meter = Meter(path.stat().st_size, limits)
    with path.open("rb") as fh:
        yield from inflate(fmt, file_chunks(fh, CHUNK_BYTES), meter)


def _decode(chunks: Chunks, limits: LimitSettings, sink: PieceSink | None = None) -> tuple[str, str, int]:
    """Try the encodings in policy order; return (text, encoding label, NULs removed)."""
    head = _head(chunks)
    for bom, codec, label in _BOMS:
        if head.startswith(bom):
            return _decode_with(chunks, codec, label, limits, sink)
    try:
        return _decode_with(chunks, "utf-8", "utf-8", limits, sink)
    except _Undecodable as exc:
        sample = head[:SAMPLE_BYTES] + _window(chunks, exc.offset)
    for codec in dict.fromkeys([*_guess(sample), "cp1252"]):
        try:
            return _decode_with(chunks, codec, codec, limits, sink)
        except (_Undecodable, LookupError):
            continue
    return _decode_with(chunks, "latin-1", "latin-1", limits, sink)


def _guess(sample: bytes) -> list[str]:
    """charset-normalizer's pick, except that cp1252 wins any tie on chaos.

    On short Western samples cp1250, cp1252 and cp1257 often score identically and the first listed is
    not the likeliest; cp1252 is by far the commonest legacy encoding of Western text.
    """
    matches = list(from_bytes(sample))
    if not matches:
        return []
    best = min(match.percent_chaos for match in matches)
    if any(match.encoding == "cp1252" and match.percent_chaos <= best for match in matches):
        return ["cp1252"]
    return [codecs.lookup(matches[0].encoding).name]


def _decode_with(
    chunks: Chunks, codec: str, label: str, limits: LimitSettings, sink: PieceSink | None = None
) -> tuple[str, str, int]:
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    parts: list[str] = []
    if sink is not None:
        sink.reset()
    emit = parts.append if sink is None else sink.write
    carry = ""
    consumed = total = nuls = 0
    stream = chunks()
    try:
        for chunk in stream:
            piece = carry + _decode_chunk(decoder, chunk, consumed, final=False)
            consumed += len(chunk)
            # A CR at the end of a chunk may be the first half of CRLF: decide with the next chunk.
            piece, carry = (piece[:-1], "\r") if piece.endswith("\r") else (piece, "")
            piece, removed = _normalise(piece)
            nuls += removed
            total = check_chars(total + len(piece), limits)
            emit(piece)
        piece, removed = _normalise(carry + _decode_chunk(decoder, b"", consumed, final=True))
    finally:
        stream.close()
    total = check_chars(total + len(piece), limits)
    emit(piece)
    return "".join(parts), label, nuls + removed


def _decode_chunk(decoder: codecs.IncrementalDecoder, chunk: bytes, consumed: int, *, final: bool) -> str:
    try:
        return decoder.decode(chunk, final)
    except UnicodeDecodeError as exc:
        raise _Undecodable(consumed + max(exc.start, 0)) from exc


def _normalise(piece: str) -> tuple[str, int]:
    nuls = piece.count("\x00") if "\x00" in piece else 0  # `in` is a fast scan; count is not
    if nuls:
        piece = piece.replace("\x00", "")
    if "\r" in piece:
        piece = piece.replace("\r\n", "\n").replace("\r", "\n")
    return piece, nuls


def _head(chunks: Chunks) -> bytes:
    stream = chunks()
    try:
        return next(stream, b"")[:SAMPLE_BYTES]
    finally:
        stream.close()


def _window(chunks: Chunks, offset: int) -> bytes:
    """About 64 KB of bytes around `offset`: the region that broke UTF-8 is what the guesser must see."""
    start = max(offset - 32 * 1024, SAMPLE_BYTES)
    end = offset + 32 * 1024
    buf = bytearray()
    pos = 0
    stream = chunks()
    try:
        for chunk in stream:
            lo, hi = max(start - pos, 0), min(end - pos, len(chunk))
            if lo < hi:
                buf += chunk[lo:hi]
            pos += len(chunk)
            if pos >= end:
                break
    finally:
        stream.close()
    return bytes(buf)
