"""One file inside an archive -> text, in a single streaming pass.

Archive members cannot always be read twice (a .tar.gz is read in stream mode), so the encoding is
chosen from the member's first 256 KB (byte-order mark, else strict UTF-8, else charset-normalizer's
guess, else cp1252) and the rest is decoded with that codec, replacing undecodable bytes with U+FFFD
(counted in `replaced`). Line endings become LF and NULs are dropped, as for single files. A member that
is itself gzip/bzip2/zstd-compressed is inflated (depth 1, metered like the archive); a member that is
an archive, or binary, is skipped with a reason.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain

from service.config import LimitSettings
from service.errors import ExtractionFailed

from ._common import check_chars
from .inflate import Meter, compression_of, inflate
from .sniff import decode_head
from .text import _BOMS, PieceSink, _guess, _normalise

SAMPLE_BYTES = 256 * 1024
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass
class MemberText:
    path: str
    text: str
    bytes: int
    encoding: str
    replaced: int = 0
    chars: int = 0


def is_tar(head: bytes) -> bool:
    """POSIX/GNU tar: 'ustar' at offset 257 of the first header block."""
    return len(head) >= 262 and head[257:262] == b"ustar"


def _head(chunks: Iterator[bytes], size: int) -> bytes:
    buf = bytearray()
    for chunk in chunks:
        buf += chunk
        if len(buf) >= size:
            break
    return bytes(buf)


def decode_member(
    path: str,
    chunks: Iterator[bytes],
    limits: LimitSettings,
    meter: Meter,
    chars_before: int,
    *,
    metered: bool,
    sink: PieceSink | None = None,
) -> MemberText | str:
    """The member's text, or the reason it is skipped ('binary', 'nested_archive', 'too_deep').

    `metered` says the member's bytes were already counted (they come out of an inflated tar stream);
    bytes inflated from a compressed member are always counted. With a `sink` the text is written
    there (the returned MemberText then has empty `text` and its `chars`).
    """
    head = _head(chunks, SAMPLE_BYTES)
    fmt = compression_of(head)
    if fmt is not None:
        if limits.max_archive_depth < 1:
            return "too_deep"
        chunks = inflate(fmt, chain([head], chunks), meter)
        head = _head(chunks, SAMPLE_BYTES)
        if compression_of(head) is not None:
            return "too_deep"
    if head.startswith(_ZIP_MAGICS) or is_tar(head):
        return "nested_archive"
    if head and decode_head(head[:8192]) is None:
        return "binary"
    codec, label = _codec(head)
    counted = fmt is None and not metered
    return _decode(
        path,
        chain([head], chunks),
        codec,
        label,
        limits,
        chars_before,
        counted=counted,
        meter=meter,
        sink=sink,
    )


def _codec(head: bytes) -> tuple[str, str]:
    for bom, codec, label in _BOMS:
        if head.startswith(bom):
            return codec, label
    for cut in range(4):
        try:
            head[: len(head) - cut].decode("utf-8")
            return "utf-8", "utf-8"
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:
                break
    guess = _guess(head) or ["cp1252"]
    return guess[0], guess[0]


def _decode(
    path: str,
    chunks: Iterator[bytes],
    codec: str,
    label: str,
    limits: LimitSettings,
    chars_before: int,
    *,
    counted: bool,
    meter: Meter,
    sink: PieceSink | None = None,
) -> MemberText:
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    parts: list[str] = []
    if sink is not None:
        sink.reset()
    emit = parts.append if sink is None else sink.write
    carry = last = ""
    size = total = replaced = 0
    for chunk in chunks:
        size += len(chunk)
        if counted:  # bytes nobody metered yet (zip members, plain tar)
            meter.add(len(chunk))
        if size > limits.max_archive_member_bytes:
            raise ExtractionFailed(
                f"The archive entry {path[:200]!r} is larger than allowed.",
                code="archive_bomb",
                details={"member": path[:500], "max_archive_member_bytes": limits.max_archive_member_bytes},
            )
        piece = carry + decoder.decode(chunk, False)
        piece, carry = (piece[:-1], "\r") if piece.endswith("\r") else (piece, "")
        piece, _ = _normalise(piece)
        total = check_chars(chars_before + total + len(piece), limits) - chars_before
        replaced += piece.count("\ufffd")
        last = piece[-1:] or last
        emit(piece)
    piece, _ = _normalise(carry + decoder.decode(b"", True))
    replaced += piece.count("\ufffd")
    last = piece[-1:] or last
    total += len(piece)
    if total and last != "\n":
        piece += "\n"  # every member ends with a newline, so members concatenate line-exactly
        total += 1
    emit(piece)
    check_chars(chars_before + total, limits)
    return MemberText(path, "".join(parts), size, label, replaced, total)
