"""Log archives (.zip, .tar, .tar.gz/.tgz, .tar.bz2, .tar.zst) as ONE document.

The text is the concatenation of the text members in path order; `meta["files"]` anchors each member:
`{"path", "char_start", "line_start", "lines", "bytes", "encoding"}` (line_start is the 1-based line of
the whole text where the member begins; every member ends with a newline). Nothing is written to disk:
members are streamed from the archive in chunks (tar in stream mode, so a .tar.gz is read once).

Safety (see docs/reliability notes, section 3): caps on member count, per-member and total decompressed
bytes and the ratio to the upload's size (`archive_bomb`, `too_many_members`); names that are absolute or
climb out with `..`, and links and devices, fail the whole archive (`unsafe_archive`): they have no
business in a log archive and usually mean an attack. Members that are not text (`binary`) or are
archives themselves (`nested_archive`), or are compressed deeper than `max_archive_depth`, are skipped
and listed in `meta["skipped"]`. An archive without any text member fails with `no_text`.
"""

from __future__ import annotations

import re
import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.config import LimitSettings
from service.errors import ExtractionFailed
from service.models import ExtractedText

from .inflate import ChunkReader, Compression, Meter, compression_of, file_chunks, inflate
from .members import MemberText, decode_member, is_tar
from .text import PieceSink

__all__ = ["assemble", "container_of", "extract_archive", "safe_name", "walk_archive"]

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SUFFIX: dict[Compression | None, str] = {"gzip": ".gz", "bzip2": ".bz2", "zstd": ".zst"}


@dataclass
class _Walk:
    """State of one archive walk: caps, collected members, skipped entries."""

    limits: LimitSettings
    meter: Meter
    members: list[MemberText] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    metered: bool = False  # members come out of an already metered (inflated) stream
    sinks: Callable[[str], PieceSink] | None = None  # store mode: each member's text goes to its own sink
    seen: int = 0
    chars: int = 0

    def count(self) -> None:
        self.seen += 1
        if self.seen > self.limits.max_archive_members:
            raise ExtractionFailed(
                f"The archive holds more than {self.limits.max_archive_members:,} files.",
                code="too_many_members",
                details={"max_archive_members": self.limits.max_archive_members},
            )

    def take(self, path: str, chunks: Iterator[bytes]) -> None:
        sink = self.sinks(path) if self.sinks else None
        got = decode_member(
            path, chunks, self.limits, self.meter, self.chars, metered=self.metered, sink=sink
        )
        if isinstance(got, str):
            self.skipped.append({"path": path, "reason": got})
        else:
            self.chars += got.chars
            self.members.append(got)


def container_of(path: Path, head: bytes) -> tuple[str, Compression | None] | None:
    """("zip"|"tar", compression) when the file is an archive of several files, else None."""
    if head.startswith(ZIP_MAGICS):
        return "zip", None
    if is_tar(head):
        return "tar", None
    fmt = compression_of(head)
    if fmt is None:
        return None
    with path.open("rb") as fh:
        inner = b""
        try:
            for piece in inflate(fmt, file_chunks(fh, 64 * 1024)):
                inner += piece
                if len(inner) >= 512:
                    break
        except ExtractionFailed:
            return None  # damaged: the single-stream path reports it with the right code
    return ("tar", fmt) if is_tar(inner) else None


def extract_archive(
    path: Path, container: tuple[str, Compression | None], limits: LimitSettings
) -> ExtractedText:
    """Extract every text member of the archive at `path` into one document with per-file anchors."""
    members, skipped, label = walk_archive(path, container, limits)
    return assemble(members, skipped, label)


def walk_archive(
    path: Path,
    container: tuple[str, Compression | None],
    limits: LimitSettings,
    sinks: Callable[[str], PieceSink] | None = None,
) -> tuple[list[MemberText], list[dict[str, str]], str]:
    """(text members in archive order, skipped entries, label). With `sinks`, each member's text is
    written to `sinks(member path)` instead of being kept (members then carry only their sizes)."""
    kind, fmt = container
    walk = _Walk(limits, Meter(path.stat().st_size, limits), metered=fmt is not None, sinks=sinks)
    if kind == "zip":
        _walk_zip(path, walk)
    else:
        _walk_tar(path, fmt, walk)
    if not walk.members:
        raise ExtractionFailed(
            "The archive contains no text files.", code="no_text", details={"skipped": walk.skipped[:50]}
        )
    label = "zip" if kind == "zip" else "tar" + _SUFFIX.get(fmt, "")
    return walk.members, walk.skipped, label


def assemble(members: list[MemberText], skipped: list[dict[str, str]], label: str) -> ExtractedText:
    """Concatenate members in path order and record their anchors."""
    members.sort(key=lambda m: m.path)
    files: list[dict[str, Any]] = []
    char_start, line_start = 0, 1
    for m in members:
        lines = m.text.count("\n")
        files.append(
            {
                "path": m.path,
                "char_start": char_start,
                "line_start": line_start,
                "lines": lines,
                "bytes": m.bytes,
                "encoding": m.encoding,
            }
        )
        char_start += len(m.text)
        line_start += lines
    text = "".join(m.text for m in members)
    members.clear()  # the parts go as soon as the whole exists
    encodings = {f["encoding"] for f in files}
    meta: dict[str, Any] = {
        "archive": label,
        "encoding": encodings.pop() if len(encodings) == 1 else "mixed",
        "files": files,
        "skipped": skipped,
    }
    return ExtractedText(text=text, kind="log", meta=meta)


def safe_name(name: str) -> str:
    """The member path normalised ('./a//b' -> 'a/b'); refuses absolute and climbing names."""
    norm = name.replace("\\", "/")
    parts = norm.split("/")
    if norm.startswith("/") or _DRIVE.match(norm) or ".." in parts or _CONTROL.search(norm):
        raise _unsafe(name, "its path is absolute or leaves the archive")
    return "/".join(p for p in parts if p not in ("", "."))


def _unsafe(name: str, why: str) -> ExtractionFailed:
    return ExtractionFailed(
        f"The archive entry {name[:200]!r} is refused: {why}.",
        code="unsafe_archive",
        details={"member": name[:500], "reason": why},
    )


def _walk_zip(path: Path, walk: _Walk) -> None:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ExtractionFailed(f"The zip archive is damaged: {exc}", code="malformed") from exc
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        for info in infos:
            walk.count()
            _check_zip_entry(info, walk)
        for info in sorted(infos, key=lambda i: safe_name(i.filename)):
            walk.take(safe_name(info.filename), _zip_chunks(zf, info))


def _check_zip_entry(info: zipfile.ZipInfo, walk: _Walk) -> None:
    safe_name(info.filename)
    mode = info.external_attr >> 16
    # 3 = Unix: the high bits are st_mode; tools that write no file type (0) mean a plain file.
    if info.create_system == 3 and stat.S_IFMT(mode) and not stat.S_ISREG(mode):
        raise _unsafe(info.filename, "it is a link or a device, not a file")
    limits = walk.limits
    declared_ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.max_archive_member_bytes or (
        declared_ratio > limits.max_archive_ratio and info.file_size > (1 << 20)
    ):
        raise ExtractionFailed(
            f"The archive entry {info.filename[:200]!r} inflates beyond the allowed size or ratio.",
            code="archive_bomb",
            details={"member": info.filename[:500], "declared_bytes": info.file_size},
        )


def _zip_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    try:
        with zf.open(info) as fh:
            yield from file_chunks(fh)
    except RuntimeError as exc:  # zipfile's "File is encrypted, password required"
        raise ExtractionFailed(f"{info.filename[:200]!r} is encrypted.", code="encrypted") from exc
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ExtractionFailed(
            f"The zip entry {info.filename[:200]!r} is damaged: {exc}", code="malformed"
        ) from exc


def _walk_tar(path: Path, fmt: Compression | None, walk: _Walk) -> None:
    with path.open("rb") as fh:
        raw = file_chunks(fh)
        stream = inflate(fmt, raw, walk.meter) if fmt else raw
        try:
            # Stream mode ("r|"): one forward pass, no seeking, so a .tar.gz is inflated exactly once.
            with tarfile.open(fileobj=ChunkReader(stream), mode="r|") as tf:
                for member in tf:
                    _tar_member(tf, member, walk)
        except tarfile.ReadError as exc:
            code = "truncated_archive" if "unexpected end" in str(exc) else "malformed"
            raise ExtractionFailed(f"The tar archive is damaged: {exc}", code=code) from exc
        except EOFError as exc:
            raise ExtractionFailed("The tar archive is truncated.", code="truncated_archive") from exc
        except tarfile.TarError as exc:
            raise ExtractionFailed(f"The tar archive is damaged: {exc}", code="malformed") from exc


def _tar_member(tf: tarfile.TarFile, member: tarfile.TarInfo, walk: _Walk) -> None:
    if member.isdir():
        return
    walk.count()
    name = safe_name(member.name)
    if member.issym() or member.islnk():
        raise _unsafe(member.name, "it is a link")
    if not member.isreg():
        raise _unsafe(member.name, "it is a device or special file")
    if member.size > walk.limits.max_archive_member_bytes:
        raise ExtractionFailed(
            f"The archive entry {name[:200]!r} is larger than allowed.",
            code="archive_bomb",
            details={"member": name[:500], "bytes": member.size},
        )
    fh = tf.extractfile(member)
    if fh is None:
        return
    walk.take(name, _tar_chunks(fh))


def _tar_chunks(fh: Any) -> Iterator[bytes]:
    try:
        yield from file_chunks(fh)
    except tarfile.ReadError as exc:
        raise ExtractionFailed(f"The tar archive is damaged: {exc}", code="truncated_archive") from exc
