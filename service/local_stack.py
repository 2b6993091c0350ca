"""Everything a laptop needs to run longdoc in one command: Redis (embedded unless configured and
reachable), one Celery worker process and the API on a loopback port. Used by `longdoc demo` and
`longdoc up`, and by the end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn

from service.config import Settings
from service.main import create_app
from service.redis_conn import EmbeddedRedis, free_port, reachable
from service.settings_env import PREFIX, to_env


class LocalStack:
    def __init__(
        self,
        settings: Settings,
        port: int | None = None,
        worker_concurrency: int = 2,
        log_path: Path | None = None,
    ):
        self.settings = settings
        self.port = port or free_port()
        self.worker_concurrency = worker_concurrency
        self.log_path = log_path
        self.embedded: EmbeddedRedis | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def redis_source(self) -> str:
        return "embedded" if self.embedded else "configured"

    def start(self) -> LocalStack:
        if not (self.settings.redis_url and reachable(self.settings.redis_url)):
            self.embedded = EmbeddedRedis().start()
            self.settings = self.settings.model_copy(update={"redis_url": self.embedded.url})
        self.settings = self.settings.model_copy(
            update={"storage_dir": Path(self.settings.storage_dir).resolve()}
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
        env.update(to_env(self.settings))
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker", "--concurrency", str(self.worker_concurrency)],
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        config = uvicorn.Config(
            create_app(self.settings), host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="longdoc-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(10)
        if self.worker is not None and self.worker.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.worker.pid, signal.SIGKILL)
                self.worker.wait()
        if self.embedded is not None:
            self.embedded.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def wait_forever() -> None:
    while True:
        time.sleep(3600)
