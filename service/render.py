"""Terminal rendering of documents and job results (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table


def documents_table(docs: list[dict[str, Any]]) -> Table:
    table = Table(title="Documents", show_lines=False)
    for col in ("name", "kind", "status", "pages/lines", "chars", "tokens", "id"):
        table.add_column(col)
    for d in docs:
        anchors = f"{d['pages']} pages" if d.get("pages") else f"{d.get('lines') or 0} lines"
        table.add_row(
            d["name"],
            d["kind"],
            d["status"] if d["status"] != "failed" else f"failed: {(d.get('error') or {}).get('code')}",
            anchors,
            f"{d.get('chars') or 0:,}",
            f"{d.get('tokens') or 0:,}",
            d["id"],
        )
    return table


def _citation_line(n: int, c: dict[str, Any]) -> str:
    where = f"p.{c['page']}" if c.get("page") else f"lines {c.get('line_start')}-{c.get('line_end')}"
    quote = " ".join(c["quote"].split())
    if len(quote) > 160:
        quote = quote[:157] + "…"
    mark = {"verified": "✓", "approximate": "≈", "not_found": "✗"}.get(c.get("status", ""), "?")
    return f"[{n}] {mark} {c.get('document_name') or c['document_id']} {where}: “{quote}”"


def print_job(console: Console, job: dict[str, Any], elapsed_s: float | None = None) -> None:
    spec = job.get("spec", {})
    title = f"{spec.get('type')} · {job['id']} · {job['status']}"
    if job["status"] != "succeeded":
        error = job.get("error") or {}
        console.print(Panel(f"{error.get('code')}: {error.get('message')}", title=title, border_style="red"))
        return
    result = job["result"]
    for item in result.get("answers") or []:
        if item.get("question"):
            console.print(f"[bold]Q:[/] {item['question']}")
        console.print(Panel(Markdown(item["answer"]), title=title, border_style="green"))
        for n, c in enumerate(item.get("citations") or [], 1):
            console.print(_citation_line(n, c), highlight=False)
    m = result.get("manifest") or {}
    usage = result.get("usage") or {}
    timing = f" · {elapsed_s:.1f} s" if elapsed_s is not None else ""
    console.print(
        f"[dim]engine={result['engine']} model={result['model']} · prompt {m.get('total_tokens', 0):,} of "
        f"{m.get('window', 0):,} tokens ({m.get('token_method')}, {m.get('token_error')}) · "
        f"output {usage.get('completion_tokens', 0):,} · unverified citations "
        f"{result.get('unverified_citations', 0)}{timing}[/]"
    )
