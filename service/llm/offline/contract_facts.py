"""Key facts of a contract (parties, dates, amounts, term, termination, liability cap, governing law,
payment), each tied to the exact sentence it was read from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.models import CorpusDocument

from . import patterns as p
from .cite import citation, clip
from .corpus import Corpus
from .runctl import Guard
from .segment import Segment

_ROLE_TEXT = (
    "Provider Customer Client Supplier Vendor Licensor Licensee Buyer Seller Company Contractor Consultant "
    "Employer Employee Landlord Tenant Lessor Lessee Purchaser Distributor Partner Processor Controller "
    "Borrower Lender Recipient Discloser Agency Reseller Subscriber Publisher Author Owner"
)
PARTY_ROLES = frozenset(_ROLE_TEXT.split())
PARTY_SCAN_CHARS = 12000
SINGLE_CATEGORIES = ("effective_date", "term", "renewal", "liability_cap", "governing_law")


@dataclass
class Fact:
    """One finding: its category, a short readable value, and the exact span it came from."""

    category: str
    value: str
    doc: CorpusDocument
    segment: int
    start: int
    end: int
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cite = citation(self.doc, self.start, self.end)
        body: dict[str, Any] = {"value": self.value, **self.detail, "quote": cite.quote}
        body["document_id"] = self.doc.id
        if cite.page is not None:
            body["page"] = cite.page
        else:
            body["line_start"], body["line_end"] = cite.line_start, cite.line_end
        return body


@dataclass
class ContractFacts:
    doc_index: int
    facts: list[Fact] = field(default_factory=list)

    def of(self, category: str) -> list[Fact]:
        return [fact for fact in self.facts if fact.category == category]

    def first(self, category: str) -> Fact | None:
        found = self.of(category)
        return found[0] if found else None

    @property
    def is_contract(self) -> bool:
        signals = [len(self.of("party")) >= 2, *(self.first(c) is not None for c in SINGLE_CATEGORIES)]
        signals.append(bool(self.of("termination")))
        return sum(signals) >= 2

    def to_dict(self) -> dict[str, Any]:
        def many(category: str) -> list[dict[str, Any]]:
            return [fact.to_dict() for fact in self.of(category)]

        def one(category: str) -> dict[str, Any] | None:
            fact = self.first(category)
            return fact.to_dict() if fact else None

        body: dict[str, Any] = {"kind": "contract" if self.is_contract else "prose", "parties": many("party")}
        body.update({"effective_date": one("effective_date"), "dates": many("date")})
        body.update({"amounts": many("amount"), "term": one("term"), "renewal": one("renewal")})
        body.update({"termination": many("termination"), "liability_cap": one("liability_cap")})
        body.update({"governing_law": one("governing_law"), "payment": many("payment")})
        return body


def _duration(match: re.Match[str]) -> str:
    raw = match.group("n").lower()
    number = int(raw) if raw.isdigit() else p.NUMBER_WORDS.get(raw, 0)
    unit = " ".join(match.group("unit").lower().split())
    return f"{number} {unit}{'' if number == 1 else 's'}"


def _normalise_date(raw: str) -> str:
    cleaned = re.sub(r"(?<=\d)(?:st|nd|rd|th)\b|day\s+of\s+|[.,]", " ", raw)
    cleaned = " ".join(cleaned.replace("Sept ", "Sep ").split())
    for fmt in ("%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(cleaned, fmt).date().isoformat()
        except ValueError:
            continue
    return raw


def _amount(match: re.Match[str]) -> tuple[str, dict[str, Any]]:
    symbols = {"$": "USD", "US$": "USD", "\u20ac": "EUR", "\u00a3": "GBP", "dollars": "USD", "euros": "EUR"}
    symbols["pounds"] = "GBP"
    currency = match.group("cur1") or match.group("cur2") or ""
    currency = symbols.get(currency.lower() if currency[:1].isalpha() else currency, currency.upper())
    number = match.group("num1") or match.group("num2") or "0"
    scale = (match.group("mult1") or match.group("mult2") or "").lower()
    value = float(number.replace(",", "")) * {"thousand": 1e3, "million": 1e6, "billion": 1e9}.get(scale, 1.0)
    return f"{currency} {value:,.2f}", {"currency": currency, "amount": value}


class _Reader:
    """Runs the fact patterns over one document's segments."""

    def __init__(self, corpus: Corpus, doc_index: int) -> None:
        self.corpus = corpus
        self.doc = corpus.documents[doc_index]
        self.text = self.doc.extracted.text
        self.out = ContractFacts(doc_index)

    def add(self, category: str, value: str, index: int, focus: tuple[int, int], **detail: Any) -> None:
        seg = self.corpus.segments[index]
        start, end = clip(self.text, seg.start, seg.end, focus)
        self.out.facts.append(Fact(category, value, self.doc, index, start, end, detail))

    def has(self, category: str, value: str | None = None) -> bool:
        return any(f.value == value or value is None for f in self.out.of(category))

    def parties(self, index: int, seg: Segment) -> None:
        for match in p.DEFINED_PARTY.finditer(self.text, seg.start, seg.end):
            role = match.group(1).strip()
            window = self.text[max(seg.start, match.start() - 160) : match.start()]
            cuts = list(p.NAME_CUT.finditer(window))
            name = " ".join(p.INCORPORATION.sub("", window[cuts[-1].end() if cuts else 0 :]).split()).strip(
                " ,"
            )
            is_party = role in PARTY_ROLES or role.startswith("Party") or bool(p.ORG_SUFFIX.search(name))
            if is_party and name[:1].isupper() and 1 < len(name) <= 100 and not self.has("party", name):
                self.add("party", name, index, (match.start() - len(name) - 2, match.end()), role=role)

    def between(self, index: int, seg: Segment) -> None:
        match = p.BETWEEN.search(self.text, seg.start, seg.end)
        if match is None:
            return
        for group in ("a", "b"):
            name = " ".join(p.PARTY_CLEAN.sub("", match.group(group)).split()).strip(" ,")
            if name[:1].isupper() and len(name) <= 100 and not self.has("party", name):
                self.add("party", name, index, match.span(group), role=None)

    def dates(self, index: int, seg: Segment, sentence: str) -> None:
        effective = "effective" in sentence.lower() or "commence" in sentence.lower()
        for match in p.DATE.finditer(self.text, seg.start, seg.end):
            value = _normalise_date(match.group(0))
            if effective and not self.out.of("effective_date"):
                self.add("effective_date", value, index, match.span(), as_written=match.group(0))
            elif len(self.out.of("date")) < 12 and not self.has("date", value):
                self.add("date", value, index, match.span(), as_written=match.group(0))

    def amounts(self, index: int, seg: Segment) -> None:
        for match in p.AMOUNT.finditer(self.text, seg.start, seg.end):
            if len(self.out.of("amount")) >= 15:
                return
            value, detail = _amount(match)
            self.add("amount", value, index, match.span(), **detail)

    def term(self, index: int, seg: Segment, sentence: str) -> None:
        if not self.out.of("term") and (match := p.TERM.search(sentence)):
            duration = p.DURATION.search(sentence, match.end(), match.end() + 200)
            if duration:
                focus = (seg.start + match.start(), seg.start + duration.end())
                self.add("term", _duration(duration), index, focus)
        if not self.out.of("renewal") and (match := p.RENEWAL.search(sentence)):
            period = p.DURATION.search(sentence, match.start())
            value = "renews automatically" + (f" for {_duration(period)}" if period else "")
            self.add("renewal", value, index, (seg.start + match.start(), seg.start + match.end()))

    def termination(self, index: int, seg: Segment, sentence: str) -> None:
        found = p.TERMINATION.search(sentence)
        if found is None or len(self.out.of("termination")) >= 6:
            return
        detail: dict[str, Any] = {}
        for match in p.DURATION.finditer(sentence):
            after, before = (
                sentence[match.end() : match.end() + 30],
                sentence[max(0, match.start() - 45) : match.start()],
            )
            if "notice" not in detail and (p.NOTICE_AFTER.match(after) or p.NOTICE_BEFORE.search(before)):
                detail["notice"] = _duration(match)
            elif "cure" not in detail and p.CURE.search(
                sentence[max(0, match.start() - 80) : match.end() + 30]
            ):
                detail["cure"] = _duration(match)
        grounds = [name for name, pattern in p.TERMINATION_GROUNDS.items() if pattern.search(sentence)]
        if detail or grounds:
            parts = [f"{detail['notice']} notice" if "notice" in detail else ""]
            parts.append(f"{detail['cure']} cure period" if "cure" in detail else "")
            parts.append(f"for {' / '.join(grounds)}" if grounds else "")
            value = ", ".join(part for part in parts if part)
            self.add(
                "termination", value, index, (seg.start + found.start(), seg.start + found.end()), **detail
            )

    def liability(self, index: int, seg: Segment, sentence: str) -> None:
        if self.out.of("liability_cap") or not p.LIABILITY.search(sentence):
            return
        cap = p.LIABILITY_CAP.search(sentence)
        if cap is None:
            return
        amount = p.AMOUNT.search(sentence, cap.start())
        paid = p.FEES_PAID.search(sentence, cap.start())
        value = _amount(amount)[0] if amount else (" ".join(paid.group(0).split()) if paid else "limited")
        self.add("liability_cap", value, index, (seg.start + cap.start(), seg.start + cap.end() + 120))

    def governing_law(self, index: int, seg: Segment) -> None:
        match = (
            None if self.out.of("governing_law") else p.GOVERNING_LAW.search(self.text, seg.start, seg.end)
        )
        if match:
            self.add("governing_law", match.group("juris").rstrip("."), index, match.span())

    def payment(self, index: int, seg: Segment, sentence: str) -> None:
        if len(self.out.of("payment")) >= 4:
            return
        found: list[tuple[str, re.Match[str]]] = []
        if net := p.NET_TERMS.search(sentence):
            found.append((f"net {net.group(1)} days", net))
        if (due := p.INVOICE_DUE.search(sentence)) and (duration := p.DURATION.search(due.group("d"))):
            found.append((f"due within {_duration(duration)} of invoice", due))
        if p.INTEREST_CONTEXT.search(sentence) and (rate := p.INTEREST.search(sentence)):
            found.append((f"late interest {rate.group(1)}% {rate.group(2) or ''}".strip(), rate))
        for value, match in found:
            if not self.has("payment", value):
                self.add("payment", value, index, (seg.start + match.start(), seg.start + match.end()))

    def clauses(self, index: int, seg: Segment, sentence: str) -> None:
        lowered = sentence.lower()
        if p.HINT_DATE.search(sentence):
            self.dates(index, seg, sentence)
        if p.HINT_AMOUNT.search(sentence):
            self.amounts(index, seg)
        if p.HINT_TERM.search(sentence):
            self.term(index, seg, sentence)
        if "terminat" in lowered:
            self.termination(index, seg, sentence)
        if "liabilit" in lowered:
            self.liability(index, seg, sentence)
        if "governed" in lowered:
            self.governing_law(index, seg)
        if p.HINT_PAYMENT.search(sentence):
            self.payment(index, seg, sentence)

    def read(self, guard: Guard) -> ContractFacts:
        for index in self.corpus.doc_segments(self.out.doc_index):
            guard.tick()
            seg = self.corpus.segments[index]
            sentence = self.text[seg.start : seg.end]
            if seg.start < PARTY_SCAN_CHARS:
                self.parties(index, seg)
                if len(self.out.of("party")) < 2:
                    self.between(index, seg)
            self.clauses(index, seg, sentence)
        return self.out


def extract_contract_facts(corpus: Corpus, doc_index: int, guard: Guard) -> ContractFacts:
    """Read the facts of one prose document (contract or not: `is_contract` tells)."""
    return _Reader(corpus, doc_index).read(guard)
