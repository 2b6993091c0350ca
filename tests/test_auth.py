"""API keys, auth modes and the admin routes, against a real Redis (no worker needed)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service import auth
from service.cli import app as cli_app
from service.config import AuthSettings, Settings
from service.errors import BadRequest, NotFound
from service.main import create_app
from service.redis_conn import connect


def _own_db(settings: Settings, **update: object) -> Settings:
    """A Redis db no worker consumes, so jobs queued here stay out of the shared e2e stack's way."""
    assert settings.redis_url
    return settings.model_copy(update={"redis_url": settings.redis_url.rsplit("/", 1)[0] + "/6", **update})


@pytest.fixture()
def conf(settings: Settings) -> Settings:
    return _own_db(settings)


@pytest.fixture()
def r(conf: Settings) -> redis.Redis:
    return connect(conf.effective_redis_url())


@pytest.fixture()
def client(conf: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(conf)) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_keys_are_stored_hashed_and_revocation_is_immediate(r: redis.Redis, conf: Settings) -> None:
    key, token = auth.create_key(r, conf.key_prefix, "acme", admin=False)
    assert token.startswith("ldk_") and len(token) > 40
    hashes = [k for k in r.keys(f"{conf.key_prefix}:*") if r.type(k) == "hash"]
    dump = " ".join(f"{f!s} {v!s}" for k in hashes for f, v in r.hgetall(k).items())
    assert token not in dump and auth.digest(token) in dump  # only the hash is in Redis
    found = auth.lookup(r, conf.key_prefix, token)
    assert found is not None and found.tenant == "acme" and found.id == key.id
    assert auth.lookup(r, conf.key_prefix, token + "x") is None
    assert auth.lookup(r, conf.key_prefix, "not-a-key") is None
    assert auth.revoke_key(r, conf.key_prefix, key.id).revoked
    assert auth.lookup(r, conf.key_prefix, token) is None
    [listed] = auth.list_keys(r, conf.key_prefix)
    assert listed.revoked and listed.revoked_at is not None
    with pytest.raises(NotFound):
        auth.revoke_key(r, conf.key_prefix, "nope")


@pytest.mark.parametrize("name", ["", "Acme", "a b", "../x", "a:b", "x" * 64])
def test_tenant_names_are_checked(r: redis.Redis, conf: Settings, name: str) -> None:
    with pytest.raises(BadRequest):
        auth.create_key(r, conf.key_prefix, name)


def test_bearer_token_parsing() -> None:
    assert auth.bearer_token("Bearer abc") == "abc"
    assert auth.bearer_token("bearer   abc  ") == "abc"
    assert auth.bearer_token("Basic abc") is None
    assert auth.bearer_token("Bearer ") is None
    assert auth.bearer_token(None) is None


def test_auto_mode_is_open_and_says_so_until_a_key_exists(
    conf: Settings, r: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "longdoc.auth"), TestClient(create_app(conf)) as client:
        assert any("API IS OPEN" in rec.message for rec in caplog.records)
        listed = client.get("/v1/documents")
        assert listed.status_code == 200 and listed.headers["X-Longdoc-Auth"] == "open"
        assert client.get("/healthz").headers["X-Longdoc-Auth"] == "open"
        assert client.get("/readyz").json()["auth"] == "open (no API keys exist)"

        _, token = auth.create_key(r, conf.key_prefix, "acme")  # from now on keys are required
        refused = client.get("/v1/documents")
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["code"] == "unauthorized"
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "X-Longdoc-Auth" not in refused.headers
        ok = client.get("/v1/documents", headers=bearer(token))
        assert ok.status_code == 200 and "X-Longdoc-Auth" not in ok.headers
        assert client.get("/readyz").json()["auth"] == "api keys required"


def test_keys_mode_requires_a_valid_live_key_on_every_route_but_health_and_docs(
    conf: Settings, r: redis.Redis
) -> None:
    strict = conf.model_copy(update={"auth": AuthSettings(mode="keys")})
    key, token = auth.create_key(r, conf.key_prefix, "acme")
    with TestClient(create_app(strict)) as client:
        for method, path in [
            ("GET", "/v1/documents"),
            ("POST", "/v1/documents"),
            ("GET", "/v1/documents/doc_x"),
            ("GET", "/v1/documents/doc_x/text"),
            ("DELETE", "/v1/documents/doc_x"),
            ("GET", "/v1/jobs"),
            ("POST", "/v1/jobs"),
            ("GET", "/v1/jobs/job_x"),
            ("POST", "/v1/jobs/job_x/cancel"),
            ("GET", "/v1/admin/tenants"),
            ("GET", "/v1/admin/usage"),
        ]:
            for headers in ({}, bearer("ldk_wrong_token"), {"Authorization": f"Basic {token}"}):
                resp = client.request(method, path, headers=headers)
                assert resp.status_code == 401, (method, path, resp.text)
                assert resp.json()["error"]["code"] == "unauthorized"
        for path in ("/healthz", "/openapi.json", "/docs"):
            assert client.get(path).status_code == 200, path
        assert client.get("/v1/documents", headers=bearer(token)).status_code == 200
        auth.revoke_key(r, conf.key_prefix, key.id)
        assert client.get("/v1/documents", headers=bearer(token)).status_code == 401


def test_revoking_every_key_does_not_reopen_auto_mode(conf: Settings, r: redis.Redis) -> None:
    key, _ = auth.create_key(r, conf.key_prefix, "acme")
    auth.revoke_key(r, conf.key_prefix, key.id)
    with TestClient(create_app(conf)) as client:
        assert client.get("/v1/jobs").status_code == 401


def test_off_mode_is_open_even_with_keys(conf: Settings, r: redis.Redis) -> None:
    auth.create_key(r, conf.key_prefix, "acme")
    off = conf.model_copy(update={"auth": AuthSettings(mode="off")})
    with TestClient(create_app(off)) as client:
        resp = client.get("/v1/jobs")
        assert resp.status_code == 200 and resp.headers["X-Longdoc-Auth"] == "open"
        assert client.get("/readyz").json()["auth"].startswith("off")


def test_demo_and_up_turn_auth_off_unless_a_mode_was_chosen(conf: Settings) -> None:
    assert auth.local_settings(conf).auth.mode == "off"
    chosen = conf.model_copy(update={"auth": AuthSettings(mode="keys")})
    assert auth.local_settings(chosen).auth.mode == "keys"


def test_admin_routes_need_an_admin_key(client: TestClient, conf: Settings, r: redis.Redis) -> None:
    _, user = auth.create_key(r, conf.key_prefix, "acme")
    _, admin = auth.create_key(r, conf.key_prefix, "ops", admin=True)
    for path in ("/v1/admin/tenants", "/v1/admin/usage"):
        resp = client.get(path, headers=bearer(user))
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "forbidden"
    up = client.post("/v1/documents", files={"file": ("a.txt", b"hello acme\n")}, headers=bearer(user))
    assert up.status_code == 201, up.text
    tenants = client.get("/v1/admin/tenants", headers=bearer(admin))
    assert tenants.status_code == 200
    rows = {row["tenant"]: row for row in tenants.json()["items"]}
    assert set(rows) == {"acme", "ops"}
    assert rows["acme"]["documents"] == 1 and rows["acme"]["stored_bytes"] == len(b"hello acme\n")
    assert rows["acme"]["active_keys"] == 1 and rows["acme"]["usage"]["jobs"] == 0
    bad_day = client.get("/v1/admin/usage", params={"day": "yesterday"}, headers=bearer(admin))
    assert bad_day.status_code == 400 and bad_day.json()["error"]["code"] == "bad_day"


def test_cli_creates_lists_and_revokes_keys(conf: Settings, client: TestClient) -> None:
    env = {"LONGDOC_REDIS_URL": conf.effective_redis_url(), "LONGDOC_KEY_PREFIX": conf.key_prefix}
    runner = CliRunner()
    created = runner.invoke(cli_app, ["keys", "create", "--tenant", "acme", "--admin"], env=env)
    assert created.exit_code == 0, created.output
    token = next(line for line in created.output.splitlines() if line.startswith("ldk_"))
    assert client.get("/v1/admin/tenants", headers=bearer(token)).status_code == 200

    listed = runner.invoke(cli_app, ["keys", "list"], env=env)
    key_id = token.split("_")[1]
    assert listed.exit_code == 0 and key_id in listed.output and "acme" in listed.output
    assert token not in listed.output

    assert runner.invoke(cli_app, ["keys", "revoke", key_id], env=env).exit_code == 0
    assert client.get("/v1/admin/tenants", headers=bearer(token)).status_code == 401
    assert runner.invoke(cli_app, ["keys", "revoke", "nope"], env=env).exit_code == 1
    bad = runner.invoke(cli_app, ["keys", "create", "--tenant", "Not Valid"], env=env)
    assert bad.exit_code == 2
