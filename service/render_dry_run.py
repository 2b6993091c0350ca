"""Terminal rendering of a dry run (`longdoc ask/summarize --dry-run`): the pack manifest and the cost."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def manifest_table(manifest: dict[str, Any]) -> Table:
    """One row per document, then the instructions, margin, reserved output and what is left."""
    table = Table(title=f"Prompt for {manifest['model']} (window {manifest['window']:,} tokens)")
    for col, justify in (("part", "left"), ("chars", "right"), ("tokens", "right"), ("note", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for d in manifest["documents"]:
        cut = d.get("truncated")
        note = f"cut: kept {cut['unit']} {cut['kept']} of {cut['total_count']}" if cut else "whole"
        table.add_row(f"{d['name']} ({d['kind']})", f"{d['chars']:,}", f"{d['tokens']:,}", note)
    table.add_row("instructions + question", "", f"{manifest['instruction_tokens']:,}", "")
    error = f"{manifest['token_method']}, {manifest['token_error']}"
    table.add_row("[bold]prompt total[/]", "", f"[bold]{manifest['total_tokens']:,}[/]", error)
    table.add_row("safety margin", "", f"{manifest['safety_margin']:,}", "")
    table.add_row("reserved output", "", f"{manifest['reserved_output']:,}", "")
    table.add_row("remaining", "", f"{manifest['remaining']:,}", "")
    return table


def print_dry_run(console: Console, body: dict[str, Any]) -> None:
    console.print(manifest_table(body["manifest"]))
    cost = body["cost"]
    console.print(
        f"estimated cost: [bold]${body['estimated_cost_usd']:.4f}[/] (engine {body['engine']}, model "
        f"{body['model']}) · {cost['pricing']}",
        highlight=False,
    )
