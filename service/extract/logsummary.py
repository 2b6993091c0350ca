"""The model-free summary of a log document (`service.logs`), mined right after extraction.

One summary per file (archives: per member, each with its own header shape and member-relative line
numbers) plus totals; stored next to the text as a small JSON artifact and served by
GET /v1/documents/{id}/templates. Templates per file are capped (`MAX_TEMPLATES`, most frequent first).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from service.logs import mine_file
from service.logtable import files_of, iter_lines
from service.models import ExtractedText

VERSION = 1
MAX_TEMPLATES = 5000


def summarize_log(ex: ExtractedText) -> dict[str, Any]:
    """Lines, time range, level counts and templates, per file and overall."""
    files = files_of(ex)
    out: list[dict[str, Any]] = []
    for index, f in enumerate(files):
        end = files[index + 1]["char_start"] if index + 1 < len(files) else len(ex.text)
        summary = mine_file(iter_lines(ex.text, f["char_start"], end)).to_dict(MAX_TEMPLATES)
        out.append({"path": f["path"], "line_start": f["line_start"], **summary})
    levels: Counter[str] = Counter()
    for f in out:
        levels.update(f["levels"])
    stamps = [ts for f in out for ts in (f["first_ts"], f["last_ts"]) if ts]
    return {
        "version": VERSION,
        "lines": ex.line_count,
        "events": sum(f["events"] for f in out),
        "first_ts": min(stamps) if stamps else None,
        "last_ts": max(stamps) if stamps else None,
        "levels": dict(levels),
        "files": out,
    }


def templates_page(summary: dict[str, Any], file: str | None, offset: int, limit: int) -> dict[str, Any]:
    """The API view: totals, the files, and one page of templates (all files, or one) by count."""
    files = summary["files"]
    chosen = [f for f in files if file is None or f["path"] == file]
    rows = [{**t, "file": f["path"]} for f in chosen for t in f["templates"]]
    rows.sort(key=lambda t: (-t["count"], str(t["file"]), t["id"]))
    return {
        "lines": summary["lines"],
        "events": summary["events"],
        "first_ts": summary["first_ts"],
        "last_ts": summary["last_ts"],
        "levels": summary["levels"],
        "files": [
            {k: v for k, v in f.items() if k != "templates"} | {"templates": len(f["templates"])}
            for f in files
        ],
        "file": file,
        "total_templates": len(rows),
        "offset": offset,
        "templates": rows[offset : offset + limit],
    }
