"""Collections: upload into one, list and filter documents, move documents, jobs over a collection."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.client import LongdocClient

SAMPLES = Path(__file__).resolve().parents[1] / "sample_docs"


def upload(api: LongdocClient, path: Path, collection: str | None = None) -> dict[str, Any]:
    params = {"collection": collection} if collection else None
    with open(path, "rb") as f:
        response = api.http.post("/v1/documents", params=params, files={"file": (path.name, f)})
    assert response.status_code == 201, response.text
    return dict(response.json())


def listing(api: LongdocClient, **params: Any) -> dict[str, Any]:
    response = api.http.get("/v1/documents", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_upload_into_collections_then_list_filter_and_page(api: LongdocClient) -> None:
    tag = uuid.uuid4().hex[:6]
    logs, contracts = f"logs/payments-{tag}", f"contracts/acme-{tag}"
    log_doc = upload(api, SAMPLES / "payments-service.log", logs)
    notes = upload(api, SAMPLES / "release_notes.txt", logs)
    time.sleep(0.01)  # distinct upload times for the time filter
    boundary = datetime.now(UTC)
    pdf = upload(api, SAMPLES / "master_services_agreement.pdf", contracts)
    assert log_doc["collection"] == logs and pdf["collection"] == contracts

    names = {c["name"]: c["documents"] for c in api.http.get("/v1/collections").json()["items"]}
    assert names[logs] == 2 and names[contracts] == 1

    in_logs = listing(api, collection=logs)
    assert in_logs["total"] == 2 and {d["id"] for d in in_logs["items"]} == {log_doc["id"], notes["id"]}
    assert [d["kind"] for d in listing(api, collection=logs, kind="log")["items"]] == ["log"]
    page = listing(api, collection=logs, limit=1, offset=1)
    assert page["total"] == 2 and [d["id"] for d in page["items"]] == [log_doc["id"]]  # newest first
    after = listing(api, collection=contracts, uploaded_after=boundary.isoformat())
    assert [d["id"] for d in after["items"]] == [pdf["id"]]
    assert listing(api, collection=logs, uploaded_after=boundary.isoformat())["total"] == 0
    assert listing(api, collection=logs, uploaded_before=boundary.isoformat())["total"] == 2


def test_move_and_remove_documents(api: LongdocClient) -> None:
    tag = uuid.uuid4().hex[:6]
    doc = upload(api, SAMPLES / "release_notes.txt")
    assert doc["collection"] is None
    moved = api.http.post(f"/v1/collections/a-{tag}/x/documents", json={"document_ids": [doc["id"]]})
    assert moved.status_code == 200 and moved.json()["items"][0]["collection"] == f"a-{tag}/x"
    api.http.post(f"/v1/collections/b-{tag}/documents", json={"document_ids": [doc["id"]]})
    assert listing(api, collection=f"a-{tag}/x")["total"] == 0
    assert listing(api, collection=f"b-{tag}")["total"] == 1
    gone = api.http.delete(f"/v1/collections/b-{tag}/documents/{doc['id']}")
    assert gone.status_code == 200 and gone.json()["collection"] is None
    assert api.document(doc["id"])["collection"] is None
    unknown = api.http.post(f"/v1/collections/b-{tag}/documents", json={"document_ids": ["doc_nope"]})
    assert unknown.status_code == 404


def test_bad_collection_name_is_refused_before_upload(api: LongdocClient) -> None:
    before = listing(api)["total"]
    with open(SAMPLES / "release_notes.txt", "rb") as f:
        response = api.http.post("/v1/documents", params={"collection": "../etc"}, files={"file": f})
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_collection_name"
    assert listing(api)["total"] == before


def test_job_over_a_collection_is_resolved_at_submit(api: LongdocClient) -> None:
    name = f"contracts/job-{uuid.uuid4().hex[:6]}"
    pdf = api.wait_document(upload(api, SAMPLES / "master_services_agreement.pdf", name)["id"])
    job = api.submit({"type": "summarize", "collection": name})
    done = api.wait_job(job["id"], timeout_s=120)
    assert done["status"] == "succeeded"
    assert done["spec"]["document_ids"] == [pdf["id"]] and done["spec"]["collection"] == name
    assert {c["document_id"] for c in done["result"]["citations"]} == {pdf["id"]}
    empty = api.http.post("/v1/jobs", json={"type": "summarize", "collection": "nothing/here"})
    assert empty.status_code == 404 and empty.json()["error"]["code"] == "collection_not_found"
    neither = api.http.post("/v1/jobs", json={"type": "summarize"})
    assert neither.status_code == 422
