"""The Celery worker app, configured from Settings (JSON only, acks_late, prefetch 1, time limits)."""

from __future__ import annotations

from celery import Celery

from service.config import Settings
from service.queue import make_celery


def create_celery(settings: Settings) -> Celery:
    app = make_celery(settings, "longdoc")
    app.conf.update(include=["workers.tasks"])
    return app


app = create_celery(Settings())
