"""Named collections of documents (`contracts/acme`, `logs/payments-prod`), per tenant.

A document belongs to at most one collection (its `collection` field); adding it to another moves it.
Jobs and schedules may name a collection instead of document ids: it is resolved to the ids it holds
at that moment (submit or run time), oldest first, so later uploads join the next run, not this one.

Redis layout (under the key prefix):
    <p>:colls:<tenant>          zset  collection name -> time of its first document
    <p>:coll:<tenant>:<name>    zset  document id -> upload time
Deleted documents leave their id in the collection index until a read drops it (lazy clean-up).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from service.errors import BadRequest, NotFound
from service.models import DocumentKind, DocumentRecord
from service.records import Records

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}(/[A-Za-z0-9][A-Za-z0-9._-]{0,63}){0,7}$")
SCAN_BATCH = 500


def check_name(name: str) -> str:
    """The name itself if it is valid: path-like segments of letters, digits, '.', '_', '-'."""
    if not _NAME.match(name):
        raise BadRequest(
            f"{name!r} is not a collection name (segments of letters, digits, '.', '_', '-', joined by '/')",
            code="bad_collection_name",
        )
    return name


def _index(records: Records, tenant: str) -> str:
    return f"{records.p}:colls:{tenant}"


def _members(records: Records, tenant: str, name: str) -> str:
    return f"{records.p}:coll:{tenant}:{name}"


def assign(records: Records, doc: DocumentRecord, name: str) -> DocumentRecord:
    """Put `doc` into collection `name` (moving it out of its previous one)."""
    check_name(name)
    if doc.collection == name:
        return doc
    pipe = records.r.pipeline()
    if doc.collection:
        pipe.zrem(_members(records, doc.tenant, doc.collection), doc.id)
    doc = doc.model_copy(update={"collection": name})
    pipe.set(records.doc_key(doc.id), doc.model_dump_json(), xx=True)
    pipe.zadd(_members(records, doc.tenant, name), {doc.id: doc.created_at.timestamp()})
    pipe.zadd(_index(records, doc.tenant), {name: doc.created_at.timestamp()}, nx=True)
    pipe.execute()
    return doc


def unassign(records: Records, doc: DocumentRecord) -> DocumentRecord:
    if not doc.collection:
        return doc
    records.r.zrem(_members(records, doc.tenant, doc.collection), doc.id)
    doc = doc.model_copy(update={"collection": None})
    records.r.set(records.doc_key(doc.id), doc.model_dump_json(), xx=True)
    return doc


def list_collections(records: Records, tenant: str) -> list[dict[str, Any]]:
    """Every collection with its document count and creation time; empty ones are dropped."""
    found: list[dict[str, Any]] = []
    entries: Any = records.r.zrange(_index(records, tenant), 0, -1, withscores=True)
    for name, score in entries:
        count = int(records.r.zcard(_members(records, tenant, str(name))))
        if count == 0:
            records.r.zrem(_index(records, tenant), name)
            continue
        created = datetime.fromtimestamp(float(score), UTC)
        found.append({"name": str(name), "documents": count, "created_at": created})
    return found


def document_ids(records: Records, tenant: str, name: str) -> list[str]:
    """The ids in the collection now, oldest first; 404 when it holds none."""
    check_name(name)
    _, docs = list_documents(records, tenant, collection=name, limit=1_000_000, newest_first=False)
    if not docs:
        raise NotFound(f"collection {name!r} has no documents", code="collection_not_found")
    return [d.id for d in docs]


def list_documents(
    records: Records,
    tenant: str,
    collection: str | None = None,
    kind: DocumentKind | None = None,
    uploaded_after: datetime | None = None,
    uploaded_before: datetime | None = None,
    offset: int = 0,
    limit: int = 50,
    newest_first: bool = True,
) -> tuple[int, list[DocumentRecord]]:
    """Filtered documents and the total that match. Time bounds use the upload-time score of the index;
    the kind filter reads records in batches (it is not indexed)."""
    key = _members(records, tenant, check_name(collection)) if collection else records.docs_index_key(tenant)
    low = uploaded_after.timestamp() if uploaded_after else "-inf"
    high = uploaded_before.timestamp() if uploaded_before else "+inf"
    ids = [str(i) for i in records.r.zrangebyscore(key, low, high)]
    if newest_first:
        ids.reverse()
    matched: list[DocumentRecord] = []
    for start in range(0, len(ids), SCAN_BATCH):
        batch = ids[start : start + SCAN_BATCH]
        raws = records.r.mget([records.doc_key(i) for i in batch])
        for doc_id, raw in zip(batch, raws, strict=True):
            if raw is None:
                if collection:  # deleted since: drop it from the collection too
                    records.r.zrem(key, doc_id)
                continue
            doc = DocumentRecord.model_validate_json(raw)
            if kind is None or doc.kind == kind:
                matched.append(doc)
    return len(matched), matched[offset : offset + limit]
