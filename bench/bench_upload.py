"""Upload throughput and the API's peak memory for one large file through `POST /v1/documents`.

Run: .venv/bin/python bench/bench_upload.py [--size-gb 2] [--chunk-kb 1024] [--no-baseline]

Starts an embedded Redis and `longdoc serve` as its own process (no worker: the extraction task stays
queued, so only the upload path is measured) with LONGDOC_LIMITS__MAX_UPLOAD_BYTES raised above the
size. The client streams a multipart body built by hand from a generator with an exact
Content-Length, so neither side needs the file in memory; the content is a 1 MiB block of log lines
repeated. Reported: MB/s, the server's VmHWM before and after (from /proc/<pid>/status), the client's
own peak. The baseline row hashes (sha256) and writes the same bytes to the same disk with fsync in
this process: the ceiling the upload path could reach. The stored blob is deleted through the API
afterwards (and the check that it is gone is printed); the temp directory goes on exit or Ctrl-C.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import docgen  # noqa: E402
from bench._common import Stack, banner, print_table, run_main, temp_dir, vm_hwm_mb  # noqa: E402

MB = 1e6


def log_block(size: int) -> bytes:
    """`size` bytes of log lines (cut at a line end where possible)."""
    parts: list[str] = []
    total = 0
    for line in docgen.log_lines(3):
        parts.append(line)
        total += len(line)
        if total >= size:
            break
    return "".join(parts).encode()[:size]


def payload(block: bytes, size: int) -> Iterator[bytes]:
    """`size` bytes made of `block` repeated."""
    sent = 0
    while sent < size:
        piece = block if size - sent >= len(block) else block[: size - sent]
        sent += len(piece)
        yield piece


def multipart(boundary: str, filename: str, body: Iterator[bytes], size: int) -> tuple[Iterator[bytes], int]:
    """A multipart/form-data stream with one `file` part, and its exact length."""
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def stream() -> Iterator[bytes]:
        yield head
        yield from body
        yield tail

    return stream(), len(head) + size + len(tail)


def upload(url: str, block: bytes, size: int) -> tuple[dict[str, Any], float]:
    boundary = uuid.uuid4().hex
    stream, length = multipart(boundary, "big.log", payload(block, size), size)
    headers = {"content-type": f"multipart/form-data; boundary={boundary}", "content-length": str(length)}
    start = time.perf_counter()
    with httpx.Client(timeout=httpx.Timeout(600, connect=10)) as client:
        response = client.post(f"{url}/v1/documents", content=stream, headers=headers)
    seconds = time.perf_counter() - start
    if response.status_code != 201:
        raise RuntimeError(f"upload failed: {response.status_code} {response.text[:500]}")
    body: dict[str, Any] = response.json()
    return body, seconds


def baseline(directory: Path, block: bytes, size: int) -> float:
    """Seconds to sha256 and write `size` bytes with fsync, like BlobWriter does, with no HTTP."""
    path = directory / "baseline.bin"
    digest = hashlib.sha256()
    start = time.perf_counter()
    with path.open("wb") as fh:
        for piece in payload(block, size):
            digest.update(piece)
            fh.write(piece)
        fh.flush()
        os.fsync(fh.fileno())
    seconds = time.perf_counter() - start
    path.unlink()
    return seconds


def large_files(root: Path, min_bytes: int) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.stat().st_size >= min_bytes]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-gb", type=float, default=2.0, help="upload size in GB (1e9 bytes)")
    parser.add_argument("--chunk-kb", type=int, default=1024, help="client write size")
    parser.add_argument("--no-baseline", action="store_true", help="skip the local hash+write baseline")
    args = parser.parse_args()
    size = int(args.size_gb * 1e9)
    block = log_block(args.chunk_kb * 1024)
    banner(f"bench_upload: one {size / 1e9:.2f} GB upload through POST /v1/documents")
    with temp_dir("longdoc-bench-upload-") as root:
        env = {"LONGDOC_LIMITS__MAX_UPLOAD_BYTES": str(size + (16 << 20))}
        with Stack(root, workers=0, env=env) as stack:
            assert stack.api is not None
            pid = stack.api.pid
            upload(stack.url, block, 1 << 20)  # warm up: first request imports and connects lazily
            before = vm_hwm_mb(pid)
            doc, seconds = upload(stack.url, block, size)
            after = vm_hwm_mb(pid)
            stored = large_files(stack.storage_dir, size)
            httpx.delete(f"{stack.url}/v1/documents/{doc['id']}", timeout=60).raise_for_status()
            left = large_files(stack.storage_dir, size)
        rows: list[list[Any]] = [
            ["upload via API", size / MB, seconds, size / MB / seconds, before, after, vm_hwm_mb(os.getpid())]
        ]
        if not args.no_baseline:
            base = baseline(root, block, size)
            rows.append(
                ["baseline: sha256 + write + fsync", size / MB, base, size / MB / base, "-", "-", "-"]
            )
    print_table(["path", "MB", "s", "MB/s", "API VmHWM before", "API VmHWM after", "client VmHWM"], rows)
    print(f"document {doc['id']}: size {doc['size']:,}, kind {doc['kind']}, status {doc['status']}")
    print(f"blob on disk after upload: {len(stored)} file(s); after DELETE: {len(left)} (must be 0)")
    if left:
        raise SystemExit("the blob was not deleted")


if __name__ == "__main__":
    run_main(main)
