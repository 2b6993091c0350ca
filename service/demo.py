"""`longdoc demo`: the whole pipeline on sample_docs/, through the real API, worker and Redis."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from service.client import ApiError, LongdocClient
from service.config import Settings
from service.local_stack import LocalStack
from service.render import documents_table, print_job

SUPPORTED = {".pdf", ".docx", ".log", ".txt", ".md", ".csv", ".json", ".gz"}
LOG_QUESTION = "What errors occurred and when did they start?"


def _jobs_for(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A summary of the contract (PDF, else DOCX) and the error question over each log."""
    ready = [d for d in docs if d["status"] == "ready"]
    contract = next((d for d in ready if d["kind"] == "pdf"), None) or next(
        (d for d in ready if d["kind"] == "docx"), None
    )
    jobs: list[dict[str, Any]] = []
    if contract:
        jobs.append({"type": "summarize", "document_ids": [contract["id"]]})
    for log in (d for d in ready if d["kind"] == "log"):
        jobs.append({"type": "qa", "document_ids": [log["id"]], "question": LOG_QUESTION})
    return jobs


def run_demo(settings: Settings, folder: Path, console: Console, as_json: bool = False) -> int:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUPPORTED) if folder.is_dir() else []
    if not files:
        console.print(f"[red]no documents in {folder}[/] (run from the project root, or pass --docs)")
        return 2
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="longdoc-demo-"))
    if "storage_dir" not in settings.model_fields_set:
        settings = settings.model_copy(update={"storage_dir": scratch / "store"})
    engine = "offline engine (no model provider configured)" if not settings.online else "configured model"
    with LocalStack(settings, log_path=scratch / "stack.log") as stack:
        console.print(f"[bold]longdoc demo[/] · Redis: {stack.redis_source} · {engine} · logs: {scratch}")
        client = LongdocClient(stack.api_url)
        client.wait_ready(90)
        docs = []
        for path in files:
            try:
                docs.append(client.wait_document(client.upload(path)["id"]))
            except ApiError as exc:
                console.print(f"[yellow]{path.name}: {exc}[/]")
        console.print(documents_table(docs))
        failures = 0
        results = []
        for spec in _jobs_for(docs):
            job = client.wait_job(client.submit(spec)["id"], timeout_s=600)
            results.append(job)
            failures += job["status"] != "succeeded"
            if not as_json:
                print_job(console, job)
        if as_json:
            console.print_json(json.dumps(results))
    console.print(
        f"[bold]done[/] in {time.monotonic() - started:.1f} s · {len(results)} jobs · {failures} failed"
    )
    return 1 if failures or not results else 0
