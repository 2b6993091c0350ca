"""/v1/webhooks: the tenant's signing secret (read, rotate), the delivery log, and a test delivery."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from service import webhooks
from service.api.deps import ServicesDep, TenantDep

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
SCHEME = 't=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>'


class TestDelivery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://", max_length=2000)


def _secret_body(secret: str) -> dict[str, Any]:
    return {"secret": secret, "header": webhooks.SIGNATURE_HEADER, "scheme": SCHEME}


@router.get("/secret")
def get_webhook_secret(services: ServicesDep, tenant: TenantDep) -> dict[str, Any]:
    """The tenant's signing secret (created on first read)."""
    return _secret_body(webhooks.store_for(services.records).secret(tenant))


@router.post("/secret/rotate")
def rotate_webhook_secret(services: ServicesDep, tenant: TenantDep) -> dict[str, Any]:
    """Replace the secret; every delivery attempt from now on is signed with the new one."""
    return _secret_body(webhooks.store_for(services.records).rotate(tenant))


@router.get("/deliveries")
def list_webhook_deliveries(
    services: ServicesDep,
    tenant: TenantDep,
    event_id: str | None = Query(None, description="Only this event's attempts, e.g. job.finished:<job id>."),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    """Every delivery attempt, newest first: event, url, attempt, status_code or error, status."""
    items = webhooks.store_for(services.records).deliveries(tenant, event_id, limit)
    return {"items": items}


@router.post("/test")
def send_test_webhook(body: TestDelivery, services: ServicesDep, tenant: TenantDep) -> dict[str, Any]:
    """Send a signed webhook.test event to `url` now (one attempt) and return how it went."""
    return webhooks.send_test(services.settings, webhooks.store_for(services.records), tenant, body.url)
