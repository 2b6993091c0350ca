"""The `longdoc` command: run the service (serve, worker, up), the offline demo, and API client commands."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from service.config import Settings
from service.keys_cli import keys_app
from service.reports.cli import report, reports_app
from service.schedules_cli import schedules_app

app = typer.Typer(
    help="longdoc: ask long-context models about whole documents and log archives.", no_args_is_help=True
)
console = Console()
app.add_typer(schedules_app, name="schedules")
app.add_typer(reports_app, name="reports")
app.command("report")(report)

app.add_typer(keys_app, name="keys")

DryRunOpt = Annotated[
    bool,
    typer.Option("--dry-run", help="Only show the prompt's token budget and estimated cost; run nothing."),
]
ApiOpt = Annotated[str | None, typer.Option("--api", help="API base URL (default: LONGDOC_API_BASE_URL).")]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Run the HTTP API (needs Redis: LONGDOC_REDIS_URL)."""
    import uvicorn

    from service.main import create_app

    uvicorn.run(create_app(Settings()), host=host, port=port, log_level="info")


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    queues: Annotated[
        str, typer.Option(help="Queues to consume.")
    ] = "longdoc.jobs,longdoc.extract,longdoc.webhooks",
) -> None:
    """Run a Celery worker for extraction and jobs (needs Redis: LONGDOC_REDIS_URL)."""
    from workers.celery_app import app as celery_app

    settings = Settings()
    celery_app.worker_main(
        [
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency or settings.worker.concurrency}",
            f"--queues={queues}",
            "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
        ]
    )


@app.command()
def beat() -> None:
    """Run Celery beat with the Redis-stored schedules (celery-redbeat); needs LONGDOC_REDIS_URL."""
    from workers.beat import main as beat_main

    beat_main()


@app.command()
def up(port: Annotated[int, typer.Option(help="API port.")] = 8000) -> None:
    """Run everything locally: Redis (embedded unless configured), one worker and the API."""
    from service.auth import local_settings
    from service.local_stack import LocalStack, wait_forever

    with LocalStack(local_settings(Settings()), port=port) as stack:
        console.print(f"longdoc API on [bold]{stack.api_url}[/] (Redis: {stack.redis_source}); Ctrl-C stops")
        try:
            wait_forever()
        except KeyboardInterrupt:
            console.print("stopping")


@app.command()
def demo(
    docs: Annotated[Path, typer.Option(help="Folder of documents to analyse.")] = Path("sample_docs"),
    as_json: Annotated[bool, typer.Option("--json", help="Print raw results as JSON.")] = False,
) -> None:
    """The main job, offline by default: upload sample_docs/, summarise the contract, ask the log."""
    from service.auth import local_settings
    from service.demo import run_demo

    sys.exit(run_demo(local_settings(Settings()), docs, console, as_json))


@app.command()
def upload(files: list[Path], api: ApiOpt = None, wait: bool = True) -> None:
    """Upload files; with --wait (default) until extracted."""
    client = _client(api)
    for path in files:
        doc = client.upload(path)
        if wait:
            doc = client.wait_document(doc["id"])
        console.print_json(json.dumps(doc))


@app.command()
def ask(
    question: str,
    doc: Annotated[list[str], typer.Option("--doc", "-d", help="Document id (repeatable).")],
    model: Annotated[str | None, typer.Option(help="Model id from the catalog.")] = None,
    api: ApiOpt = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Ask a question over documents and print the answer with citations."""
    _run_job({"type": "qa", "document_ids": doc, "question": question, "model": model}, api, dry_run)


@app.command()
def summarize(
    doc: Annotated[list[str], typer.Argument(help="Document ids.")],
    model: Annotated[str | None, typer.Option(help="Model id from the catalog.")] = None,
    api: ApiOpt = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Summarise documents and print the summary with citations."""
    _run_job({"type": "summarize", "document_ids": doc, "model": model}, api, dry_run)


@app.command()
def templates(
    doc_id: str,
    file: Annotated[str | None, typer.Option(help="Archives: only this member path.")] = None,
    limit: Annotated[int, typer.Option(help="Templates to show.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw answer as JSON.")] = False,
    api: ApiOpt = None,
) -> None:
    """A log's lines, time range, levels and event templates (no model involved)."""
    client = _client(api)
    params: dict[str, Any] = {"limit": limit, **({"file": file} if file else {})}
    body = client._json(client.http.get(f"/v1/documents/{doc_id}/templates", params=params))
    if as_json:
        console.print_json(json.dumps(body))
        return
    console.print(
        f"{body['lines']:,} lines, {body['events']:,} events, {body['first_ts']} .. {body['last_ts']}"
    )
    console.print("levels: " + ", ".join(f"{k} {v:,}" for k, v in sorted(body["levels"].items())))
    for t in body["templates"]:
        where = f"{t['file']}:" if t.get("file") else ""
        console.print(
            f"{t['count']:>9,}  {where}{t['first_line']}-{t['last_line']}  {t['pattern']}", markup=False
        )


@app.command()
def job(job_id: str, api: ApiOpt = None) -> None:
    """Show a job as JSON."""
    console.print_json(json.dumps(_client(api).job(job_id)))


@app.command()
def cancel(job_id: str, api: ApiOpt = None) -> None:
    """Cancel a queued or running job."""
    console.print_json(json.dumps(_client(api).cancel(job_id)))


def _client(api: str | None) -> Any:
    from service.client import LongdocClient

    settings = Settings()
    key = settings.auth.client_key
    return LongdocClient(api or settings.api_base_url, token=key.get_secret_value() if key else None)


def _run_job(spec: dict[str, Any], api: str | None, dry_run: bool = False) -> None:
    from service.render import print_job

    client = _client(api)
    spec = {k: v for k, v in spec.items() if v is not None}
    if dry_run:
        from service.render_dry_run import print_dry_run

        print_dry_run(console, client.submit({**spec, "dry_run": True}))
        return
    started = time.monotonic()
    from service.progress import follow_job

    result = follow_job(client, client.submit(spec)["id"], console)  # a progress bar fed by SSE
    print_job(console, result, time.monotonic() - started)
    if result["status"] != "succeeded":
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
