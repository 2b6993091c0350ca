"""extract_content always ends in a terminal state, even on errors nobody anticipated."""

from __future__ import annotations

from service.config import Settings
from service.models import ContentRecord
from service.pipeline import build_services, extract_content


def test_a_missing_blob_fails_the_content_instead_of_leaving_it_extracting(settings: Settings) -> None:
    services = build_services(settings)
    sha = "ab" * 32
    services.records.put_content(ContentRecord(sha256=sha, kind="text", media_type="text/plain"))
    content = extract_content(services, sha)  # no blob on disk: an OSError, not a LongdocError
    assert content is not None and content.status == "failed"
    assert content.error is not None and content.error.code == "crashed"
    stored = services.records.get_content(sha)
    assert stored is not None and stored.status == "failed"


def test_clean_tmp_removes_only_stale_leftovers(settings: Settings) -> None:
    import os
    import time

    from service.blobs import BlobStore

    store = BlobStore(settings.storage_dir)
    tmp = store.root / "tmp"
    (tmp / "ingest-old").mkdir(parents=True)
    (tmp / "ingest-old" / "text").write_text("x")
    (tmp / "old.part").write_bytes(b"x")
    (tmp / "new.part").write_bytes(b"x")
    hour_ago = time.time() - 3600
    for stale in (tmp / "ingest-old", tmp / "old.part"):
        os.utime(stale, (hour_ago, hour_ago))
    assert store.clean_tmp(older_than_s=600) == 2
    assert sorted(p.name for p in tmp.iterdir()) == ["new.part"]
