"""Short dependency aliases for the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.pipeline import Services
from service.queue import JobQueue


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.queue
    return queue


def get_tenant() -> str:
    return "default"


ServicesDep = Annotated[Services, Depends(get_services)]
QueueDep = Annotated[JobQueue, Depends(get_queue)]
TenantDep = Annotated[str, Depends(get_tenant)]
