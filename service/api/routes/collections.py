"""/v1/collections: list collections, add documents to one, take a document out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from service import collections, documents
from service.api.deps import ServicesDep, TenantDep
from service.errors import NotFound

router = APIRouter(prefix="/v1/collections", tags=["collections"])


class CollectionAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document_ids: list[str] = Field(min_length=1, max_length=1000)


@router.get("")
def list_collections(services: ServicesDep, tenant: TenantDep) -> dict[str, Any]:
    """The tenant's collections with their document counts."""
    return {"items": collections.list_collections(services.records, tenant)}


@router.post("/{name:path}/documents")
def add_documents(name: str, body: CollectionAdd, services: ServicesDep, tenant: TenantDep) -> dict[str, Any]:
    """Put documents into collection `name` (created on first use); a document moves from its old one."""
    collections.check_name(name)
    docs = [services.records.get_document(doc_id, tenant) for doc_id in body.document_ids]  # 404 first
    moved = [collections.assign(services.records, doc, name) for doc in docs]
    return {"name": name, "items": [documents.describe(services, d) for d in moved]}


@router.delete("/{name:path}/documents/{document_id}")
def remove_document(name: str, document_id: str, services: ServicesDep, tenant: TenantDep) -> dict[str, Any]:
    """Take a document out of the collection (the document itself stays)."""
    doc = services.records.get_document(document_id, tenant)
    if doc.collection != name:
        raise NotFound(f"document {document_id} is not in {name!r}", code="document_not_found")
    return documents.describe(services, collections.unassign(services.records, doc))
