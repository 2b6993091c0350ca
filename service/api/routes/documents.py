"""/v1/documents: upload (streamed), describe, list, read text, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from service import collections, documents
from service.api.deps import LimitQuery, OffsetQuery, QueueDep, ServicesDep, TenantDep, UploadAllowanceDep
from service.api.schemas import DocumentList, DocumentOut, TextSlice
from service.api.upload import receive_file
from service.models import DocumentKind

router = APIRouter(prefix="/v1/documents", tags=["documents"])


@router.post(
    "",
    status_code=201,
    response_model=DocumentOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        },
        "parameters": [
            {
                "name": "collection",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "Put the document into this collection, e.g. contracts/acme.",
            }
        ],
    },
)
async def upload_document(
    request: Request, services: ServicesDep, queue: QueueDep, tenant: TenantDep, allowance: UploadAllowanceDep
) -> Any:
    """Upload one file as multipart field `file`. It is streamed to storage (bounded memory) and hashed;
    extraction runs on a worker. Identical bytes are stored and extracted once."""
    collection = request.query_params.get("collection")
    if collection is not None:
        collections.check_name(collection)  # refused before any byte is stored
    with allowance.explain():  # the tenant's per-file limit, capped by its remaining storage quota
        filename, writer = await receive_file(request, services.blobs, allowance.max_bytes)
    accepted = documents.accept_upload(services, writer, documents.safe_filename(filename), tenant)
    if collection is not None:
        accepted.document = collections.assign(services.records, accepted.document, collection)
    if accepted.needs_extraction:
        documents.enqueue_extraction(services, queue, accepted.document.sha256)
    return documents.describe(services, accepted.document)


@router.get("", response_model=DocumentList)
def list_documents(
    services: ServicesDep,
    tenant: TenantDep,
    offset: OffsetQuery = 0,
    limit: LimitQuery = 50,
    collection: Annotated[str | None, Query(description="Only this collection's documents.")] = None,
    kind: Annotated[DocumentKind | None, Query(description="Only pdf, docx, text or log.")] = None,
    uploaded_after: Annotated[datetime | None, Query(description="Uploaded at or after (ISO 8601).")] = None,
    uploaded_before: Annotated[datetime | None, Query(description="Uploaded at or before.")] = None,
) -> Any:
    """The tenant's documents, newest first, optionally filtered; `total` counts the matches."""
    if collection or kind or uploaded_after or uploaded_before:
        total, docs = collections.list_documents(
            services.records, tenant, collection, kind, uploaded_after, uploaded_before, offset, limit
        )
    else:
        total, docs = services.records.list_documents(tenant, offset, limit)
    return {"total": total, "items": [documents.describe(services, d) for d in docs]}


@router.get("/{document_id}", response_model=DocumentOut)
def get_document(document_id: str, services: ServicesDep, tenant: TenantDep) -> Any:
    return documents.describe(services, services.records.get_document(document_id, tenant))


@router.get("/{document_id}/text", response_model=TextSlice)
def get_document_text(
    document_id: str,
    services: ServicesDep,
    tenant: TenantDep,
    offset: int = Query(0, ge=0, description="Character offset."),
    limit: int = Query(100_000, ge=1, le=5_000_000, description="Characters to return."),
    page: int | None = Query(None, ge=1, description="Return exactly this page (PDF/DOCX)."),
    line_start: int | None = Query(None, ge=1, description="Return lines line_start..line_end."),
    line_end: int | None = Query(None, ge=1),
) -> Any:
    doc = services.records.get_document(document_id, tenant)
    return documents.read_text(services, doc, offset, limit, page, line_start, line_end)


@router.delete("/{document_id}", status_code=204)
def delete_document(document_id: str, services: ServicesDep, tenant: TenantDep) -> Response:
    documents.delete(services, services.records.get_document(document_id, tenant))
    return Response(status_code=204)
