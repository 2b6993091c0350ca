"""The one interface every engine implements, and the hooks a running job gives it."""

from __future__ import annotations

from typing import Protocol

from service.models import EngineOutput, JobSpec, PackedPrompt


class RunHooks(Protocol):
    """Callbacks from an engine to the job that runs it."""

    def progress(self, stage: str, percent: float, output_tokens: int = 0) -> None:
        """Report progress; `output_tokens` is the count generated so far."""

    def cancelled(self) -> bool:
        """True once the job was cancelled: stop work (and close any stream) promptly."""


class NullHooks:
    """Hooks that record nothing and never cancel (tests, one-off calls)."""

    def progress(self, stage: str, percent: float, output_tokens: int = 0) -> None:
        return None

    def cancelled(self) -> bool:
        return False


class Engine(Protocol):
    name: str

    def run(self, prompt: PackedPrompt, spec: JobSpec, hooks: RunHooks) -> EngineOutput:
        """Answer the packed prompt. Raises `service.errors` types on failure, `JobCancelled` on cancel."""
        ...
