"""deploy/: what can be checked without a Docker engine."""

from __future__ import annotations

import pytest
import yaml

from service.config import Settings
from service.settings_env import env_example
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def test_compose_file_parses_and_runs_the_documented_roles() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"redis", "api", "worker", "beat"} <= set(services)
    assert services["api"]["command"][:2] == ["longdoc", "serve"]
    assert services["worker"]["command"][:2] == ["longdoc", "worker"]
    for role in ("api", "worker", "beat"):
        assert services[role]["environment"]["LONGDOC_REDIS_URL"].startswith("redis://redis:")
    assert services["api"]["environment"].get("LONGDOC_AUTH__MODE") == "keys"
    assert "redis.conf" in " ".join(services["redis"]["command"])


def test_redis_config_persists_and_never_evicts() -> None:
    conf = dict(
        line.split(None, 1)
        for line in (DEPLOY / "redis.conf").read_text().splitlines()
        if line and line[0] != "#"
    )
    assert conf["appendonly"] == "yes" and conf["appendfsync"] == "everysec"
    assert conf["maxmemory-policy"] == "noeviction"


def test_env_example_lists_every_setting_with_its_default_and_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (DEPLOY / "env.example").read_text()
    assert text == env_example(), "regenerate: python -m service.settings_env > deploy/env.example"
    defaults = Settings().model_dump()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            if value:
                monkeypatch.setenv(key, value)
    assert Settings().model_dump() == defaults  # every listed value parses and is the default


def test_dockerfile_installs_the_project_and_runs_as_non_root() -> None:
    docker = (DEPLOY / "Dockerfile").read_text()
    assert "pip install" in docker and "USER longdoc" in docker and "longdoc" in docker.split("CMD", 1)[1]
