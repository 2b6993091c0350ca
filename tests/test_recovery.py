"""A job whose queue message was lost is republished and then finished by a real worker."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from service.client import LongdocClient
from service.local_stack import LocalStack
from service.models import JobEvent, JobSpec, JobState, utcnow
from service.pipeline import build_services
from service.queue import JobQueue
from service.recovery import requeue_stale

SAMPLES = Path(__file__).resolve().parents[1] / "sample_docs"


def _orphan(stack: LocalStack, doc_id: str, age_s: float) -> JobState:
    """A job record as if it had been queued `age_s` ago and its message had then vanished."""
    services = build_services(stack.settings)
    job = JobState(
        id=f"job_orphan{time.monotonic_ns()}",
        tenant="default",
        spec=JobSpec(type="summarize", document_ids=[doc_id]),
    )
    job.history.append(JobEvent(event="queued", at=utcnow() - timedelta(seconds=age_s)))
    services.records.create_job(job)  # recorded, never published
    return job


def test_a_lost_job_is_republished_once_and_finished(api: LongdocClient, stack: LocalStack) -> None:
    doc = api.wait_document(api.upload(SAMPLES / "release_notes.txt")["id"], 120)
    services = build_services(stack.settings)
    queue = JobQueue(stack.settings)
    fresh = _orphan(stack, doc["id"], age_s=5)
    lost = _orphan(stack, doc["id"], age_s=3600)
    requeued = requeue_stale(services, queue, older_than_s=600)
    assert lost.id in requeued and fresh.id not in requeued  # only what waited longer than the period
    assert requeue_stale(services, queue, older_than_s=600) == []  # once per period, not every sweep
    final = api.wait_job(lost.id, 60)
    assert final["status"] == "succeeded"
    assert [e["event"] for e in final["history"]][:2] == ["queued", "requeued"]
    assert api.job(fresh.id)["status"] == "queued"  # still waiting for its period
    services.records.r.delete(f"{services.records.p}:requeued:{lost.id}")
    assert lost.id not in requeue_stale(services, queue, older_than_s=600)  # finished jobs are left alone
    api.cancel(fresh.id)  # no leftover active job for the other tests' tenant


def test_a_running_job_with_a_live_lease_is_left_alone(api: LongdocClient, stack: LocalStack) -> None:
    doc = api.wait_document(api.upload(SAMPLES / "release_notes.txt")["id"], 120)
    services = build_services(stack.settings)
    job = _orphan(stack, doc["id"], age_s=3600)
    services.records.update_job(job.id, lambda j: j.model_copy(update={"status": "running"}))
    assert services.records.acquire_lock(f"job:{job.id}", "someone-else", 60)
    try:
        assert job.id not in requeue_stale(services, JobQueue(stack.settings), older_than_s=600)
    finally:
        services.records.release_lock(f"job:{job.id}", "someone-else")
        services.records.update_job(job.id, lambda j: j.model_copy(update={"status": "cancelled"}))
