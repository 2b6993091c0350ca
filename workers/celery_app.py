"""The Celery worker app, configured from Settings (JSON only, acks_late, prefetch 1, time limits)."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.signals import worker_ready

from service.blobs import BlobStore
from service.config import Settings
from service.queue import make_celery

log = logging.getLogger("longdoc.worker")


def create_celery(settings: Settings) -> Celery:
    app = make_celery(settings, "longdoc")
    app.conf.update(include=["workers.tasks"])
    return app


@worker_ready.connect  # type: ignore[untyped-decorator]
def _clean_leftovers(**_: Any) -> None:
    """Partial uploads and ingests of processes killed mid-way would otherwise stay on disk for good."""
    settings = Settings()
    removed = BlobStore(settings.storage_dir).clean_tmp(older_than_s=2 * settings.limits.extract_timeout_s)
    if removed:
        log.info("removed %d stale temporary entries from the store", removed)


app = create_celery(Settings())
