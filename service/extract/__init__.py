"""Extraction stage: sniff what an upload is from its bytes, then turn it into text with anchors.

    sniff(path, filename)               -> (kind, media type), or UnsupportedMediaType
    extract(path, kind, limits)         -> ExtractedText, in this process
    extract_isolated(path, kind, limits) -> the same, in a memory- and time-limited child process
    ingest_isolated(path, limits, work)  -> logs/archives streamed by the child into store files (flat memory)

Failures are ExtractionFailed with a stable code: malformed, encrypted, no_text_layer, too_many_pages,
too_large, archive_bomb, truncated_archive, timeout, resource_limit, crashed.
"""

from .isolate import extract_isolated, ingest_isolated
from .registry import EXTRACTORS, extract
from .sniff import sniff

__all__ = ["EXTRACTORS", "extract", "extract_isolated", "ingest_isolated", "sniff"]
