"""Builders of in-memory corpora for packer, citation and engine tests."""

from __future__ import annotations

from service.models import CorpusDocument, ExtractedText


def paged(doc_id: str, pages: list[str], name: str = "contract.pdf") -> CorpusDocument:
    starts, text = [], ""
    for page in pages:
        starts.append(len(text))
        text += page + "\n"
    return CorpusDocument(doc_id, name, "pdf", ExtractedText(text=text, kind="pdf", page_starts=starts))


def lines(doc_id: str, rows: list[str], name: str = "app.log") -> CorpusDocument:
    text = "".join(r + "\n" for r in rows)
    return CorpusDocument(doc_id, name, "log", ExtractedText(text=text, kind="log"))
