"""Real processes for the fault tests: `longdoc worker` subprocesses, the API in a thread, and polling.

A `WorkerProc` is `python -m service.cli worker --concurrency 1` in its own process group, configured only
through LONGDOC_* variables (`service.settings_env.to_env`), logging to a file. The tests kill its pool
child or the whole group with SIGKILL, and find which worker runs a job from the TCP connection its pool
child holds to the FakeLLM.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import psutil
import uvicorn

from service.config import Settings
from service.main import create_app
from service.redis_conn import free_port
from service.settings_env import PREFIX, to_env

T = TypeVar("T")


def wait_for(check: Callable[[], T | None], timeout_s: float, what: str, every_s: float = 0.05) -> T:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(every_s)


class WorkerProc:
    """One `longdoc worker --concurrency 1` process group."""

    def __init__(self, settings: Settings, log_path: Path, concurrency: int = 1):
        self.log_path = log_path
        env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
        env.update(to_env(settings))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker", "--concurrency", str(concurrency)],
            env=env,
            stdout=open(log_path, "ab"),  # noqa: SIM115 - the child owns the descriptor
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so the test can kill exactly it
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_ready(self, timeout_s: float = 30.0) -> WorkerProc:
        wait_for(
            lambda: " ready." in self.log() or self.process.poll() is not None, timeout_s, "worker ready"
        )
        assert self.process.poll() is None, f"worker exited early:\n{self.log()[-3000:]}"
        return self

    def children(self) -> list[psutil.Process]:
        try:
            return list(psutil.Process(self.pid).children())
        except psutil.NoSuchProcess:
            return []

    def child_connected_to(self, port: int) -> psutil.Process | None:
        """The pool child that holds an open TCP connection to `port` (i.e. is talking to the FakeLLM)."""
        for child in self.children():
            with contextlib.suppress(psutil.Error):
                for conn in child.net_connections(kind="tcp"):
                    if conn.raddr and conn.raddr.port == port and conn.status == psutil.CONN_ESTABLISHED:
                        return child
        return None

    def kill_child(self, child: psutil.Process) -> None:
        """SIGKILL one pool child: the main process sees WorkerLostError."""
        child.send_signal(signal.SIGKILL)
        child.wait(10)

    def kill_group(self) -> None:
        """SIGKILL the main process and its children at once: nobody is left to requeue anything."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(10)

    def terminate(self) -> None:
        """Ask for a warm shutdown (SIGTERM to the group), without waiting."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)

    def stop(self) -> None:
        """Warm shutdown, then SIGKILL to whatever is left of the group."""
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill_group()
        with contextlib.suppress(ProcessLookupError):  # orphaned pool children, if any
            os.killpg(self.pid, signal.SIGKILL)


@contextlib.contextmanager
def workers(settings: Settings, log_dir: Path, count: int = 1) -> Iterator[list[WorkerProc]]:
    """`count` ready workers, stopped (and their groups killed) at the end whatever happens."""
    procs: list[WorkerProc] = []
    try:
        procs = [WorkerProc(settings, log_dir / f"worker{i}.log") for i in range(count)]
        for proc in procs:
            proc.wait_ready()
        yield procs
    finally:
        for proc in procs:  # all at once: each warm shutdown takes a moment
            proc.terminate()
        for proc in procs:
            proc.stop()


class ApiThread:
    """The real API app (create_app) served by uvicorn on a loopback port in a daemon thread."""

    def __init__(self, settings: Settings):
        self.port = free_port()
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="api", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ApiThread:
        self.thread.start()
        wait_for(lambda: self.server.started, 15, "API started")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
