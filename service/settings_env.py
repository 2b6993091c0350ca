"""Settings <-> LONGDOC_* environment variables: for child processes and the documented env example."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic_core import to_json

from service.config import Settings

PREFIX = "LONGDOC_"


def _flatten(model: BaseModel, prefix: str) -> list[tuple[str, Any, str]]:
    rows: list[tuple[str, Any, str]] = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        key = f"{prefix}{name.upper()}"
        if isinstance(value, BaseModel):
            rows.extend(_flatten(value, key + "__"))
        else:
            rows.append((key, value, field.description or ""))
    return rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict | list):  # e.g. tenants.overrides: pydantic-settings reads these as JSON
        return to_json(value, exclude_none=True).decode()
    return str(value)


def to_env(settings: Settings) -> dict[str, str]:
    """Every set value as LONGDOC_* variables (secrets included: for child processes only)."""
    return {key: _text(value) for key, value, _ in _flatten(settings, PREFIX) if value is not None}


def env_example() -> str:
    """The documented list of every setting with its default (deploy/env.example)."""
    lines = ["# longdoc settings: every variable with its default. Empty means unset.", ""]
    for key, value, description in _flatten(Settings.model_construct(), PREFIX):
        if description:
            lines.append(f"# {description}")
        shown = "" if isinstance(value, SecretStr) else _text(value)
        lines.append(f"{key}={shown}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(env_example(), end="")
