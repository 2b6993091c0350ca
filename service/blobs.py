"""Uploaded bytes and extracted text on disk, addressed by the sha256 of the upload.

Uploads stream into a temporary file on the same volume while their hash is computed, then are renamed
into place atomically, so a reader never sees a partial blob and identical bytes are stored once.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import time
import uuid
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from service.errors import PayloadTooLarge, ServiceUnavailable
from service.logtable import TABLE_FILES, TABLE_META, load_table
from service.models import ExtractedText
from service.tokens import TokenCounter

# Files of a streamed log besides text and index (work-dir name -> suffix in the store).
_ARTIFACTS = {"units.json": ".units.json", TABLE_META: ".table.json"} | {
    name: "." + name for name in TABLE_FILES
}


class StorageFull(ServiceUnavailable):
    code = "storage_full"
    retryable = False


@contextmanager
def storage_full_as(message: str, cleanup: Callable[[], None] | None = None) -> Iterator[None]:
    """Report a full disk (ENOSPC) inside the block as StorageFull(message); `cleanup` runs first on any
    OSError, so nothing half-written stays behind."""
    try:
        yield
    except OSError as exc:
        if cleanup is not None:
            cleanup()
        if exc.errno == errno.ENOSPC:
            raise StorageFull(message) from exc
        raise


class BlobWriter:
    """Receives an upload chunk by chunk: bounded memory, size limit enforced as bytes arrive."""

    def __init__(self, store: BlobStore, max_bytes: int):
        self._store = store
        self._max = max_bytes
        self.tmp_path = store.root / "tmp" / f"{uuid.uuid4().hex}.part"
        self.tmp_path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.tmp_path, "wb")  # noqa: SIM115 - closed in finish()/abort()
        self._hash = hashlib.sha256()
        self.size = 0
        self.head = b""  # first bytes, for content sniffing

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._max:
            self.abort()
            raise PayloadTooLarge(
                f"upload exceeds the limit of {self._max:,} bytes",
                details={"limit_bytes": self._max},
            )
        if len(self.head) < 8192:
            self.head += chunk[: 8192 - len(self.head)]
        self._hash.update(chunk)
        with storage_full_as("storage is full; the upload was discarded", self.abort):
            self._file.write(chunk)

    def finish(self) -> str:
        """Close and fsync; returns the sha256. The file stays at `tmp_path` until `commit`."""
        with storage_full_as("storage is full; the upload was discarded", self.abort):
            self._file.flush()
            os.fsync(self._file.fileno())
        self._file.close()
        return self._hash.hexdigest()

    def commit(self, sha256: str) -> Path:
        """Move the finished upload into place (dropping it if those bytes are already stored)."""
        final = self._store.blob_path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            self.tmp_path.unlink(missing_ok=True)
        else:
            os.replace(self.tmp_path, final)
        return final

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.tmp_path.unlink(missing_ok=True)


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def writer(self, max_bytes: int) -> BlobWriter:
        return BlobWriter(self, max_bytes)

    def blob_path(self, sha256: str) -> Path:
        return self.root / "blobs" / sha256[:2] / sha256

    def _text_base(self, sha256: str) -> Path:
        return self.root / "text" / sha256[:2] / sha256

    def text_path(self, sha256: str) -> Path:
        """The stored UTF-8 text of an extracted upload."""
        return self._text_base(sha256).with_suffix(".txt")

    def has_text(self, sha256: str) -> bool:
        return self._text_base(sha256).with_suffix(".json").exists()

    def save_text(self, sha256: str, extracted: ExtractedText) -> None:
        """Write text, line index and anchors; the .json lands last so its presence means complete."""
        base = self._text_base(sha256)
        base.parent.mkdir(parents=True, exist_ok=True)
        with storage_full_as("storage is full while saving extracted text", lambda: self.delete_text(sha256)):
            _atomic_write(base.with_suffix(".txt"), extracted.text.encode("utf-8"))
            _atomic_write(base.with_suffix(".lines"), array("q", extracted.line_starts).tobytes())
            meta: dict[str, Any] = {
                "kind": extracted.kind,
                "page_starts": extracted.page_starts,
                "meta": extracted.meta,
            }
            _atomic_write(base.with_suffix(".json"), json.dumps(meta).encode())

    def adopt_log(self, sha256: str, work: Path, result: dict[str, Any]) -> None:
        """Move a log the extraction child streamed into `work` (service.extract.logstore) into place.

        Renames only (work is under this store's tmp/, on the same filesystem); the .json lands last.
        """
        base = self._text_base(sha256)
        base.parent.mkdir(parents=True, exist_ok=True)
        moves = {"text.txt": ".txt", "text.lines": ".lines", "logsummary.json": ".logsummary.json"}
        moves |= _ARTIFACTS
        with storage_full_as("storage is full while saving extracted text", lambda: self.delete_text(sha256)):
            for name, suffix in moves.items():
                os.replace(work / name, base.with_suffix(suffix))
            meta = {"kind": result["kind"], "page_starts": result["page_starts"], "meta": result["meta"]}
            _atomic_write(base.with_suffix(".json"), json.dumps(meta).encode())

    def load_meta(self, sha256: str) -> dict[str, Any]:
        """The extraction's small JSON (kind, page starts, meta such as an archive's files) without the text."""
        meta: dict[str, Any] = json.loads(self._text_base(sha256).with_suffix(".json").read_text())
        return meta

    def load_text(self, sha256: str) -> ExtractedText:
        base = self._text_base(sha256)
        meta = self.load_meta(sha256)
        text = base.with_suffix(".txt").read_bytes().decode("utf-8")
        lines = array("q")
        lines.frombytes(base.with_suffix(".lines").read_bytes())
        extracted = ExtractedText(
            text=text, kind=meta["kind"], page_starts=meta["page_starts"], meta=meta["meta"]
        )
        extracted._line_starts = lines.tolist()
        units = base.with_suffix(_ARTIFACTS["units.json"])
        if units.exists():  # logs from the streaming child: unit counts and the per-line table
            extracted.unit_tokens = json.loads(units.read_bytes())
            files = {name: base.with_suffix(suffix) for name, suffix in _ARTIFACTS.items()}
            extracted.table_loader = lambda: load_table(files)
        return extracted

    def save_logsummary(self, sha256: str, summary: dict[str, Any]) -> None:
        """Store a log's model-free summary (templates, levels, time range) next to its text."""
        path = self._text_base(sha256).with_suffix(".logsummary.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        with storage_full_as("storage is full while saving the log summary"):
            _atomic_write(path, json.dumps(summary).encode())

    def load_logsummary(self, sha256: str) -> dict[str, Any] | None:
        """The stored log summary, or None (not a log, or extracted before summaries existed)."""
        path = self._text_base(sha256).with_suffix(".logsummary.json")
        if not path.exists():
            return None
        summary: dict[str, Any] = json.loads(path.read_bytes())
        return summary

    def delete_text(self, sha256: str) -> None:
        base = self._text_base(sha256)
        for suffix in (".json", ".txt", ".lines", ".logsummary.json", *_ARTIFACTS.values()):
            base.with_suffix(suffix).unlink(missing_ok=True)

    def delete_blob(self, sha256: str) -> None:
        self.blob_path(sha256).unlink(missing_ok=True)
        self.delete_text(sha256)

    def clean_tmp(self, older_than_s: float) -> int:
        """Remove leftovers of killed uploads and ingests (tmp/ entries older than `older_than_s`);
        younger ones may belong to work in progress in another process. Returns how many went."""
        tmp, removed = self.root / "tmp", 0
        cutoff = time.time() - older_than_s
        for entry in tmp.iterdir() if tmp.is_dir() else ():
            try:
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
                    removed += 1
            except OSError:
                continue
        return removed


def count_text_file(counter: TokenCounter, path: Path, chunk_chars: int = 1 << 20) -> int:
    """Tokens of a stored text, counted in chunks cut at line ends (memory stays at one chunk)."""
    total = 0
    with path.open(encoding="utf-8", newline="") as fh:
        carry = ""
        while piece := fh.read(chunk_chars):
            piece = carry + piece
            cut = piece.rfind("\n") + 1
            if cut == 0:
                carry = piece
                continue
            total += counter.count(piece[:cut])
            carry = piece[cut:]
        total += counter.count(carry)
    return total


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + f".{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
