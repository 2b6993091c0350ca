"""Citation verification against the extracted text."""

from __future__ import annotations

from service.citations import verify
from service.models import RawCitation
from tests.corpus import lines, paged

DOCS = {
    "c": paged(
        "c", ["Intro text here.", "Either party may terminate with ninety (90) days written notice.", "End."]
    ),
    "l": lines("l", ["10:00 INFO start", "10:01 ERROR payment gateway timeout after 30s", "10:02 INFO ok"]),
}


def test_exact_quote_at_cited_page_is_verified() -> None:
    c = verify(RawCitation("c", "may terminate with ninety (90) days", page=2), DOCS)
    assert c.status == "verified" and c.page == 2


def test_quote_found_elsewhere_is_relocated() -> None:
    c = verify(RawCitation("c", "Either  party may\nterminate", page=1), DOCS)
    assert c.status == "verified" and c.page == 2


def test_line_citations_get_their_real_lines() -> None:
    c = verify(RawCitation("l", "payment gateway timeout", line_start=1, line_end=3), DOCS)
    assert c.status == "verified" and (c.line_start, c.line_end) == (2, 2)


def test_close_paraphrase_is_approximate_with_the_closest_text() -> None:
    c = verify(RawCitation("c", "Either party may terminate with ninety days written notice", page=2), DOCS)
    assert c.status == "approximate"
    assert c.closest_match and "ninety (90) days" in c.closest_match


def test_invented_quote_and_unknown_document_are_not_found() -> None:
    assert (
        verify(RawCitation("c", "The supplier shall indemnify the moon", page=2), DOCS).status == "not_found"
    )
    assert verify(RawCitation("zzz", "anything", page=1), DOCS).status == "not_found"
