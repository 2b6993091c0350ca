"""The domain error tree. Every error has a stable `code`, a human message, optional details and a
`retryable` flag. No web or queue imports here: the HTTP status table lives in `service.api.errors`.

    LongdocError
    ├── NotFound                 unknown or foreign id
    ├── BadRequest               malformed or contradictory input
    ├── UnsupportedMediaType     bytes we cannot extract
    ├── PayloadTooLarge          upload over the size limit
    ├── ContextOverflow          documents do not fit the model window (details carry the numbers)
    ├── ExtractionFailed         a document could not be turned into text (code says why)
    ├── Conflict                 the operation does not fit the current state (e.g. cancel a finished job)
    ├── ServiceUnavailable       Redis or workers away (retryable)
    ├── Unauthorized             no, unknown or revoked API key
    ├── Forbidden                the key may not do this (admin routes)
    ├── TooManyRequests          a per-tenant rate or concurrency limit (carries retry_after_s)
    ├── QuotaExceeded            a tenant's stored-bytes quota is used up
    └── ProviderError            the model provider failed
        ├── ProviderRetryable    rate limit, timeout, overload, 5xx
        └── ProviderFinal        bad key, balance, moderation, invalid params
"""

from __future__ import annotations

from typing import Any


class LongdocError(Exception):
    code = "internal_error"
    retryable = False

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class NotFound(LongdocError):
    code = "not_found"


class BadRequest(LongdocError):
    code = "bad_request"


class UnsupportedMediaType(LongdocError):
    code = "unsupported_media_type"


class PayloadTooLarge(LongdocError):
    code = "payload_too_large"


class ContextOverflow(LongdocError):
    code = "context_overflow"


class ExtractionFailed(LongdocError):
    code = "extraction_failed"


class Conflict(LongdocError):
    code = "conflict"


class ServiceUnavailable(LongdocError):
    code = "service_unavailable"
    retryable = True


class Unauthorized(LongdocError):
    code = "unauthorized"


class Forbidden(LongdocError):
    code = "forbidden"


class TooManyRequests(LongdocError):
    code = "rate_limited"
    retryable = True

    def __init__(self, message: str, *, retry_after_s: float = 1.0, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after_s = retry_after_s


class QuotaExceeded(LongdocError):
    code = "quota_exceeded"


class ProviderError(LongdocError):
    code = "provider_error"


class ProviderRetryable(ProviderError):
    code = "provider_unavailable"
    retryable = True

    def __init__(self, message: str, *, retry_after_s: float | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after_s = retry_after_s


class ProviderFinal(ProviderError):
    code = "provider_rejected"


class JobCancelled(LongdocError):
    code = "cancelled"
