"""Webhook destinations: private, loopback and link-local addresses are refused unless allowed (SSRF)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from service import egress, jobs, webhooks
from service.config import ReportingSettings, Settings
from service.models import JobSpec
from service.pipeline import build_services

PRIVATE = [
    "http://127.0.0.1:6379/",
    "http://localhost:8000/hook",
    "http://api.localhost/hook",
    "http://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://172.16.5.4/hook",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://[::1]:9000/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
]


@pytest.mark.parametrize("url", PRIVATE)
def test_private_destinations_are_refused_at_submission(url: str) -> None:
    with pytest.raises(egress.ForbiddenDestination) as refused:
        egress.check_submitted(url, allow_private=False)
    assert refused.value.code == "webhook_destination_forbidden"
    assert "WEBHOOK_ALLOW_PRIVATE" in refused.value.message
    egress.check_submitted(url, allow_private=True)  # the operator's choice


@pytest.mark.parametrize("url", ["ftp://example.com/x", "http:///nohost", "file:///etc/passwd"])
def test_non_http_urls_are_refused_even_when_private_is_allowed(url: str) -> None:
    with pytest.raises(egress.ForbiddenDestination):
        egress.check_submitted(url, allow_private=True)


def test_public_literal_and_names_pass_submission() -> None:
    egress.check_submitted("https://93.184.216.34/hook", allow_private=False)
    egress.check_submitted("https://hooks.example.com/x", allow_private=False)  # resolved at delivery


def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fake_dns(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        assert host == "hooks.example.com" and port == 443
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_dns)
    with pytest.raises(egress.ForbiddenDestination) as refused:
        egress.check_delivery("https://hooks.example.com/x", allow_private=False)
    assert refused.value.details == {"host": "hooks.example.com", "address": "10.0.0.7"}


def test_delivery_to_loopback_is_refused_without_sending_and_not_retried(settings: Settings) -> None:
    services = build_services(settings)
    store = webhooks.store_for(services.records)
    payload = {"event": "job.finished", "event_id": "job.finished:x", "data": {}}
    entry = webhooks.attempt(settings, store, "default", "http://127.0.0.1:9/hook", payload, 1)
    assert entry["ok"] is False and entry["status"] == "failed" and entry["status_code"] is None
    assert "private, loopback or reserved" in entry["error"]
    assert store.deliveries("default")[0]["status"] == "failed"  # logged like any attempt
    with pytest.raises(egress.ForbiddenDestination):
        webhooks.send_test(settings, store, "default", "http://localhost:9/hook")


def test_job_with_a_private_callback_is_refused_unless_allowed(settings: Settings) -> None:
    spec = JobSpec(type="summarize", document_ids=["doc_missing"], callback_url="http://10.0.0.1/hook")
    with pytest.raises(egress.ForbiddenDestination):
        jobs.validate(build_services(settings), spec, "default")
    allowed = settings.model_copy(update={"reporting": ReportingSettings(webhook_allow_private=True)})
    with pytest.raises(Exception) as later:  # passes the URL check, then meets the unknown document
        jobs.validate(build_services(allowed), spec, "default")
    assert not isinstance(later.value, egress.ForbiddenDestination)
