"""Disk full during upload and during extraction, on a real 2 MiB tmpfs (we run as root).

ENOSPC comes from the kernel, not from a patched write: the store lives on `mount -t tmpfs -o size=2m`.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.client import LongdocClient
from service.config import Settings
from service.redis_conn import EmbeddedRedis
from tests.procs import ApiThread, workers


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    assert done.returncode == 0, f"cannot mount a tmpfs for the disk-full tests: {done.stderr.decode()}"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


def test_disk_full_upload_and_extraction(small_disk: Path, tmp_path: Path) -> None:
    store = small_disk / "store"
    with EmbeddedRedis() as redis:
        settings = Settings.model_validate(
            {
                "redis_url": redis.url,
                "storage_dir": store,
                "key_prefix": f"s{uuid.uuid4().hex[:8]}",
                "auth": {"mode": "off"},
            }
        )
        with ApiThread(settings) as api:
            client = LongdocClient(api.url)
            big = tmp_path / "big.log"
            big.write_bytes(
                b"2026-01-01 INFO filler line that is long enough\n" * 60_000
            )  # ~3 MB > 2 MiB disk
            with big.open("rb") as f:
                response = client.http.post("/v1/documents", files={"file": ("big.log", f)})
            assert response.status_code == 507, response.text
            assert response.json()["error"]["code"] == "storage_full"
            assert files_under(store) == []  # the partial upload is gone

            # A document that fits, then a disk that fills up before its text is saved.
            text = tmp_path / "notes.log"
            text.write_bytes(b"2026-01-01 WARN disk pressure on node-7\n" * 15_000)  # ~600 KB
            doc = client.upload(text)
            assert doc["status"] in {"uploaded", "extracting"}
            stat = os.statvfs(small_disk)
            (small_disk / "filler").write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - 64 * 1024))
            with workers(settings, tmp_path, 1):
                doc = client.wait_document(doc["id"], 60)
            assert doc["status"] == "failed", doc
            assert doc["error"]["code"] == "storage_full" and "full" in doc["error"]["message"]
            leftovers = [f for f in files_under(store) if not f.startswith("blobs/")]
            assert leftovers == [], leftovers  # no partial text, line index or temp files
