"""`longdoc schedules ...`: manage schedules over the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from service.config import Settings

schedules_app = typer.Typer(help="Recurring jobs run by `longdoc beat`.", no_args_is_help=True)
console = Console()
ApiOpt = Annotated[str | None, typer.Option("--api", help="API base URL (default: LONGDOC_API_BASE_URL).")]


def _call(api: str | None, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    from service.client import LongdocClient

    settings = Settings()
    key = settings.auth.client_key
    client = LongdocClient(api or settings.api_base_url, token=key.get_secret_value() if key else None)
    try:
        response = client.http.request(method, path, json=body)
        return None if response.status_code == 204 else client._json(response)
    finally:
        client.close()


def _print(body: Any) -> None:
    if body is not None:
        console.print_json(json.dumps(body))


@schedules_app.command("list")
def list_schedules(api: ApiOpt = None) -> None:
    """List schedules."""
    _print(_call(api, "GET", "/v1/schedules"))


@schedules_app.command()
def create(
    name: str,
    collection: Annotated[str | None, typer.Option(help="Run over this collection.")] = None,
    doc: Annotated[list[str] | None, typer.Option("--doc", "-d", help="Document id (repeatable).")] = None,
    cron: Annotated[str | None, typer.Option(help="Five-field cron expression.")] = None,
    every: Annotated[float | None, typer.Option(help="Or: interval in seconds.")] = None,
    timezone: Annotated[str, typer.Option(help="IANA time zone of the cron expression.")] = "UTC",
    job_type: Annotated[str, typer.Option("--type", help="summarize or qa.")] = "summarize",
    question: Annotated[str | None, typer.Option(help="The question of a qa job.")] = None,
    window: Annotated[str | None, typer.Option(help="last_24h, last_7d or since_previous_run.")] = None,
    missed: Annotated[str, typer.Option(help="run_once or skip.")] = "run_once",
    from_json: Annotated[Path | None, typer.Option("--json", help="Take the whole body from a file.")] = None,
    api: ApiOpt = None,
) -> None:
    """Create a schedule from options, or from a JSON body (`--json FILE`)."""
    if from_json is not None:
        body = json.loads(from_json.read_text())
    else:
        template = {
            "type": job_type,
            "collection": collection,
            "document_ids": doc or [],
            "question": question,
        }
        template["window"] = window
        body = {"name": name, "cron": cron, "interval_s": every, "timezone": timezone, "missed": missed}
        body["template"] = {k: v for k, v in template.items() if v not in (None, [])}
        body = {k: v for k, v in body.items() if v is not None}
    _print(_call(api, "POST", "/v1/schedules", body))


@schedules_app.command()
def pause(schedule_id: str, api: ApiOpt = None) -> None:
    """Pause a schedule."""
    _print(_call(api, "POST", f"/v1/schedules/{schedule_id}/pause"))


@schedules_app.command()
def resume(schedule_id: str, api: ApiOpt = None) -> None:
    """Resume a schedule (ticks that passed while paused do not run)."""
    _print(_call(api, "POST", f"/v1/schedules/{schedule_id}/resume"))


@schedules_app.command()
def run(schedule_id: str, api: ApiOpt = None) -> None:
    """Trigger a run now."""
    _print(_call(api, "POST", f"/v1/schedules/{schedule_id}/run"))


@schedules_app.command()
def runs(schedule_id: str, api: ApiOpt = None) -> None:
    """Run history, newest first."""
    _print(_call(api, "GET", f"/v1/schedules/{schedule_id}/runs"))


@schedules_app.command()
def delete(schedule_id: str, api: ApiOpt = None) -> None:
    """Delete a schedule (its beat entry goes at once)."""
    _call(api, "DELETE", f"/v1/schedules/{schedule_id}")
    console.print(f"deleted {schedule_id}")
