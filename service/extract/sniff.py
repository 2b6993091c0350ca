"""Decide what an upload is from its bytes, not its name.

Only the first few KB are read (plus the zip central directory for DOCX and zip archives). The filename
is used only to choose between text kinds (log vs plain/markdown/csv/json) and to accept compressed
files and archives (.gz/.tgz, .bz2, .zst, .zip, .tar) as logs: an archive is one log document whose
members are extracted in path order (see `archive`).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

from charset_normalizer import from_bytes

from service.errors import UnsupportedMediaType
from service.models import DocumentKind

HEAD_BYTES = 8192
PDF_MEDIA = "application/pdf"
DOCX_MEDIA = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
GZIP_MEDIA = "application/gzip"
ZIP_MEDIA = "application/zip"
TAR_MEDIA = "application/x-tar"
BZIP2_MEDIA = "application/x-bzip2"
ZSTD_MEDIA = "application/zstd"
_GZIP_NAMES = (".gz", ".tgz")
_BZIP2_NAMES = (".bz2", ".tbz2", ".tbz")
_ZSTD_NAMES = (".zst", ".tzst")

# (magic, human name) of common binary formats, so refusals can say what the file looks like.
_KNOWN_BINARY: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x7fELF", "an ELF executable"),
    (b"MZ", "a Windows executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office (OLE) file"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
# C0 controls that real text and logs contain: tab, LF, VT, FF, CR, backspace, escape (ANSI colours).
_TEXT_CONTROLS = frozenset("\t\n\x0b\x0c\r\x08\x1b")
_MAX_CONTROL_RATIO = 0.01
_TEXT_MEDIA = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".csv": "text/csv",
    ".json": "application/json",
    ".jsonl": "application/json",
    ".ndjson": "application/json",
}
_LOG_NAME = re.compile(
    r"(\.log(\.\d+)?$|\.log[._-]\d|\.out$|\.err$|[_-]log$|^(syslog|messages|dmesg|auth|kern)(\.\d+)?$)"
)
_TIMESTAMP = re.compile(
    r"^\[?("
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"  # ISO 8601
    r"|\d{4}/\d{2}/\d{2} \d{2}:\d{2}"
    r"|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}"  # syslog
    r"|\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}"  # common log format
    r"|\d{10}(\.\d+)?\b"  # epoch seconds
    r")"
)
_LOG_TS_SHARE = 0.5


def sniff(path: Path, filename: str) -> tuple[DocumentKind, str]:
    """Return (kind, media type) of the file at `path`, or raise UnsupportedMediaType."""
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    if not head:
        raise UnsupportedMediaType("The file is empty.", code="empty_file")
    name = filename.lower()
    if b"%PDF-" in head[:1024]:
        return "pdf", PDF_MEDIA
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(path, name)
    if head.startswith(b"\x1f\x8b"):
        return _sniff_gzip(head, name)
    if head.startswith(b"BZh") and name.endswith(_BZIP2_NAMES):
        return "log", BZIP2_MEDIA  # bzip2 blocks are up to 900 KB: the extractor checks the content
    if head.startswith(b"\x28\xb5\x2f\xfd") and name.endswith(_ZSTD_NAMES):
        return _sniff_zstd(head)
    if _is_tar(head):
        return "log", TAR_MEDIA
    for magic, what in _KNOWN_BINARY:
        if head.startswith(magic):
            raise UnsupportedMediaType(
                f"The file looks like {what}; only PDF, DOCX, text, logs and log archives are supported."
            )
    text = decode_head(head)
    if text is None:
        raise UnsupportedMediaType("The file is binary data, not text, PDF or DOCX.")
    return text_kind(name, text)


def _sniff_zip(path: Path, name: str) -> tuple[DocumentKind, str]:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnsupportedMediaType("The file is a damaged zip archive.") from exc
    if "word/document.xml" in names:
        return "docx", DOCX_MEDIA
    if name.endswith(".zip"):
        return "log", ZIP_MEDIA
    raise UnsupportedMediaType(
        "The file is a zip archive but not a Word (.docx) document; log archives must be named *.zip."
    )


def _is_tar(head: bytes) -> bool:
    return len(head) >= 262 and head[257:262] == b"ustar"


def _sniff_gzip(head: bytes, name: str) -> tuple[DocumentKind, str]:
    if not name.endswith(_GZIP_NAMES):
        raise UnsupportedMediaType("Gzip files are accepted only as compressed logs named *.gz or *.tgz.")
    try:
        # max_length bounds the output: a bomb cannot inflate past one head's worth here.
        inner = zlib.decompressobj(wbits=31).decompress(head, HEAD_BYTES)
    except zlib.error as exc:
        raise UnsupportedMediaType("The gzip data is damaged.") from exc
    return _compressed_content(inner, "gzip", GZIP_MEDIA)


def _sniff_zstd(head: bytes) -> tuple[DocumentKind, str]:
    import io

    import zstandard

    try:  # a stream reader bounds the output: read() returns at most what is asked
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(head))
        inner = reader.read(HEAD_BYTES)
    except zstandard.ZstdError as exc:
        raise UnsupportedMediaType("The zstd data is damaged.") from exc
    return _compressed_content(inner, "zstd", ZSTD_MEDIA)


def _compressed_content(inner: bytes, what: str, media: str) -> tuple[DocumentKind, str]:
    if _is_tar(inner):
        return "log", media
    if not inner or decode_head(inner) is None:
        raise UnsupportedMediaType(f"The {what} file does not contain text.")
    return "log", media


def decode_head(head: bytes) -> str | None:
    """Decode the first bytes of a file if they look like text, else None.

    NUL bytes mean binary unless a UTF-16/32 byte-order mark announces a wide encoding.
    """
    text = _decode_sample(head)
    if text is None:
        return None
    controls = sum(1 for ch in text if ch < " " and ch not in _TEXT_CONTROLS)
    return None if controls > _MAX_CONTROL_RATIO * max(len(text), 1) else text


def _decode_sample(head: bytes) -> str | None:
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, errors="ignore")
    if b"\x00" in head:
        return None
    text = _decode_utf8_prefix(head)
    if text is None:
        best = from_bytes(head).best()
        text = None if best is None else str(best)
    return text


def _decode_utf8_prefix(head: bytes) -> str | None:
    """Strict UTF-8, tolerating a multi-byte character cut off at the end of the sample."""
    for cut in range(4):
        try:
            return head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:
                return None
    return None


def text_kind(name: str, text: str) -> tuple[DocumentKind, str]:
    """Log or text (and which text media type), from the name first and the content second."""
    base = name.rsplit("/", 1)[-1]
    suffix = Path(base).suffix
    if _LOG_NAME.search(base):
        return "log", "text/plain"
    if suffix in _TEXT_MEDIA:
        return "text", _TEXT_MEDIA[suffix]
    if looks_like_log(text):
        return "log", "text/plain"
    return "text", "text/plain"


def looks_like_log(text: str) -> bool:
    """True when most of the first non-empty lines start with a timestamp."""
    lines = [line for line in text.splitlines()[:40] if line.strip()][:20]
    if len(lines) < 3:
        return False
    stamped = sum(1 for line in lines if _TIMESTAMP.match(line))
    return stamped >= _LOG_TS_SHARE * len(lines)
