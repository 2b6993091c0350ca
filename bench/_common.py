"""Shared helpers of the benchmark scripts: tables, percentiles, peak memory, temp dirs, a service stack
run as separate processes (so its memory can be read from /proc), and clean shutdown on Ctrl-C/SIGTERM.

Every script runs as `.venv/bin/python bench/<name>.py`; `setup_path()` puts the repository root on
sys.path so `bench.*` and `tests.*` (FakeLLM, document generators) import either way.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


def setup_path() -> None:
    """Make `bench` and `tests` importable when a script is run by path."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def raise_on_sigterm() -> None:
    """Turn SIGTERM (and SIGINT, even when a non-interactive shell started us with it ignored) into
    KeyboardInterrupt, so `finally` blocks stop the processes and remove the temp files either way."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def run_main(main: Callable[[], None]) -> None:
    """Run a script's main; an interrupt exits with 130 after the cleanup, without a traceback."""
    raise_on_sigterm()
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted; processes stopped and temp files removed", file=sys.stderr)
        raise SystemExit(130) from None


def banner(title: str) -> None:
    """One header line with what and where, so pasted results carry their context."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    # The load average says whether other work shared the cores (the numbers are only comparable when low).
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"## {title}  ({stamp}, {os.cpu_count()} cores, load {load}, Python {sys.version.split()[0]})")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A Markdown table, columns padded; floats get up to 3 significant decimals."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for raw, row in zip(rows, cells, strict=True):
        # Numbers right-aligned, labels left-aligned.
        padded = [
            c.ljust(w) if isinstance(v, str) else c.rjust(w) for v, c, w in zip(raw, row, widths, strict=True)
        ]
        print("| " + " | ".join(padded) + " |")
    print()


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}" if value < 1 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100); nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def vm_hwm_mb(pid: int) -> float:
    """Peak resident set (VmHWM) of a live process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def vm_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


@contextlib.contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    """A temporary directory removed on exit, Ctrl-C included."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run_json(args: Sequence[str], timeout_s: float) -> dict[str, Any]:
    """Run a child that prints one JSON object as its last stdout line; kill it if we are interrupted."""
    proc = subprocess.Popen(
        list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout_s)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"{args[1:]} failed ({proc.returncode}): {err.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


class Stack:
    """Embedded Redis + the API (`longdoc serve`) + optionally a worker, each its own process group.

    Unlike `LocalStack` (API in a thread of the caller) the API runs in its own process, so its peak RSS
    can be read from /proc and the client's work does not share its GIL.
    """

    def __init__(self, root: Path, workers: int = 0, env: dict[str, str] | None = None):
        self.root = root
        self.workers = workers
        self.extra_env = env or {}
        self.api: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.redis: Any = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def storage_dir(self) -> Path:
        return self.root / "store"

    def start(self) -> Stack:
        from service.redis_conn import EmbeddedRedis, free_port

        self.redis = EmbeddedRedis(data_dir=self.root / "redis").start()
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LONGDOC_")}
        env.update(
            LONGDOC_REDIS_URL=self.redis.url,
            LONGDOC_STORAGE_DIR=str(self.storage_dir),
            LONGDOC_KEY_PREFIX="bench",
            PYTHONPATH=str(ROOT),
        )
        env.update(self.extra_env)
        log = open(self.root / "stack.log", "ab")  # noqa: SIM115 - inherited by the children, closed below
        try:
            serve = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
            self.api = self._spawn(serve, env, log)
            if self.workers:
                self.worker = self._spawn(["worker", "--concurrency", str(self.workers)], env, log)
        finally:
            log.close()
        self._wait_ready(60)
        return self

    @staticmethod
    def _spawn(args: list[str], env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "service.cli", *args],
            env=env,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches only us; we stop the group ourselves
        )

    def _wait_ready(self, timeout_s: float) -> None:
        path = "/readyz" if self.workers else "/healthz"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for proc in (self.api, self.worker):
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"a stack process exited; see {self.root / 'stack.log'}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + path, timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"stack not ready after {timeout_s:.0f} s; see {self.root / 'stack.log'}")

    def stop(self) -> None:
        for proc in (self.api, self.worker):
            if proc is not None:
                _stop_group(proc)
        if self.redis is not None:
            self.redis.stop()

    def __enter__(self) -> Stack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # Celery's prefork children may outlive the parent for a moment: clear the whole group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
