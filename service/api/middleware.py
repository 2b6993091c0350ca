"""Two thin ASGI middlewares in front of every route.

`AuthMiddleware` resolves the caller (service.auth.AuthGate), applies the tenant's requests-per-minute
limit (service.tenants.hit_rate_limit) and stores the Principal in the request state, where
`deps.get_principal` reads it. It runs before the app reads any body, so a caller without a key is
refused before uploading anything. While the API is open it marks every response `X-Longdoc-Auth: open`.

`BodyLimitMiddleware` refuses bodies over `limits.max_json_body_bytes` with 413: at once when
Content-Length says so, else by counting bytes as they arrive (chunked bodies have no length). The
streamed upload route is exempt: it enforces its own, much larger, limit while writing to disk.

Both render their errors with `service.api.errors.error_response`, the same JSON shape as the routes.
"""

from __future__ import annotations

import logging

import anyio.to_thread
import redis
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import tenants
from service.api.errors import error_response, status_for
from service.auth import AuthGate, Principal
from service.errors import LongdocError

log = logging.getLogger("longdoc.api")

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
STREAMED_UPLOADS = frozenset({("POST", "/v1/documents")})
OPEN_HEADER = (b"x-longdoc-auth", b"open")


def authorize(gate: AuthGate, authorization: str | None) -> Principal:
    """Authenticate, then count the request against the tenant's per-minute limit (blocking: Redis)."""
    principal = gate.authenticate(authorization)
    limits = gate.settings.tenants.limits_for(principal.tenant)
    tenants.hit_rate_limit(gate.r, gate.prefix, principal.tenant, limits.requests_per_minute)
    return principal


class AuthMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        gate: AuthGate = scope["app"].state.auth
        if scope["path"] in PUBLIC_PATHS:
            # no Redis call here: /healthz must answer while Redis is away
            await self.app(scope, receive, _mark_open(send) if gate.last_open else send)
            return
        authorization = Headers(scope=scope).get("authorization")
        try:
            principal = await anyio.to_thread.run_sync(authorize, gate, authorization)
        except LongdocError as exc:
            response = error_response(
                status_for(exc), exc.code, exc.message, exc.details, getattr(exc, "retry_after_s", None)
            )
            await response(scope, receive, _mark_open(send) if gate.last_open else send)
            return
        except redis.RedisError as exc:
            log.warning("redis unavailable during auth: %s", type(exc).__name__)
            response = error_response(503, "redis_unavailable", "the job store is unavailable; retry shortly")
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, _mark_open(send) if principal.key_id is None else send)


def _mark_open(send: Send) -> Send:
    async def marked(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), OPEN_HEADER]
        await send(message)

    return marked


class _BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) in STREAMED_UPLOADS:
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        try:
            body = await self._read(receive)
        except _BodyTooLarge:
            await self._refuse(scope, receive, send)
            return
        if body is not None:  # None: the client went away mid-body, nobody is left to answer
            await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body (at most max_bytes: small, so holding it is fine)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise _BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            "body_too_large",
            f"the request body exceeds the limit of {self.max_bytes:,} bytes",
            {"limit_bytes": self.max_bytes},
        )
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect as usual

    return replay
