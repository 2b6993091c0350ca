"""The built-in offline engine: extractive summaries, contract facts, log statistics and BM25 answers."""

from .engine import MODEL, OfflineEngine

__all__ = ["MODEL", "OfflineEngine"]
