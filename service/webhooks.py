"""Signed webhooks: per-tenant secrets, event payloads, one delivery attempt, and the delivery log.

A delivery is a JSON POST signed with the tenant's secret:

    X-Longdoc-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>
    X-Longdoc-Event: job.finished | schedule.run.finished | webhook.test
    X-Longdoc-Delivery: <event id, the same on every retry of one event>

Receivers recompute the HMAC over the raw body, compare in constant time and refuse old timestamps
(`verify` does all three). Redirects are never followed (a 3xx is a failed attempt) and the response
body is never read. Retries are the Celery task's (workers/tasks.py): exponential backoff with jitter,
at most `reporting.webhook_max_attempts` attempts. Every attempt is logged in Redis per tenant.

<p>:webhook:secret:<tenant>      the tenant's signing secret (created on first use, rotatable)
<p>:webhook:event:<event id>     SET NX guard: one event is enqueued once (job redeliveries, two sweeps)
<p>:webhook:deliveries:<tenant>  list of attempt records, newest first (MAX_LOG kept)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import secrets
import time
import uuid
from typing import Any

import httpx
import redis
from celery import Celery

from service import egress
from service.config import Settings
from service.models import TERMINAL_JOB_STATUSES, JobState, utcnow

log = logging.getLogger("longdoc.webhooks")

WEBHOOK_TASK = "longdoc.webhook"
WEBHOOK_QUEUE = "longdoc.webhooks"
SIGNATURE_HEADER = "X-Longdoc-Signature"
MAX_LOG = 1000
SIGNATURE_TOLERANCE_S = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The X-Longdoc-Signature value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(
    secret: str, header: str, body: bytes, now: float | None = None, tolerance_s: int = SIGNATURE_TOLERANCE_S
) -> bool:
    """What a receiver does: the signature matches the raw body and the timestamp is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()


class WebhookStore:
    def __init__(self, client: redis.Redis, prefix: str, ttl_s: int):
        self.r, self.p, self.ttl = client, prefix, ttl_s

    def secret(self, tenant: str) -> str:
        """The tenant's signing secret, created on first use."""
        key = f"{self.p}:webhook:secret:{tenant}"
        self.r.set(key, f"whsec_{secrets.token_hex(32)}", nx=True)
        return str(self.r.get(key))

    def rotate(self, tenant: str) -> str:
        """A new secret; deliveries from now on are signed with it."""
        value = f"whsec_{secrets.token_hex(32)}"
        self.r.set(f"{self.p}:webhook:secret:{tenant}", value)
        return value

    def claim(self, event_id: str) -> bool:
        """True once per event id: later callers (a redelivered job, a second sweep) enqueue nothing."""
        return bool(self.r.set(f"{self.p}:webhook:event:{event_id}", "1", nx=True, ex=self.ttl))

    def release(self, event_id: str) -> None:
        self.r.delete(f"{self.p}:webhook:event:{event_id}")

    def record(self, tenant: str, entry: dict[str, Any]) -> None:
        key = f"{self.p}:webhook:deliveries:{tenant}"
        pipe = self.r.pipeline()
        pipe.lpush(key, json.dumps(entry, default=str))
        pipe.ltrim(key, 0, MAX_LOG - 1)
        pipe.expire(key, self.ttl)
        pipe.execute()

    def deliveries(self, tenant: str, event_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Attempt records, newest first; only one event's when `event_id` is given."""
        raws = self.r.lrange(f"{self.p}:webhook:deliveries:{tenant}", 0, MAX_LOG - 1)
        entries = [json.loads(raw) for raw in raws]
        if event_id is not None:
            entries = [e for e in entries if e.get("event_id") == event_id]
        return entries[:limit]


# ---------------------------------------------------------------- events


def job_event(job: JobState, report_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event": "job.finished",
        "event_id": f"job.finished:{job.id}",
        "job_id": job.id,
        "status": job.status,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "error": job.error.model_dump() if job.error else None,
        "links": {"job": f"/v1/jobs/{job.id}"},
    }
    if report_id:
        body["report_id"] = report_id
        body["links"]["report"] = f"/v1/reports/{report_id}"
    return body


def ping_event() -> dict[str, Any]:
    return {
        "event": "webhook.test",
        "event_id": f"webhook.test:{uuid.uuid4().hex}",
        "sent_at": utcnow().isoformat(),
    }


def store_for(records: Any) -> WebhookStore:
    """The webhook store on the records' Redis connection and key prefix."""
    return WebhookStore(records.r, records.p, records.ttl)


def enqueue(app: Celery, store: WebhookStore, tenant: str, url: str, payload: dict[str, Any]) -> bool:
    """Hand one event to the webhook task, once per event id. False when it was enqueued before."""
    event_id = str(payload["event_id"])
    if not store.claim(event_id):
        return False
    try:
        app.send_task(WEBHOOK_TASK, args=[tenant, url, payload], queue=WEBHOOK_QUEUE)
    except Exception:  # broker away: let a later caller (redelivery, next sweep) try again
        store.release(event_id)
        raise
    return True


def notify_job_finished(app: Celery, records: Any, job: JobState) -> None:
    """A finished job with a callback_url gets its job.finished event, once per job however many callers
    (the worker when the job ends, the API when it cancels a queued job) ask (see `enqueue`)."""
    from service.reports.store import ReportStore  # reports import jobs; this is only needed here

    url = job.spec.callback_url
    if not url or job.status not in TERMINAL_JOB_STATUSES:
        return
    report_id = ReportStore(records).for_job(job.id)
    try:
        enqueue(app, store_for(records), job.tenant, url, job_event(job, report_id))
    except Exception:  # the job is done either way; a lost notification must not fail anything
        log.exception("job %s: its webhook could not be enqueued", job.id)


# ---------------------------------------------------------------- delivery


def backoff_s(settings: Settings, attempt: int) -> float:
    """Delay before attempt `attempt + 1`: doubling from webhook_backoff_s, capped, half of it jittered."""
    rep = settings.reporting
    delay = min(rep.webhook_backoff_max_s, rep.webhook_backoff_s * 2 ** (attempt - 1))
    return float(delay / 2 + random.uniform(0, delay / 2))


def post_once(
    settings: Settings, secret: str, url: str, payload: dict[str, Any], attempt: int
) -> dict[str, Any]:
    """One signed POST. Returns the attempt record (not yet stored): ok, status code or error, timing."""
    body = encode(payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "longdoc-webhooks/1",
        SIGNATURE_HEADER: sign(secret, body, int(time.time())),
        "X-Longdoc-Event": str(payload["event"]),
        "X-Longdoc-Delivery": str(payload["event_id"]),
        "X-Longdoc-Attempt": str(attempt),
    }
    entry: dict[str, Any] = {
        "id": f"dlv_{uuid.uuid4().hex[:16]}",
        "event_id": payload["event_id"],
        "event": payload["event"],
        "url": url,
        "attempt": attempt,
        "at": utcnow().isoformat(),
        "status_code": None,
        "error": None,
    }
    started = time.monotonic()
    timeout = settings.reporting.webhook_timeout_s
    try:
        egress.check_delivery(url, settings.reporting.webhook_allow_private)
    except egress.ForbiddenDestination as exc:
        entry.update(error=exc.message, forbidden=True, ok=False, duration_ms=0.0)
        return entry
    except OSError as exc:  # the name does not resolve (now): a retry may do better
        entry.update(error=f"cannot resolve the webhook host: {exc}"[:300], ok=False, duration_ms=0.0)
        return entry
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream("POST", url, content=body, headers=headers) as response,
        ):
            entry["status_code"] = response.status_code  # the body is never read
    except httpx.HTTPError as exc:
        entry["error"] = f"{type(exc).__name__}: {exc}"[:300]
    entry["duration_ms"] = round(1000 * (time.monotonic() - started), 1)
    code = entry["status_code"]
    entry["ok"] = code is not None and 200 <= code < 300
    if code is not None and not entry["ok"]:
        entry["error"] = f"HTTP {code}" + (" (redirects are not followed)" if 300 <= code < 400 else "")
    return entry


def attempt(
    settings: Settings, store: WebhookStore, tenant: str, url: str, payload: dict[str, Any], number: int
) -> dict[str, Any]:
    """Attempt `number` of one event, logged with its outcome and, on failure, whether it is retried."""
    entry = post_once(settings, store.secret(tenant), url, payload, number)
    final = entry["ok"] or entry.get("forbidden", False) or number >= settings.reporting.webhook_max_attempts
    entry["status"] = "delivered" if entry["ok"] else ("failed" if final else "retrying")
    if not final:
        entry["retry_in_s"] = round(backoff_s(settings, number), 2)
    store.record(tenant, entry)
    log.info("webhook %s attempt %d to %s: %s", payload["event_id"], number, url, entry["status"])
    return entry


def send_test(settings: Settings, store: WebhookStore, tenant: str, url: str) -> dict[str, Any]:
    """One signed webhook.test delivery, at once and without retries; logged like any attempt."""
    egress.check_submitted(url, settings.reporting.webhook_allow_private)  # 400 before any attempt
    entry = post_once(settings, store.secret(tenant), url, ping_event(), 1)
    entry["status"] = "delivered" if entry["ok"] else "failed"
    store.record(tenant, entry)
    return entry
