"""How document text is written into the prompt: delimiter look-alikes defused, log lines numbered.

Shared by the packer (`service.pack`, `service.logview`) and by log ingest, which counts the tokens of
each 500-line unit at extraction exactly as the packer will render it (`service.extract.logstore`).
"""

from __future__ import annotations

import re

__all__ = ["LINES_PER_UNIT", "defuse", "file_block", "might_need_defusing", "numbered_lines"]

LINES_PER_UNIT = 500
_DELIMITER_LOOKALIKE = re.compile(r"<(/?\s*(?:documents?|page|task|question|file|log-view)\b)", re.IGNORECASE)


def defuse(text: str) -> tuple[str, int]:
    """Neutralise delimiter look-alikes in untrusted text; returns the text and how many were found."""
    count = 0

    def repl(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return "\u2039" + match.group(1)  # a single left angle quote is not our delimiter

    return _DELIMITER_LOOKALIKE.sub(repl, text), count


def might_need_defusing(text: str) -> bool:
    """False when `defuse` would certainly leave `text` unchanged (no '<' at all)."""
    return "<" in text


def numbered_lines(lines: list[str], first: int) -> str:
    """`lines` (already defused) as the prompt shows them: `N| line`, one per line."""
    return "".join(f"{first + i}| {line}\n" for i, line in enumerate(lines))


def file_block(path: str | None, body: str) -> str:
    """An archive member's lines inside `<file path="...">`; a plain log's lines as they are."""
    return f'<file path="{path}">\n{body}</file>\n' if path is not None else body
