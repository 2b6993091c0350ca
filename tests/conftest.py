"""Shared fixtures: a private redis-server for the session, settings per test, a running local stack."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.config import Settings
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
