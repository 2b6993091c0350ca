"""Shared fixtures: a private redis-server for the session, settings per test, a running local stack."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.client import LongdocClient
from service.config import ReportingSettings, Settings
from service.local_stack import LocalStack
from service.redis_conn import EmbeddedRedis

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_docs"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis() as server:
        yield server


@pytest.fixture()
def settings(redis_server: EmbeddedRedis, tmp_path: Path) -> Settings:
    """Settings isolated per test: own key prefix and storage folder, shared private Redis."""
    return Settings(
        redis_url=redis_server.url,
        storage_dir=tmp_path / "store",
        key_prefix=f"t{uuid.uuid4().hex[:8]}",
    )


@pytest.fixture(scope="session")
def stack(redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """API + one real Celery worker process on the private Redis, offline engine."""
    root = tmp_path_factory.mktemp("stack")
    settings = Settings(
        redis_url=redis_server.url,
        storage_dir=root / "store",
        key_prefix="e2e",
        reporting=ReportingSettings(
            webhook_allow_private=True
        ),  # the tests' webhook receivers are on loopback
    )
    with LocalStack(settings, worker_concurrency=2, log_path=root / "stack.log") as running:
        LongdocClient(running.api_url).wait_ready(60)
        yield running


@pytest.fixture()
def api(stack: LocalStack) -> Iterator[LongdocClient]:
    client = LongdocClient(stack.api_url)
    yield client
    client.close()
