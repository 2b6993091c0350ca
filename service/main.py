"""create_app(settings): the FastAPI application, with its services built from settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service.api.errors import install_error_handlers
from service.api.middleware import AuthMiddleware, BodyLimitMiddleware
from service.api.routes import admin, documents, health, jobs
from service.api.routes import collections as collection_routes
from service.api.routes import events as job_events
from service.api.routes import logs as log_routes
from service.api.routes import reports as report_routes
from service.api.routes import schedules as schedule_routes
from service.api.routes import webhooks as webhook_routes
from service.auth import AuthGate
from service.config import Settings
from service.pipeline import Services, build_services
from service.queue import JobQueue


def create_app(
    settings: Settings | None = None, services: Services | None = None, queue: JobQueue | None = None
) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = services or build_services(settings)
        app.state.queue = queue or JobQueue(settings)
        app.state.auth = AuthGate(settings, app.state.services.records.r)
        app.state.auth.warn_if_open()
        yield
        app.state.queue.close()

    app = FastAPI(
        title="longdoc",
        version="0.1.0",
        summary="Whole-document analysis with long-context models: upload, extract, pack, ask.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    # added last = outermost: the caller is known (and rate-limited) before any body is read
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.limits.max_json_body_bytes)
    app.add_middleware(AuthMiddleware)
    app.include_router(health.router)
    app.include_router(documents.router)
    app.include_router(jobs.router)
    app.include_router(admin.router)
    app.include_router(job_events.router)
    app.include_router(collection_routes.router)
    app.include_router(log_routes.router)
    app.include_router(schedule_routes.router)
    app.include_router(report_routes.router)
    app.include_router(webhook_routes.router)
    return app
