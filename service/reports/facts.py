"""Helpers shared by the offline report builders: the facts of each document, citations, findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.reports.models import Cite, Item


def documents_of(facts: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-document facts: the offline engine puts one document at top level, several in a list."""
    if facts.get("kind") == "multi":
        return [d for d in facts.get("documents", []) if isinstance(d, dict)]
    return [facts] if facts else []


def cite(found: dict[str, Any] | None, names: dict[str, str]) -> list[Cite]:
    """A fact's citation (its quote and page or lines), or nothing when the fact is absent."""
    if not found or not found.get("quote") or not found.get("document_id"):
        return []
    doc_id = str(found["document_id"])
    return [
        Cite(
            document_id=doc_id,
            document_name=names.get(doc_id),
            quote=str(found["quote"]),
            page=found.get("page"),
            line_start=found.get("line_start"),
            line_end=found.get("line_end"),
        )
    ]


@dataclass
class Findings:
    """What one build found: the items per section, and the facts and metrics the next report compares."""

    items: dict[str, list[Item]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)  # stable key -> readable label
    fact_cites: dict[str, list[Cite]] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # builder-specific snapshot parts

    def add(self, section: str, item: Item) -> None:
        self.items.setdefault(section, []).append(item)

    def fact(self, key: str, label: str, cites: list[Cite]) -> None:
        self.facts[key] = label
        self.fact_cites[key] = cites

    def snapshot(self) -> dict[str, Any]:
        return {"facts": dict(self.facts), "metrics": dict(self.metrics), **self.extra}
