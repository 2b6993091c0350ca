"""extract_content always ends in a terminal state, even on errors nobody anticipated."""

from __future__ import annotations

from service.config import Settings
from service.models import ContentRecord, DocumentRecord
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


def test_deleting_the_last_copy_while_the_same_bytes_arrive_leaves_a_whole_document(
    settings: Settings,
) -> None:
    import threading

    from service.documents import accept_upload, delete

    services = build_services(settings)
    payload = b"2026-01-01T00:00:00Z INFO same bytes every time\n"

    def upload() -> DocumentRecord:
        writer = services.blobs.writer(1 << 20)
        writer.write(payload)
        return accept_upload(services, writer, "same.log", "default").document

    for _ in range(25):
        first = upload()
        uploaded: list[DocumentRecord] = []
        racer = threading.Thread(target=lambda into=uploaded: into.append(upload()))
        racer.start()
        delete(services, first)
        racer.join()
        second = uploaded[0]
        assert services.records.get_content(second.sha256) is not None
        assert services.blobs.blob_path(second.sha256).exists()
        delete(services, second)
        assert not services.blobs.blob_path(second.sha256).exists()
