"""Cancellation and progress for one offline run: the only place that talks to `RunHooks`."""

from __future__ import annotations

from service.errors import JobCancelled
from service.llm.base import RunHooks


class Guard:
    """Checks for cancellation cheaply inside hot loops and reports progress between stages."""

    def __init__(self, hooks: RunHooks, every: int = 2000) -> None:
        self._hooks = hooks
        self._every = every
        self._count = 0

    def check(self) -> None:
        """Raise `JobCancelled` if the job was cancelled."""
        if self._hooks.cancelled():
            raise JobCancelled("Job cancelled during offline analysis")

    def tick(self) -> None:
        """Call once per loop item: looks at the hooks only every `every` items."""
        self._count += 1
        if self._count >= self._every:
            self._count = 0
            self.check()

    def progress(self, percent: float) -> None:
        self.check()
        self._hooks.progress("generating", round(min(max(percent, 0.0), 100.0), 1))
