"""The analysed corpus: every document's segments and their tokens, built once per run."""

from __future__ import annotations

from dataclasses import dataclass, field

from service.models import CorpusDocument

from .bm25 import BM25Index, tokenize
from .log_lines import looks_like_log
from .runctl import Guard
from .segment import Segment, segment_document


@dataclass
class Corpus:
    documents: list[CorpusDocument]
    segments: list[Segment] = field(default_factory=list)
    tokens: list[list[str]] = field(default_factory=list)
    ranges: list[tuple[int, int]] = field(default_factory=list)
    is_log: list[bool] = field(default_factory=list)
    _index: BM25Index | None = None

    def text(self, segment: Segment) -> str:
        return self.documents[segment.doc_index].extracted.text[segment.start : segment.end]

    def doc_segments(self, doc_index: int) -> range:
        start, end = self.ranges[doc_index]
        return range(start, end)

    def index(self) -> BM25Index:
        if self._index is None:
            self._index = BM25Index(self.tokens)
        return self._index


def _visible(doc: CorpusDocument, segment: Segment) -> bool:
    """False for lines a job filter removed or a compressed view did not show (the model never saw them)."""
    if doc.keep is None and doc.view_lines is None:
        return True
    line = doc.extracted.line_at(segment.start)
    if doc.keep is not None and not doc.keep[line - 1]:
        return False
    return doc.view_lines is None or line in doc.view_lines


def build_corpus(documents: list[CorpusDocument], guard: Guard) -> Corpus:
    """Segment and tokenise every document (logs line by line, the rest sentence by sentence)."""
    corpus = Corpus(documents=documents)
    for doc_index, doc in enumerate(documents):
        guard.check()
        as_log = doc.extracted.kind == "log" or (doc.extracted.kind == "text" and looks_like_log(doc))
        corpus.is_log.append(as_log)
        first = len(corpus.segments)
        for segment in segment_document(doc_index, doc, as_log):
            guard.tick()
            if not _visible(doc, segment):
                continue
            corpus.segments.append(segment)
            corpus.tokens.append(tokenize(doc.extracted.text[segment.start : segment.end]))
        corpus.ranges.append((first, len(corpus.segments)))
    return corpus
