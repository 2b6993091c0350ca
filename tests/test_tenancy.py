"""Tenants kept apart, per-tenant limits and usage accounting, against a real Redis (no worker needed:
jobs are queued on a Redis db no worker consumes and stay queued)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from service import auth, tenants, usage
from service.config import AuthSettings, Settings, TenantLimitOverride, TenantSettings
from service.errors import TooManyRequests
from service.main import create_app
from service.models import JobResult, JobSpec, JobState, Usage
from service.records import Records
from service.redis_conn import connect


def _strict(settings: Settings, **overrides: TenantLimitOverride) -> Settings:
    """Keys required, per-tenant overrides, and a Redis db no worker consumes."""
    assert settings.redis_url
    return settings.model_copy(
        update={
            "redis_url": settings.redis_url.rsplit("/", 1)[0] + "/6",
            "auth": AuthSettings(mode="keys"),
            "tenants": TenantSettings(overrides=overrides),
        }
    )


class Tenant:
    """A TestClient speaking with one tenant's key."""

    def __init__(self, client: TestClient, token: str):
        self.c, self.h = client, {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **kw: Any) -> Any:
        return self.c.get(path, headers=self.h, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.c.post(path, headers=self.h, **kw)

    def delete(self, path: str) -> Any:
        return self.c.delete(path, headers=self.h)

    def upload(self, data: bytes, name: str = "notes.txt") -> Any:
        return self.post("/v1/documents", files={"file": (name, data)})

    def qa(self, doc_id: str) -> Any:
        return self.post("/v1/jobs", json={"type": "qa", "document_ids": [doc_id], "question": "what?"})


def _pair(settings: Settings) -> Iterator[tuple[Tenant, Tenant, Settings]]:
    r = connect(settings.effective_redis_url())
    _, a = auth.create_key(r, settings.key_prefix, "acme")
    _, b = auth.create_key(r, settings.key_prefix, "globex")
    with TestClient(create_app(settings)) as client:
        yield Tenant(client, a), Tenant(client, b), settings


@pytest.fixture()
def pair(settings: Settings) -> Iterator[tuple[Tenant, Tenant, Settings]]:
    yield from _pair(_strict(settings))


@pytest.fixture()
def tight(settings: Settings) -> Iterator[tuple[Tenant, Tenant, Settings]]:
    """acme has tight limits; globex keeps the defaults."""
    limits = TenantLimitOverride(
        max_concurrent_jobs=1, max_stored_bytes=1500, max_upload_bytes=1200, requests_per_minute=30
    )
    yield from _pair(_strict(settings, acme=limits))


def _same_error(foreign: Any, unknown: Any, foreign_id: str, unknown_id: str) -> None:
    """A foreign id answers exactly like an unknown one (status, code, message shape)."""
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == _swap(unknown.json(), unknown_id, foreign_id)


def _swap(body: Any, old: str, new: str) -> Any:
    import json

    return json.loads(json.dumps(body).replace(old, new))


def test_another_tenants_ids_answer_404_like_unknown_ids(pair: tuple[Tenant, Tenant, Settings]) -> None:
    acme, globex, _ = pair
    doc = acme.upload(b"acme secret plans\n").json()["id"]
    job = acme.qa(doc)
    assert job.status_code == 202, job.text
    job_id = job.json()["id"]
    for path in (f"/v1/documents/{doc}", f"/v1/documents/{doc}/text"):
        _same_error(globex.get(path), globex.get(path.replace(doc, "doc_unknown0")), doc, "doc_unknown0")
    _same_error(
        globex.delete(f"/v1/documents/{doc}"),
        globex.delete("/v1/documents/doc_unknown0"),
        doc,
        "doc_unknown0",
    )
    _same_error(globex.get(f"/v1/jobs/{job_id}"), globex.get("/v1/jobs/job_unknown0"), job_id, "job_unknown0")
    _same_error(
        globex.post(f"/v1/jobs/{job_id}/cancel"),
        globex.post("/v1/jobs/job_unknown0/cancel"),
        job_id,
        "job_unknown0",
    )
    refused = globex.qa(doc)  # a job over someone else's document
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "document_not_found"
    assert globex.get("/v1/documents").json()["total"] == 0
    assert globex.get("/v1/jobs").json()["total"] == 0
    # nothing above touched acme's records
    assert acme.get(f"/v1/documents/{doc}").status_code == 200
    assert acme.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"
    assert acme.get("/v1/documents").json()["total"] == 1


def test_rate_limit_is_per_tenant_with_retry_after(tight: tuple[Tenant, Tenant, Settings]) -> None:
    acme, globex, _ = tight
    # The limit counts per wall-clock minute: start well inside one, or the count resets mid-test.
    if 60 - time.time() % 60 < 20:
        time.sleep(60 - time.time() % 60 + 0.5)
    statuses = [acme.get("/v1/jobs").status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30
    limited = acme.get("/v1/jobs")
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert globex.get("/v1/jobs").status_code == 200  # another tenant is not affected


def test_rate_window_resets_each_minute(settings: Settings) -> None:
    r, p = connect(settings.effective_redis_url()), settings.key_prefix
    start = 1_000_000 * 60.0 + 50  # 10 s before a window ends
    for _ in range(3):
        tenants.hit_rate_limit(r, p, "acme", 3, now=start)
    with pytest.raises(TooManyRequests) as caught:
        tenants.hit_rate_limit(r, p, "acme", 3, now=start + 1)
    assert caught.value.retry_after_s == pytest.approx(9.0)
    tenants.hit_rate_limit(r, p, "acme", 3, now=start + 10)  # the next window
    assert r.ttl(f"{p}:rate:acme:1000000") > 0  # counters expire by themselves


def test_concurrent_jobs_are_limited_and_finished_jobs_free_their_slot(
    tight: tuple[Tenant, Tenant, Settings],
) -> None:
    acme, globex, _ = tight
    doc = acme.upload(b"hello\n").json()["id"]
    first = acme.qa(doc)
    assert first.status_code == 202
    second = acme.qa(doc)
    assert second.status_code == 429, second.text
    assert second.json()["error"]["code"] == "too_many_jobs" and "Retry-After" in second.headers
    assert acme.post(f"/v1/jobs/{first.json()['id']}/cancel").status_code == 200
    assert acme.qa(doc).status_code == 202  # the cancelled job no longer counts
    gdoc = globex.upload(b"hello\n").json()["id"]
    assert globex.qa(gdoc).status_code == 202 and globex.qa(gdoc).status_code == 202


def test_storage_quota_and_per_tenant_upload_size(tight: tuple[Tenant, Tenant, Settings]) -> None:
    acme, globex, settings = tight
    too_big = acme.upload(b"x" * 1300)  # over acme's 1200-byte per-file limit
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "payload_too_large"
    first = acme.upload(b"a" * 1000)
    assert first.status_code == 201
    over = acme.upload(b"b" * 1000)  # fits the per-file limit, not the 500 bytes of quota left
    assert over.status_code == 413, over.text
    err = over.json()["error"]
    assert err["code"] == "quota_exceeded" and err["details"] == {
        "stored_bytes": 1000,
        "max_stored_bytes": 1500,
    }
    assert acme.upload(b"c" * 500).status_code == 201  # exactly fills the quota
    full = acme.upload(b"d")
    assert full.status_code == 413 and full.json()["error"]["code"] == "quota_exceeded"
    tmp = settings.storage_dir / "tmp"
    assert not tmp.exists() or not any(tmp.iterdir())  # refused uploads leave nothing behind
    assert acme.delete(f"/v1/documents/{first.json()['id']}").status_code == 204
    assert acme.upload(b"e" * 900).status_code == 201  # deleting gave the bytes back
    assert globex.upload(b"f" * 1300).status_code == 201  # globex has the default limits


def _job(job_id: str, tenant: str, finished: datetime, usage_: Usage, cost: float | None = None) -> JobState:
    result = JobResult(engine="llm", model="m", answer="a", usage=usage_)
    if cost is not None:
        object.__setattr__(result, "cost", cost)  # stands in for the coming JobResult.cost field
    spec = JobSpec(type="summarize", document_ids=["doc_x"])
    return JobState(
        id=job_id, tenant=tenant, status="succeeded", spec=spec, finished_at=finished, result=result
    )


def test_job_usage_is_summed_per_tenant_and_day_once_per_job(settings: Settings) -> None:
    r: redis.Redis = connect(settings.effective_redis_url())
    p = settings.key_prefix
    day1, day2 = datetime(2030, 1, 1, 23, 59, tzinfo=UTC), datetime(2030, 1, 2, 0, 1, tzinfo=UTC)
    a1 = _job("job_a1", "acme", day1, Usage(prompt_tokens=1000, completion_tokens=200, estimated=True), 0.25)
    a2 = _job("job_a2", "acme", day1, Usage(prompt_tokens=500, completion_tokens=50, reasoning_tokens=7))
    a3 = _job("job_a3", "acme", day2, Usage(prompt_tokens=3_000_000_000_000, completion_tokens=1), 1e-7)
    g1 = _job("job_g1", "globex", day1, Usage(prompt_tokens=9, completion_tokens=9))
    for job in (a1, a2, a1, a3, g1, a1):  # a1 three times: counted once
        usage.record_job_usage(r, p, job)
    d1 = usage.usage_for_day(r, p, "acme", "2030-01-01")
    assert d1 == {
        "jobs": 2, "tokens_in": 1500, "tokens_out": 250, "reasoning_tokens": 7, "cached_tokens": 0,
        "estimated_jobs": 1, "cost_usd": 0.25,
    }  # fmt: skip
    d2 = usage.usage_for_day(r, p, "acme", "2030-01-02")
    assert d2["jobs"] == 1 and d2["tokens_in"] == 3_000_000_000_000 and d2["cost_usd"] == pytest.approx(1e-7)
    total = usage.tenant_totals(r, p, "acme")
    assert total["jobs"] == 3 and total["tokens_out"] == 251
    assert usage.tenant_totals(r, p, "globex")["tokens_in"] == 9
    assert usage.tenant_days(r, p, "acme") == ["2030-01-01", "2030-01-02"]
    failed = JobState(id="job_f", tenant="acme", status="failed", spec=a1.spec, finished_at=day2)
    usage.record_job_usage(r, p, failed)  # no result: counts as a job, no tokens
    assert usage.usage_for_day(r, p, "acme", "2030-01-02")["jobs"] == 2


def test_job_cost_accepts_numbers_objects_and_absence() -> None:
    class Cost:  # the shape of models.Cost (usd, estimated, pricing)
        usd = 0.5
        estimated = True
        pricing = "catalog"

    class Result:
        def __init__(self, cost: object):
            self.cost = cost

    assert usage.job_cost(Result(1)) == 1.0
    assert usage.job_cost(Result(Cost())) == 0.5
    assert usage.job_cost(Result({"estimated_usd": 0.75})) == 0.75
    assert usage.job_cost(Result(None)) is None
    assert usage.job_cost(Result("cheap")) is None
    assert usage.job_cost(object()) is None


def test_admin_usage_per_tenant_per_day(settings: Settings) -> None:
    conf = _strict(settings)
    r = connect(conf.effective_redis_url())
    _, admin = auth.create_key(r, conf.key_prefix, "ops", admin=True)
    today = datetime.now(UTC)
    usage.record_job_usage(r, conf.key_prefix, _job("job_1", "acme", today, Usage(prompt_tokens=10), 0.5))
    usage.record_job_usage(r, conf.key_prefix, _job("job_2", "globex", today, Usage(prompt_tokens=20)))
    with TestClient(create_app(conf)) as client:
        ops = Tenant(client, admin)
        rows = ops.get("/v1/admin/usage").json()["items"]
        assert {(row["tenant"], row["tokens_in"]) for row in rows} == {("acme", 10), ("globex", 20)}
        only = ops.get("/v1/admin/usage", params={"tenant": "acme", "day": today.date().isoformat()})
        assert only.json()["items"] == [
            {
                "tenant": "acme",
                "day": today.date().isoformat(),
                **usage.usage_for_day(r, conf.key_prefix, "acme", today.date()),
            }
        ]
        listed = {t["tenant"]: t for t in ops.get("/v1/admin/tenants").json()["items"]}
        assert listed["acme"]["usage"]["cost_usd"] == 0.5 and listed["globex"]["usage"]["jobs"] == 1


def test_active_job_set_heals_itself(settings: Settings) -> None:
    records = Records(connect(settings.effective_redis_url()), settings.key_prefix)
    spec = JobSpec(type="summarize", document_ids=["doc_x"])
    for i, status in enumerate(["queued", "running", "succeeded", "failed"]):
        records.create_job(JobState(id=f"job_{i}", tenant="acme", spec=spec, status=status))
    records.r.sadd(records.active_jobs_key("acme"), "job_expired")
    started = time.monotonic()
    assert tenants.active_jobs(records, "acme") == 2
    assert records.r.smembers(records.active_jobs_key("acme")) == {"job_0", "job_1"}
    assert time.monotonic() - started < 1.0
