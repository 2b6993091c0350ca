"""The one table from domain errors to HTTP statuses, and the handlers that render `{"error": {...}}`."""

from __future__ import annotations

import logging
import math

import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service import errors
from service.blobs import StorageFull

log = logging.getLogger("longdoc.api")

STATUS_BY_ERROR: list[tuple[type[errors.LongdocError], int]] = [
    (errors.NotFound, 404),
    (errors.BadRequest, 400),
    (errors.UnsupportedMediaType, 415),
    (errors.PayloadTooLarge, 413),
    (errors.QuotaExceeded, 413),
    (errors.Unauthorized, 401),
    (errors.Forbidden, 403),
    (errors.TooManyRequests, 429),
    (errors.ContextOverflow, 422),
    (errors.ExtractionFailed, 422),
    (errors.Conflict, 409),
    (StorageFull, 507),
    (errors.ServiceUnavailable, 503),
    (errors.ProviderError, 502),
]
RETRY_AFTER_S = 5


def status_for(exc: errors.LongdocError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status
    return 500


def error_response(
    status: int, code: str, message: str, details: object = None, retry_after_s: float | None = None
) -> JSONResponse:
    body: dict[str, object] = {"code": code, "message": message}
    if details:
        body["details"] = details
    headers: dict[str, str] = {}
    if status in (429, 503):
        headers["Retry-After"] = str(max(1, math.ceil(retry_after_s or RETRY_AFTER_S)))
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="longdoc"'
    return JSONResponse({"error": body}, status_code=status, headers=headers or None)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.LongdocError)
    async def domain_error(_: Request, exc: errors.LongdocError) -> JSONResponse:
        retry_after = getattr(exc, "retry_after_s", None)
        return error_response(status_for(exc), exc.code, exc.message, exc.details, retry_after)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()
        ]
        return error_response(422, "validation_error", "the request does not match the schema", details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(redis.RedisError)
    async def redis_down(_: Request, exc: redis.RedisError) -> JSONResponse:
        log.warning("redis unavailable: %s", type(exc).__name__)
        return error_response(503, "redis_unavailable", "the job store is unavailable; retry shortly")

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "an unexpected error occurred")
