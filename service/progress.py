"""A terminal progress bar for one job, driven by its Server-Sent Events stream (no polling).

If the stream cannot be opened or breaks (an old server, a proxy that buffers), it falls back to
polling the job, so the command still finishes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from service.client import LongdocClient


def parse_sse(lines: Iterable[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, data) per SSE message; comments (keep-alives) are skipped."""
    event, data = "message", ""
    for line in lines:
        if line.startswith(":"):
            continue
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif line == "" and data:
            yield event, json.loads(data)
            event, data = "message", ""


def job_events(client: LongdocClient, job_id: str, read_timeout_s: float = 60.0) -> Iterator[dict[str, Any]]:
    """Each event of the job until its terminal `done` event (the server ends the stream there)."""
    timeout = httpx.Timeout(10.0, read=read_timeout_s)  # > the server's heartbeat interval
    with client.http.stream("GET", f"/v1/jobs/{job_id}/events", timeout=timeout) as response:
        if response.status_code != 200:
            response.read()
            client._json(response)  # raises ApiError with the server's code
        for _, data in parse_sse(response.iter_lines()):
            yield data


def _describe(view: dict[str, Any]) -> str:
    tokens = view.get("output_tokens") or 0
    text = f"{view.get('status')} · {view.get('stage')}"
    return f"{text} · {tokens:,} tokens out" if tokens else text


def follow_job(client: LongdocClient, job_id: str, console: Console) -> dict[str, Any]:
    """Show a progress bar until the job ends; return the finished job as the API describes it."""
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"))
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
        task: TaskID = bar.add_task("queued", total=100.0)
        try:
            for view in job_events(client, job_id):
                bar.update(task, completed=float(view.get("percent") or 0.0), description=_describe(view))
        except httpx.HTTPError:
            pass  # fall back to polling below

        def show(body: dict[str, Any]) -> None:
            p = body.get("progress") or {}
            bar.update(task, completed=float(p.get("percent") or 0.0), description=str(body.get("status")))

        return client.wait_job(job_id, on_poll=show)
