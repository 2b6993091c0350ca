"""API keys and the auth gate: who is calling, and for which tenant.

A key is a high-entropy bearer token `ldk_<key id>_<secret>`. Only its sha256 is stored, so a copy of
Redis does not hand out working keys; the token itself is shown once, when the key is created.

Redis layout (under the key prefix):
    <p>:auth:keys      hash  key id -> ApiKey JSON (revoked keys stay, marked revoked)
    <p>:auth:digests   hash  sha256(token) -> key id

Modes (`LONGDOC_AUTH__MODE`): "keys" always asks for a key; "off" is open on purpose (local use);
"auto" asks for a key as soon as one was ever created and is open as tenant "default" until then.
Revoking every key does not reopen an "auto" API: keys are never deleted, only marked revoked.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import datetime

import redis
from pydantic import BaseModel, Field

from service.config import Settings
from service.errors import BadRequest, NotFound, Unauthorized
from service.models import utcnow

log = logging.getLogger("longdoc.auth")

DEFAULT_TENANT = "default"
TOKEN_PREFIX = "ldk_"
_TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


class ApiKey(BaseModel):
    """The stored description of a key (never the token)."""

    id: str
    tenant: str
    admin: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    revoked: bool = False
    revoked_at: datetime | None = None
    digest: str = Field(description="sha256 of the token, hex.")


class Principal(BaseModel):
    """Who a request acts for."""

    tenant: str
    admin: bool = False
    key_id: str | None = Field(None, description="None when the API is open (no key was needed).")


def _keys(prefix: str) -> str:
    return f"{prefix}:auth:keys"


def _digests(prefix: str) -> str:
    return f"{prefix}:auth:digests"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_tenant_name(tenant: str) -> str:
    """Tenant names end up in Redis keys and URLs: lowercase letters, digits, '-', '_' and '.'."""
    if not _TENANT_NAME.match(tenant):
        raise BadRequest(
            f"invalid tenant name {tenant!r}: use 1-63 of a-z 0-9 - _ . starting with a letter or digit",
            code="invalid_tenant",
        )
    return tenant


def create_key(r: redis.Redis, prefix: str, tenant: str, admin: bool = False) -> tuple[ApiKey, str]:
    """Create a key for `tenant`; returns the stored record and the token (the only time it exists)."""
    key_id = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    key = ApiKey(id=key_id, tenant=check_tenant_name(tenant), admin=admin, digest=digest(token))
    pipe = r.pipeline()
    pipe.hset(_keys(prefix), key_id, key.model_dump_json())
    pipe.hset(_digests(prefix), key.digest, key_id)
    pipe.sadd(f"{prefix}:tenants", key.tenant)
    pipe.execute()
    log.info("created API key %s for tenant %s (admin=%s)", key_id, tenant, admin)
    return key, token


def list_keys(r: redis.Redis, prefix: str) -> list[ApiKey]:
    """Every key ever created, oldest first."""
    raw: dict[str, str] = r.hgetall(_keys(prefix))  # type: ignore[assignment]
    keys = [ApiKey.model_validate_json(v) for v in raw.values()]
    return sorted(keys, key=lambda k: k.created_at)


def revoke_key(r: redis.Redis, prefix: str, key_id: str) -> ApiKey:
    """Mark a key revoked (it stops working at once); the record stays for the audit trail."""
    raw = r.hget(_keys(prefix), key_id)
    if raw is None:
        raise NotFound(f"API key {key_id!r} not found", code="key_not_found")
    key = ApiKey.model_validate_json(str(raw))
    if not key.revoked:
        key.revoked, key.revoked_at = True, utcnow()
        pipe = r.pipeline()
        pipe.hset(_keys(prefix), key_id, key.model_dump_json())
        pipe.hdel(_digests(prefix), key.digest)
        pipe.execute()
        log.info("revoked API key %s of tenant %s", key_id, key.tenant)
    return key


def lookup(r: redis.Redis, prefix: str, token: str) -> ApiKey | None:
    """The live key for a token, or None (unknown, malformed or revoked)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    key_id = r.hget(_digests(prefix), digest(token))
    if key_id is None:
        return None
    raw = r.hget(_keys(prefix), str(key_id))
    key = ApiKey.model_validate_json(str(raw)) if raw else None
    return key if key and not key.revoked else None


def keys_exist(r: redis.Redis, prefix: str) -> bool:
    return bool(r.exists(_keys(prefix)))


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class AuthGate:
    """Decides per request whether a key is needed, and resolves it to a Principal."""

    def __init__(self, settings: Settings, r: redis.Redis):
        self.settings = settings
        self.mode = settings.auth.mode
        self.prefix = settings.key_prefix
        self.r = r
        # Keys are never deleted, so once seen they exist for good: no Redis call per request after that.
        self._keys_seen = False
        self.last_open: bool | None = True if self.mode == "off" else False if self.mode == "keys" else None

    def is_open(self) -> bool:
        """True when requests need no key (mode off, or auto with no key created yet). May call Redis."""
        if self.mode != "auto":
            return self.mode == "off"
        if not self._keys_seen:
            self._keys_seen = keys_exist(self.r, self.prefix)
        self.last_open = not self._keys_seen
        return self.last_open

    def describe(self) -> str:
        """For /readyz and the startup log."""
        if self.mode == "off":
            return "off (LONGDOC_AUTH__MODE=off: no API key needed)"
        if self.is_open():
            return "open (no API keys exist)"
        return "api keys required"

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal of a request; raises Unauthorized when a key is needed and missing or bad."""
        if self.is_open():
            return Principal(tenant=DEFAULT_TENANT, admin=True)
        token = bearer_token(authorization)
        if token is None:
            raise Unauthorized("send an API key as 'Authorization: Bearer <key>'", code="unauthorized")
        key = lookup(self.r, self.prefix, token)
        if key is None:
            raise Unauthorized("the API key is unknown or revoked", code="unauthorized")
        return Principal(tenant=key.tenant, admin=key.admin, key_id=key.id)

    def warn_if_open(self) -> None:
        """Say loudly at startup that the API answers anyone."""
        try:
            state = self.describe()
        except redis.RedisError:
            log.warning("auth mode %s: cannot tell whether API keys exist (Redis unavailable)", self.mode)
            return
        if self.last_open or self.mode == "off":
            log.warning(
                "API IS OPEN: it answers without an API key, as tenant %r (%s). "
                "Create a key (`longdoc keys create --tenant NAME`) or set LONGDOC_AUTH__MODE=keys.",
                DEFAULT_TENANT,
                state,
            )


def local_settings(settings: Settings) -> Settings:
    """Settings for `longdoc demo` / `up` on a laptop: auth explicitly off unless the user chose a mode."""
    if "mode" in settings.auth.model_fields_set:
        return settings
    auth = settings.auth.model_copy(update={"mode": "off"})
    return settings.model_copy(update={"auth": auth})
