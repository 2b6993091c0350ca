"""Document, content and job records in Redis, each a JSON value under one key prefix.

Records written by more than one process (job state: API cancels while a worker reports progress)
change only through `update_job`, an optimistic WATCH/MULTI transaction, so no write is lost.
Only small JSON goes to Redis; bytes and text stay in the blob store.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import redis

from service import events
from service.errors import NotFound, ServiceUnavailable
from service.models import ContentRecord, DocumentRecord, JobState


class Records:
    def __init__(self, client: redis.Redis, prefix: str = "longdoc", result_ttl_s: int = 7 * 24 * 3600):
        self.r = client
        self.p = prefix
        self.ttl = result_ttl_s

    # ------------------------------------------------------------ keys
    def _doc(self, doc_id: str) -> str:
        return f"{self.p}:doc:{doc_id}"

    def _docs(self, tenant: str) -> str:
        return f"{self.p}:docs:{tenant}"

    def _content(self, sha: str) -> str:
        return f"{self.p}:content:{sha}"

    def _refs(self, sha: str) -> str:
        return f"{self.p}:content:{sha}:refs"

    def _job(self, job_id: str) -> str:
        return f"{self.p}:job:{job_id}"

    def _jobs(self, tenant: str) -> str:
        return f"{self.p}:jobs:{tenant}"

    def cancel_key(self, job_id: str) -> str:
        return f"{self.p}:job:{job_id}:cancel"

    def lock_key(self, name: str) -> str:
        return f"{self.p}:lock:{name}"

    # per-tenant counters kept next to the records they count (read by service.tenants)
    def tenants_key(self) -> str:
        return f"{self.p}:tenants"

    def tenant_stats_key(self, tenant: str) -> str:
        return f"{self.p}:tenant:{tenant}"

    def active_jobs_key(self, tenant: str) -> str:
        return f"{self.p}:tenant:{tenant}:active_jobs"

    def _ids(self, index_key: str, offset: int, limit: int) -> list[str]:
        """Newest-first ids from a time-scored index."""
        return [str(i) for i in self.r.zrevrange(index_key, offset, offset + limit - 1)]

    # ------------------------------------------------------------ documents
    def put_document(self, doc: DocumentRecord) -> None:
        pipe = self.r.pipeline()
        pipe.set(self._doc(doc.id), doc.model_dump_json())
        pipe.zadd(self._docs(doc.tenant), {doc.id: doc.created_at.timestamp()})
        pipe.sadd(self._refs(doc.sha256), doc.id)
        pipe.hincrby(self.tenant_stats_key(doc.tenant), "stored_bytes", doc.size)
        pipe.sadd(self.tenants_key(), doc.tenant)
        pipe.execute()

    def get_document(self, doc_id: str, tenant: str | None = None) -> DocumentRecord:
        raw = self.r.get(self._doc(doc_id))
        doc = DocumentRecord.model_validate_json(raw) if raw else None
        if doc is None or (tenant is not None and doc.tenant != tenant):
            raise NotFound(f"document {doc_id!r} not found", code="document_not_found")
        return doc

    def list_documents(
        self, tenant: str, offset: int = 0, limit: int = 50
    ) -> tuple[int, list[DocumentRecord]]:
        ids = self._ids(self._docs(tenant), offset, limit)
        raws = self.r.mget([self._doc(i) for i in ids]) if ids else []
        docs = [DocumentRecord.model_validate_json(raw) for raw in raws if raw]
        return int(self.r.zcard(self._docs(tenant))), docs

    def delete_document(self, doc: DocumentRecord) -> bool:
        """Remove the record; True when no other document refers to the same content any more."""
        pipe = self.r.pipeline()
        pipe.delete(self._doc(doc.id))
        pipe.zrem(self._docs(doc.tenant), doc.id)
        pipe.srem(self._refs(doc.sha256), doc.id)
        pipe.scard(self._refs(doc.sha256))
        deleted, *_, remaining = pipe.execute()
        if deleted:  # only the request that really removed the record gives its bytes back
            self.r.hincrby(self.tenant_stats_key(doc.tenant), "stored_bytes", -doc.size)
        if remaining == 0:
            self.r.delete(self._content(doc.sha256))
            return True
        return False

    # ------------------------------------------------------------ content (per distinct blob)
    def get_content(self, sha: str) -> ContentRecord | None:
        raw = self.r.get(self._content(sha))
        return ContentRecord.model_validate_json(raw) if raw else None

    def put_content(self, content: ContentRecord) -> None:
        self.r.set(self._content(content.sha256), content.model_dump_json())

    def claim_content(self, content: ContentRecord) -> bool:
        """Create the content record unless one exists; True when this caller must run extraction."""
        created = self.r.set(self._content(content.sha256), content.model_dump_json(), nx=True)
        return bool(created)

    # ------------------------------------------------------------ jobs
    def create_job(self, job: JobState) -> None:
        pipe = self.r.pipeline()
        pipe.set(self._job(job.id), job.model_dump_json(), ex=self.ttl)
        pipe.zadd(self._jobs(job.tenant), {job.id: job.created_at.timestamp()})
        events.publish(pipe, self.p, job, self.ttl)  # the "queued" event of the progress stream
        pipe.sadd(self.active_jobs_key(job.tenant), job.id)
        pipe.sadd(self.tenants_key(), job.tenant)
        pipe.execute()

    def get_job(self, job_id: str, tenant: str | None = None) -> JobState:
        raw = self.r.get(self._job(job_id))
        job = JobState.model_validate_json(raw) if raw else None
        if job is None or (tenant is not None and job.tenant != tenant):
            raise NotFound(f"job {job_id!r} not found", code="job_not_found")
        return job

    def list_jobs(self, tenant: str, offset: int = 0, limit: int = 50) -> tuple[int, list[JobState]]:
        ids = self._ids(self._jobs(tenant), offset, limit)
        raws = self.r.mget([self._job(i) for i in ids]) if ids else []
        return int(self.r.zcard(self._jobs(tenant))), [JobState.model_validate_json(r) for r in raws if r]

    def update_job(self, job_id: str, change: Callable[[JobState], JobState | None]) -> JobState:
        """Apply `change` atomically; it may return None to leave the record as it is."""
        key = self._job(job_id)
        for _ in range(50):
            with self.r.pipeline() as pipe:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    raw = pipe.get(key)
                    if raw is None:
                        raise NotFound(f"job {job_id!r} not found", code="job_not_found")
                    job = JobState.model_validate_json(raw)
                    before = events.fingerprint(job)
                    changed = change(job)
                    if changed is None:
                        pipe.unwatch()
                        return job
                    pipe.multi()
                    pipe.set(key, changed.model_dump_json(), ex=self.ttl)
                    self._on_job_change(pipe, before, changed)
                    pipe.execute()
                    return changed
                except redis.WatchError:
                    continue
        raise ServiceUnavailable(f"job {job_id!r} is being updated too often; try again")

    def doc_key(self, doc_id: str) -> str:
        return self._doc(doc_id)

    def docs_index_key(self, tenant: str) -> str:
        """Time-scored index of the tenant's documents (score: upload time)."""
        return self._docs(tenant)

    def job_key(self, job_id: str) -> str:
        return self._job(job_id)

    def _on_job_change(self, pipe: redis.client.Pipeline, before: events.Fingerprint, job: JobState) -> None:
        """Hooks queued inside the MULTI that writes the job: the progress stream (service.events)."""
        if events.fingerprint(job) != before:
            events.publish(pipe, self.p, job, self.ttl)

    def request_cancel(self, job_id: str) -> None:
        self.r.set(self.cancel_key(job_id), "1", ex=self.ttl)

    def cancel_requested(self, job_id: str) -> bool:
        return bool(self.r.exists(self.cancel_key(job_id)))

    def acquire_lock(self, name: str, owner: str, ttl_s: int) -> bool:
        return bool(self.r.set(self.lock_key(name), owner, nx=True, ex=ttl_s))

    @contextmanager
    def locked(self, name: str, ttl_s: int = 60, wait_s: float = 30.0) -> Iterator[None]:
        """Hold lock `name` for a short critical section, waiting for it up to `wait_s`."""
        owner = uuid.uuid4().hex
        deadline = time.monotonic() + wait_s
        while not self.acquire_lock(name, owner, ttl_s):
            if time.monotonic() > deadline:
                raise ServiceUnavailable(f"{name} is busy; retry shortly", code="busy")
            time.sleep(0.01)
        try:
            yield
        finally:
            self.release_lock(name, owner)

    def release_lock(self, name: str, owner: str) -> None:
        # Delete only our own lock: a lock that expired and was re-taken belongs to someone else.
        script = (
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
        )
        self.r.eval(script, 1, self.lock_key(name), owner)
