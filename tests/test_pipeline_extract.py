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
