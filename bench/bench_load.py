"""Sustained load: N concurrent clients uploading small documents, polling, reading and running jobs.

Run: .venv/bin/python bench/bench_load.py [--clients 8] [--duration 60] [--workers 2] [--job-every 2]

Starts an embedded Redis, `longdoc serve` and `longdoc worker` as separate processes (offline engine).
Each client thread loops until the deadline: upload a small unique log (so every upload is extracted),
poll GET /v1/documents/{id} until ready (backing off from 50 ms to 1 s like the CLI's client), every --job-every-th round submit a summarize job and poll
GET /v1/jobs/{id} until it succeeds, read 20 lines of text, list documents, delete the document.
Reported per endpoint: requests, errors (any non-2xx, transport error, failed extraction or job; must
be 0), p50/p95/p99/max latency; plus the end-to-end upload->ready and submit->succeeded times. The
clients share this process (and its GIL) and all processes share the machine's cores.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import docgen  # noqa: E402
from bench._common import Stack, banner, percentile, print_table, run_main, temp_dir  # noqa: E402

POLL_MAX_S = 1.0


@dataclass
class Stats:
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)

    def merge(self, other: Stats) -> None:
        for key, values in other.latency.items():
            self.latency[key].extend(values)
        for key, count in other.errors.items():
            self.errors[key] += count
        self.samples.extend(other.samples)


class Stop(Exception):
    """The deadline passed while waiting: the round ends without counting an error."""


class LoadClient:
    """One simulated user with its own connection pool."""

    def __init__(self, url: str, n: int, deadline: float, job_every: int, lines: list[str]):
        self.http = httpx.Client(base_url=url, timeout=30)
        self.n = n
        self.deadline = deadline
        self.job_every = job_every
        self.lines = lines
        self.stats = Stats()
        self.rng = random.Random(n)

    def call(self, endpoint: str, method: str, path: str, **kwargs: Any) -> dict[str, Any] | None:
        start = time.perf_counter()
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            self._error(endpoint, f"{type(exc).__name__}: {exc}")
            return None
        self.stats.latency[endpoint].append((time.perf_counter() - start) * 1000)
        if response.status_code >= 300:
            self._error(endpoint, f"{response.status_code} {response.text[:200]}")
            return None
        return response.json() if response.content else {}

    def _error(self, endpoint: str, message: str) -> None:
        self.stats.errors[endpoint] += 1
        if len(self.stats.samples) < 5:
            self.stats.samples.append(f"{endpoint}: {message}")

    def poll(self, endpoint: str, path: str, done: set[str]) -> dict[str, Any] | None:
        """Poll like `LongdocClient` does: 50 ms, growing by half each time, at most POLL_MAX_S."""
        delay = 0.05
        while True:
            body = self.call(endpoint, "GET", path)
            if body is None or body.get("status") in done:
                return body
            if time.monotonic() > self.deadline:
                raise Stop
            time.sleep(delay)
            delay = min(delay * 1.5, POLL_MAX_S)

    def round(self, number: int) -> None:
        start = self.rng.randrange(len(self.lines) - 60)
        text = f"client {self.n} round {number} {time.time_ns()}\n" + "".join(self.lines[start : start + 40])
        files = {"file": (f"c{self.n}-{number}.log", text.encode(), "text/plain")}
        began = time.perf_counter()
        doc = self.call("POST /v1/documents", "POST", "/v1/documents", files=files)
        if doc is None:
            return
        ready = self.poll("GET /v1/documents/{id}", f"/v1/documents/{doc['id']}", {"ready", "failed"})
        if ready is None or ready["status"] != "ready":
            self._error("extraction", f"document ended {ready and ready['status']}")
            return
        self.stats.latency["upload -> ready"].append((time.perf_counter() - began) * 1000)
        if number % self.job_every == 0:
            self.job(doc["id"])
        self.call(
            "GET /v1/documents/{id}/text", "GET", f"/v1/documents/{doc['id']}/text?line_start=1&line_end=20"
        )
        self.call("GET /v1/documents", "GET", "/v1/documents?limit=20")
        self.call("DELETE /v1/documents/{id}", "DELETE", f"/v1/documents/{doc['id']}")

    def job(self, doc_id: str) -> None:
        began = time.perf_counter()
        spec = {"type": "summarize", "document_ids": [doc_id], "model": "offline"}
        job = self.call("POST /v1/jobs", "POST", "/v1/jobs", json=spec)
        if job is None:
            return
        done = self.poll("GET /v1/jobs/{id}", f"/v1/jobs/{job['id']}", {"succeeded", "failed", "cancelled"})
        if done is None or done["status"] != "succeeded":
            self._error("job", f"job ended {done and done['status']}: {done and done.get('error')}")
            return
        self.stats.latency["job submit -> succeeded"].append((time.perf_counter() - began) * 1000)

    def run(self) -> None:
        number = 0
        try:
            while time.monotonic() < self.deadline:
                number += 1
                self.round(number)
        except Stop:
            pass
        except Exception as exc:  # a crashed client must show up as an error, not vanish with its thread
            self._error("client crash", repr(exc))
        finally:
            self.http.close()


def report(stats: Stats, duration: float) -> int:
    rows: list[list[Any]] = []
    total_requests = total_errors = 0
    for endpoint in sorted(stats.latency, key=lambda k: (" -> " in k, k)):
        values = stats.latency[endpoint]
        errors = stats.errors.get(endpoint, 0)
        if " -> " not in endpoint:
            total_requests += len(values) + errors
        total_errors += errors
        pcts = [percentile(values, p) for p in (50, 95, 99)]
        rows.append([endpoint, len(values) + errors, errors, *pcts, max(values, default=float("nan"))])
    for name in ("extraction", "job", "client crash"):
        total_errors += stats.errors.get(name, 0)
        rows.append(
            [f"{name} failures", stats.errors.get(name, 0), stats.errors.get(name, 0), "-", "-", "-", "-"]
        )
    print_table(["endpoint", "count", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows)
    print(
        f"{total_requests:,} requests in {duration:.0f} s ({total_requests / duration:.1f}/s), {total_errors} errors"
    )
    for sample in stats.samples:
        print(f"  error sample: {sample}")
    return total_errors


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--workers", type=int, default=2, help="worker concurrency")
    parser.add_argument("--job-every", type=int, default=2, help="submit a job every Nth round")
    args = parser.parse_args()
    banner(f"bench_load: {args.clients} clients for {args.duration:.0f} s, worker concurrency {args.workers}")
    lines = list(_take(docgen.log_lines(11), 5000))
    with temp_dir("longdoc-bench-load-") as root, Stack(root, workers=args.workers) as stack:
        deadline = time.monotonic() + args.duration
        clients = [LoadClient(stack.url, n, deadline, args.job_every, lines) for n in range(args.clients)]
        threads = [threading.Thread(target=c.run, name=f"client-{c.n}", daemon=True) for c in clients]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        duration = time.monotonic() - started
    stats = Stats()
    for client in clients:
        stats.merge(client.stats)
    if report(stats, duration):
        raise SystemExit(1)


def _take(lines: Any, count: int) -> list[str]:
    return [line for _, line in zip(range(count), lines, strict=False)]


if __name__ == "__main__":
    run_main(main)
