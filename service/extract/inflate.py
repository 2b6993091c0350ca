"""Bounded decompression of gzip, bzip2 and zstd streams, chunk by chunk, with size and ratio caps.

Never one-shot: every decompressor call is bounded (zlib/bz2 by `max_length`; zstd, whose streaming
object has no output bound, by feeding it small input slices), and a `Meter` stops the stream as soon as
the running total passes `max_decompressed_bytes` or `max_archive_ratio` x the compressed size.
Concatenated members/frames (as `cat a.gz b.gz` makes) are followed; a stream that ends before its
end-of-stream marker is `truncated_archive`.
"""

from __future__ import annotations

import bz2
import io
import zlib
from collections.abc import Iterable, Iterator
from typing import IO, Literal, Protocol

import zstandard

from service.config import LimitSettings
from service.errors import ExtractionFailed

Compression = Literal["gzip", "bzip2", "zstd"]

OUT_BYTES = 1 << 20
# zstd RLE blocks reach ~32,000:1, so 2 KB of input can yield at most ~64 MB before the meter looks.
ZSTD_FEED = 2048
# Below this much output a "bomb" is harmless, while tiny files can legitimately exceed the ratio.
RATIO_FLOOR_BYTES = 1 << 20
_MAGIC: tuple[tuple[bytes, Compression], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


def compression_of(head: bytes) -> Compression | None:
    """The compression format announced by the first bytes, or None."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


class Meter:
    """Running decompressed total with the size and ratio caps of one upload."""

    def __init__(self, compressed_bytes: int, limits: LimitSettings):
        self.compressed = max(compressed_bytes, 1)
        self.cap = min(
            limits.max_decompressed_bytes, max(limits.max_archive_ratio * self.compressed, RATIO_FLOOR_BYTES)
        )
        self.total = 0

    def add(self, n: int) -> None:
        self.total += n
        if self.total > self.cap:
            raise ExtractionFailed(
                "The archive inflates beyond the allowed size or ratio.",
                code="archive_bomb",
                details={"compressed_bytes": self.compressed, "inflated_bytes_at_stop": self.total},
            )


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...


def inflate(fmt: Compression, chunks: Iterable[bytes], meter: Meter | None = None) -> Iterator[bytes]:
    """Decompress `chunks` (compressed bytes) into chunks of at most ~1 MiB, metering the output."""
    step = {"gzip": _gzip_pieces, "bzip2": _bz2_pieces, "zstd": _zstd_pieces}[fmt]
    try:
        for piece in step(iter(chunks)):
            if piece:
                if meter is not None:
                    meter.add(len(piece))
                yield piece
    except (zlib.error, OSError, ValueError, zstandard.ZstdError) as exc:
        raise ExtractionFailed(f"The {fmt} data is damaged: {exc}", code="malformed") from exc


def _truncated(fmt: str) -> ExtractionFailed:
    return ExtractionFailed(f"The {fmt} stream is truncated.", code="truncated_archive")


def _gzip_pieces(chunks: Iterator[bytes]) -> Iterator[bytes]:
    d = zlib.decompressobj(wbits=31)
    started = False
    for data in chunks:
        while data:
            started = True
            yield d.decompress(data, OUT_BYTES)
            data = d.unconsumed_tail
            if d.eof:
                rest = _next_member(d, b"\x1f\x8b")
                if rest is None:
                    return
                d, data = zlib.decompressobj(wbits=31), rest
    if started and not d.eof:
        raise _truncated("gzip")


def _next_member(d: _Decompressor, magic: bytes) -> bytes | None:
    """Leftover input after a finished member: the next member, or None (trailing padding ends it)."""
    rest = d.unused_data
    return rest if rest.startswith(magic) else None


def _bz2_pieces(chunks: Iterator[bytes]) -> Iterator[bytes]:
    d = bz2.BZ2Decompressor()
    started = False
    for data in chunks:
        while data or not (d.needs_input or d.eof):
            started = True
            yield d.decompress(data, OUT_BYTES)
            data = b""
            if d.eof:
                rest = _next_member(d, b"BZh")
                if rest is None:
                    return
                d, data = bz2.BZ2Decompressor(), rest
    if started and not d.eof:
        raise _truncated("bzip2")


def _zstd_pieces(chunks: Iterator[bytes]) -> Iterator[bytes]:
    dctx = zstandard.ZstdDecompressor()
    d = dctx.decompressobj()
    started = False
    for data in chunks:
        view = memoryview(data)
        while view:
            started = True
            piece, view = view[:ZSTD_FEED], view[ZSTD_FEED:]
            yield d.decompress(bytes(piece))
            if d.eof:
                rest = d.unused_data + bytes(view)
                if not rest.startswith(b"\x28\xb5\x2f\xfd"):
                    return
                d, view = dctx.decompressobj(), memoryview(rest)
    if started and not d.eof:
        raise _truncated("zstd")


def file_chunks(fh: IO[bytes] | io.RawIOBase, size: int = OUT_BYTES) -> Iterator[bytes]:
    """Read an open binary file in chunks of `size` bytes."""
    while chunk := fh.read(size):
        yield bytes(chunk)


class ChunkReader(io.RawIOBase):
    """A read-only file object over an iterator of byte chunks (for tarfile over a decompressed stream)."""

    def __init__(self, chunks: Iterable[bytes]):
        self._it = iter(chunks)
        self._buf = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        # A moving memoryview, not slicing bytes: small reads of a large chunk must not copy it each time.
        while not self._buf:
            nxt = next(self._it, None)
            if nxt is None:
                return 0
            self._buf = memoryview(nxt)
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n
