"""`longdoc report TEMPLATE --doc ID | --collection NAME` and `longdoc reports get|list|templates`."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.console import Console

from service.config import Settings

reports_app = typer.Typer(help="Rendered reports (Markdown, HTML, JSON).", no_args_is_help=True)
console = Console()
ApiOpt = Annotated[str | None, typer.Option("--api", help="API base URL (default: LONGDOC_API_BASE_URL).")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="md, html or json.")]


def _client(api: str | None) -> Any:
    from service.client import LongdocClient

    settings = Settings()
    key = settings.auth.client_key
    return LongdocClient(api or settings.api_base_url, token=key.get_secret_value() if key else None)


def _fetch(api: str | None, report_id: str, fmt: str, wait_s: float) -> str:
    """The rendered report, polling while its job runs (202) for up to `wait_s` seconds."""
    client = _client(api)
    deadline = time.monotonic() + wait_s
    try:
        while True:
            response = client.http.get(f"/v1/reports/{report_id}", params={"format": fmt})
            if response.status_code >= 400:
                client._json(response)  # raises ApiError with the error body
            if response.status_code != 202 or time.monotonic() > deadline:
                return str(response.text)
            time.sleep(0.5)
    finally:
        client.close()


def report(
    template: Annotated[str, typer.Argument(help="daily_log_digest, contract_portfolio or a user template.")],
    doc: Annotated[list[str] | None, typer.Option("--doc", "-d", help="Document id (repeatable).")] = None,
    collection: Annotated[str | None, typer.Option("--collection", "-c", help="Or a collection.")] = None,
    horizon_days: Annotated[int | None, typer.Option(help="Contracts: days to look ahead.")] = None,
    as_of: Annotated[
        str | None, typer.Option(help="Contracts: count deadlines from this day (YYYY-MM-DD).")
    ] = None,
    fmt: FormatOpt = "md",
    wait: Annotated[float, typer.Option(help="Seconds to wait for the report (0: print its id).")] = 600.0,
    api: ApiOpt = None,
) -> None:
    """Run a report template over documents or a collection and print it."""
    options = {k: v for k, v in {"horizon_days": horizon_days, "as_of": as_of}.items() if v is not None}
    body = {"template": template, "document_ids": doc or [], "collection": collection, "options": options}
    client = _client(api)
    try:
        created = client._json(client.http.post("/v1/reports", json=body))
    finally:
        client.close()
    if wait <= 0:
        console.print(created["id"])
        return
    typer.echo(_fetch(api, created["id"], fmt, wait))


@reports_app.command("get")
def get_report(report_id: str, fmt: FormatOpt = "md", api: ApiOpt = None) -> None:
    """Print a report (waits while its job runs)."""
    typer.echo(_fetch(api, report_id, fmt, 600.0))


@reports_app.command("list")
def list_reports(api: ApiOpt = None) -> None:
    """List reports, newest first."""
    client = _client(api)
    try:
        console.print_json(json.dumps(client._json(client.http.get("/v1/reports"))))
    finally:
        client.close()


@reports_app.command("templates")
def list_templates(api: ApiOpt = None) -> None:
    """List report templates (built-in and from LONGDOC_REPORTING__REPORT_TEMPLATES_DIR)."""
    client = _client(api)
    try:
        items = client._json(client.http.get("/v1/reports/templates"))["items"]
        for t in items:
            console.print(f"[bold]{t['name']}[/bold]  {t['title']}  ({t['source']})")
    finally:
        client.close()
