"""Turning the model's final text into `EngineAnswer`s with `RawCitation`s.

The prompt asks for prose followed by a ```json block {"answers": [...]}. The last parsable fenced block
wins; failing that, a bare JSON object that ends the text. Without usable JSON the prose (minus any
JSON block) is the answer and citations are empty: a malformed reply is degraded, never a crash.
"""

from __future__ import annotations

import json
import re
from typing import Any

from service.models import EngineAnswer, RawCitation

_FENCE_RE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\r?\n(.*?)```", re.S)
_OBJECT_START_RE = re.compile(r"(?:^|\n)[ \t]*\{")
_MAX_BARE_CANDIDATES = 200


def _load_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def extract_json(text: str) -> tuple[dict[str, Any] | None, str]:
    """(the JSON object, the text without it); (None, text) when there is none."""
    for match in reversed(list(_FENCE_RE.finditer(text))):
        if (obj := _load_object(match.group(1))) is not None:
            return obj, (text[: match.start()] + text[match.end() :]).strip()
    stripped = text.rstrip()
    if not stripped.endswith("}"):
        return None, text.strip()
    decoder = json.JSONDecoder()
    starts = [m.end() - 1 for m in _OBJECT_START_RE.finditer(stripped)][:_MAX_BARE_CANDIDATES]
    for pos in starts:  # earliest first: the outermost object that ends the text
        try:
            value, end = decoder.raw_decode(stripped, pos)
        except ValueError:
            continue
        if isinstance(value, dict) and end == len(stripped):
            return value, stripped[:pos].strip()
    return None, text.strip()


def _opt_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _citations(raw: Any) -> list[RawCitation]:
    found: list[RawCitation] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        doc, quote = item.get("document_id"), item.get("quote")
        if not doc or not isinstance(quote, str) or not quote.strip():
            continue
        start = _opt_int(item.get("line_start"))
        end = _opt_int(item.get("line_end"))
        found.append(
            RawCitation(
                document_id=str(doc),
                quote=quote,
                page=_opt_int(item.get("page")),
                line_start=start,
                line_end=end if end is not None else start,
                file=str(item["file"]) if item.get("file") else None,
            )
        )
    return found


def _entries(obj: dict[str, Any]) -> list[dict[str, Any]]:
    answers = obj.get("answers")
    if isinstance(answers, list):
        return [a for a in answers if isinstance(a, dict)]
    if "answer" in obj:
        return [obj]
    return []


def _norm(text: Any) -> str:
    return " ".join(str(text or "").lower().split())


def parse_answers(text: str, job_type: str, questions: list[str]) -> list[EngineAnswer]:
    """One EngineAnswer per question (qa), or one with question None (summarize)."""
    obj, prose = extract_json(text)
    entries = _entries(obj) if obj is not None else []
    wanted: list[str | None] = [None] if job_type == "summarize" or not questions else list(questions)
    if not entries:
        return [EngineAnswer(question=q, answer=prose) for q in wanted]
    by_question = {_norm(e.get("question")): e for e in entries if e.get("question")}
    results: list[EngineAnswer] = []
    for index, question in enumerate(wanted):
        entry = by_question.get(_norm(question)) if question else None
        if entry is None:
            entry = entries[index] if index < len(entries) else None
        if entry is None:
            results.append(EngineAnswer(question=question, answer="(the model returned no answer for this)"))
            continue
        answer = entry.get("answer")
        if isinstance(answer, str) or answer is None:
            answer_text = answer or ""
        else:
            answer_text = json.dumps(answer, ensure_ascii=False)
        if not answer_text.strip() and len(wanted) == 1:
            answer_text = prose
        results.append(EngineAnswer(question, answer_text.strip(), _citations(entry.get("citations"))))
    return results
