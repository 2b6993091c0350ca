"""Reports through the real API and worker: HTML whose citation links resolve, Markdown and JSON, a user
template from a folder, and a scheduled report that shows what changed since the previous run."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from service.client import LongdocClient
from service.config import ReportingSettings
from service.local_stack import LocalStack
from service.main import create_app
from service.pipeline import build_services
from service.scheduling import runner

SAMPLES = Path(__file__).resolve().parents[1] / "sample_docs"
CITE_RE = re.compile(
    r'<li id="cite-\d+"><a href="([^"]+)">.*?<span class="quote">\u201c(.*?)\u201d</span></li>', re.S
)


def upload(http: Any, path: Path, collection: str | None = None, name: str | None = None) -> str:
    params = {"collection": collection} if collection else None
    with open(path, "rb") as f:
        response = http.post("/v1/documents", params=params, files={"file": (name or path.name, f)})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def wait_report(http: Any, report_id: str, timeout_s: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        response = http.get(f"/v1/reports/{report_id}")
        body = dict(response.json())
        if response.status_code == 200:
            return body
        assert response.status_code == 202 and body["status"] == "pending", response.text
        assert time.monotonic() < deadline, f"report {report_id} still pending"
        time.sleep(0.2)


def ask(http: Any, **body: Any) -> str:
    response = http.post("/v1/reports", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def squash(text: str) -> str:
    return " ".join(text.split())


def assert_links_resolve(api: LongdocClient, page: str) -> int:
    """Follow every citation link of an HTML report; the quoted text must be in the returned slice."""
    links = CITE_RE.findall(page)
    for href, quote in links:
        response = api.http.get(html.unescape(href))
        assert response.status_code == 200, (href, response.text)
        assert squash(html.unescape(quote)) in squash(response.json()["text"]), href
    return len(links)


def section(content: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in content["sections"] if s["key"] == key)


def test_log_digest_renders_html_with_resolving_citations(api: LongdocClient) -> None:
    doc = upload(api.http, SAMPLES / "payments-service.log")
    report = wait_report(api.http, ask(api.http, template="daily_log_digest", document_ids=[doc]))
    assert report["status"] == "ready" and report["content"]["engine"] == "offline"
    content = report["content"]
    incidents = section(content, "incidents")["items"]
    assert len(incidents) == 3 and all(i["citations"] for i in incidents)  # the sample log's three bursts
    templates = section(content, "new_error_templates")["items"]
    assert any("Payment authorization timed out" in (i["code"] or "") for i in templates)
    assert [i["citations"][0]["line_start"] for i in section(content, "timeline")["items"]] == sorted(
        i["citations"][0]["line_start"] for i in section(content, "timeline")["items"]
    )

    response = api.http.get(f"/v1/reports/{report['id']}", params={"format": "html"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = response.text
    assert "Offline report" in page and "<script" not in page
    assert "&lt;*&gt;" in page  # a log template's <*> is text, never markup
    assert assert_links_resolve(api, page) >= 8

    listed = api.http.get("/v1/reports").json()
    assert any(r["id"] == report["id"] and "content" not in r for r in listed["items"])


def test_contract_portfolio_as_markdown_and_json(api: LongdocClient, stack: LocalStack) -> None:
    api_url = stack.api_url
    doc = upload(api.http, SAMPLES / "master_services_agreement.pdf")
    options = {"as_of": "2028-01-10", "horizon_days": 90}
    report_id = ask(api.http, template="contract_portfolio", document_ids=[doc], options=options)
    content = wait_report(api.http, report_id)["content"]
    renewals = section(content, "renewals")["items"]
    assert renewals[0]["text"].endswith("renews automatically on 2028-03-01 (in 51 days)")
    deadline = section(content, "termination_deadlines")["items"][0]
    assert "90 days' notice of non-renewal is 2027-12-02 (has passed" in deadline["text"]
    assert any("ninety (90) days" in c["quote"] for c in deadline["citations"])
    for item in section(content, "contracts")["items"]:
        for c in item["citations"]:
            assert c["page"] is not None
            sliced = api.text(doc, page=c["page"])["text"]
            assert squash(c["quote"]) in squash(sliced)

    md = api.http.get(f"/v1/reports/{report_id}", params={"format": "md"})
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith("# Contract portfolio\n") and "## Upcoming renewals" in md.text
    assert f"(/v1/documents/{doc}/text?page=1)" in md.text
    cli = [
        sys.executable,
        "-m",
        "service.cli",
        "reports",
        "get",
        report_id,
        "--format",
        "md",
        "--api",
        api_url,
    ]
    printed = subprocess.run(cli, capture_output=True, text=True, timeout=60, check=True).stdout
    assert printed.strip() == md.text.strip()
    later = ask(api.http, template="contract_portfolio", document_ids=[doc], options={"as_of": "2026-01-10"})
    quiet = wait_report(api.http, later)["content"]
    assert section(quiet, "renewals")["items"] == [] and "No term ends" in section(quiet, "renewals")["note"]
    assert quiet["changes"]["note"].startswith("Compared with") or quiet["changes"]["items"] == []


USER_TEMPLATE = """
name = "incident_review"
title = "Incident review <for ops>"
prompt = "You review an outage for the operations team."

[[sections]]
key = "cause"
title = "Root cause"
ask = "Why did payment authorization time out at the acquirer?"

[[sections]]
key = "impact"
title = "Impact"
ask = "What was the capture backlog and which orders were affected?"
"""


def test_user_template_from_a_folder_without_code_changes(stack: LocalStack, tmp_path: Path) -> None:
    (tmp_path / "incident_review.toml").write_text(USER_TEMPLATE)
    (tmp_path / "broken.toml").write_text("name = [unclosed")
    reporting = ReportingSettings(report_templates_dir=tmp_path)
    settings = stack.settings.model_copy(update={"reporting": reporting})
    with TestClient(create_app(settings)) as http:  # same Redis and prefix: the stack's worker runs the job
        names = {t["name"]: t for t in http.get("/v1/reports/templates").json()["items"]}
        assert {"daily_log_digest", "contract_portfolio", "incident_review"} <= names.keys()
        assert names["incident_review"]["source"].endswith("incident_review.toml")
        doc = upload(http, SAMPLES / "payments-service.log")
        report = wait_report(http, ask(http, template="incident_review", document_ids=[doc]))
        content = report["content"]
        assert [s["title"] for s in content["sections"]] == ["Root cause", "Impact"]
        cause = section(content, "cause")["items"][0]
        assert "timed out" in cause["text"] and cause["citations"]
        page = http.get(f"/v1/reports/{report['id']}", params={"format": "html"}).text
        assert "<title>Incident review &lt;for ops&gt;</title>" in page
        for href, quote in CITE_RE.findall(page):
            sliced = http.get(html.unescape(href)).json()["text"]
            assert squash(html.unescape(quote)) in squash(sliced)
        assert http.post("/v1/reports", json={"template": "nope", "document_ids": [doc]}).status_code == 404


NEW_ERRORS = "".join(
    f"2025-03-15T09:{m:02d}:0{s}.000Z ERROR [ledger-db] pool - Connection refused by db-{m % 3} after {s} retries\n"
    for m in range(10)
    for s in range(3)
)


def test_scheduled_report_shows_changes_since_previous_run(
    api: LongdocClient, stack: LocalStack, tmp_path: Path
) -> None:
    collection = f"logs/payments-{uuid.uuid4().hex[:6]}"
    upload(api.http, SAMPLES / "payments-service.log", collection)
    body = {
        "name": "digest",
        "interval_s": 86400,
        "template": {
            "collection": collection,
            "report_template": "daily_log_digest",
            "report_options": {"horizon_days": 30},
        },
    }
    schedule = api.http.post("/v1/schedules", json=body).json()
    services = build_services(stack.settings)

    def run_and_sweep() -> dict[str, Any]:
        run = api.http.post(f"/v1/schedules/{schedule['id']}/run").json()
        assert run["report_id"], run
        api.wait_job(run["job_id"], 60)
        assert any(r.id == run["id"] for r in runner.sweep(services))  # what beat does: close and build
        runs = api.http.get(f"/v1/schedules/{schedule['id']}/runs").json()["items"]
        closed = next(r for r in runs if r["id"] == run["id"])
        assert closed["status"] == "succeeded" and closed["report_id"] == run["report_id"]
        stored = api.http.get(f"/v1/reports/{run['report_id']}")
        assert stored.status_code == 200  # built by the sweep, not by this read
        return dict(stored.json())

    first_report = run_and_sweep()
    first = first_report["content"]
    assert first_report["options"]["horizon_days"] == 30 and first_report["schedule_id"] == schedule["id"]
    assert first["changes"]["note"].startswith("This is the first report")
    new_log = tmp_path / "ledger-db.log"
    new_log.write_text(NEW_ERRORS)
    api.wait_document(upload(api.http, new_log, collection))
    second_report = run_and_sweep()
    second = second_report["content"]
    assert second["previous_report_id"] == first_report["id"]
    new_templates = section(second, "new_error_templates")["items"]
    assert [i["code"] for i in new_templates] == ["pool - Connection refused by <*> after <*> retries"]
    changes = [i["text"] for i in second["changes"]["items"]]
    assert any(t.startswith("New: error template pool - Connection refused") for t in changes)
    assert "error lines: 51 -> 81 (+30)" in changes
    md = api.http.get(f"/v1/reports/{second_report['id']}", params={"format": "md"}).text
    assert "## Changes since the previous report" in md and "New: error template" in md
    assert "Daily log digest: digest" in md
    api.http.delete(f"/v1/schedules/{schedule['id']}")
