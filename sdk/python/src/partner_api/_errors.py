"""Typed errors: one class per status the API answers with, each carrying the error
envelope (`code`, `message`, `request_id`, `details`) so that a support request can name
the call."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class PartnerApiError(Exception):
    """An answer of the API that is not a success, or a call that got no answer."""

    status: int
    code: str
    message: str
    request_id: str | None
    details: list[dict[str, str]]
    headers: Mapping[str, str]

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        request_id: str | None = None,
        *,
        details: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.details = details or []
        self.headers = dict(headers or {})
        where = f" (request {request_id})" if request_id else ""
        super().__init__(f"{status} {code}: {message}{where}")


class BadRequest(PartnerApiError):
    """400: the request is malformed (a query parameter, a header, the JSON)."""


class Unauthenticated(PartnerApiError):
    """401: no valid API key or ID token."""


class PermissionDenied(PartnerApiError):
    """403: the caller may not do this (a scope it lacks, or a suspended partner)."""


class NotFound(PartnerApiError):
    """404: no such record for this caller."""


class MethodNotAllowed(PartnerApiError):
    """405."""


class Conflict(PartnerApiError):
    """409: the request conflicts with the current state (an Idempotency-Key reused with
    another body, a record that exists)."""


class PreconditionFailed(PartnerApiError):
    """412: the record changed since the ETag given in If-Match was read."""


class PayloadTooLarge(PartnerApiError):
    """413."""


class UnsupportedMediaType(PartnerApiError):
    """415."""


class ValidationFailed(PartnerApiError):
    """422: some fields are invalid; `issues` names each field and what is wrong."""

    @property
    def issues(self) -> list[dict[str, str]]:
        return self.details


class PreconditionRequired(PartnerApiError):
    """428: the change needs an If-Match."""


class RateLimited(PartnerApiError):
    """429: the partner's rate limit or daily quota; `retry_after` in seconds."""

    @property
    def retry_after(self) -> float | None:
        return retry_after(self.headers)


class ServerError(PartnerApiError):
    """500 and other 5xx answers but 503."""


class ServiceUnavailable(PartnerApiError):
    """503: the backend was unavailable; safe to retry a read or an idempotent write."""


class ConnectionFailed(PartnerApiError):
    """The call got no answer (connection refused or cut, or the timeout passed)."""

    def __init__(self, message: str) -> None:
        super().__init__(0, "connection_failed", message)


BY_STATUS: dict[int, type[PartnerApiError]] = {
    400: BadRequest,
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationFailed,
    428: PreconditionRequired,
    429: RateLimited,
    503: ServiceUnavailable,
}


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a `Retry-After` of delta-seconds (what the API sends); None when
    absent or not a number."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def error_from(status: int, text: str, headers: Mapping[str, str]) -> PartnerApiError:
    """The typed error of an answer: its envelope, or for a body that is not one (a
    proxy's page), the status with the start of the text."""
    kind = BY_STATUS.get(status, ServerError if status >= 500 else PartnerApiError)
    header_id = next((v for k, v in headers.items() if k.lower() == "x-request-id"), None)
    try:
        body: Any = json.loads(text)
        error = body["error"]
        return kind(
            status,
            str(error["code"]),
            str(error["message"]),
            str(error.get("request_id") or header_id or "") or None,
            details=[dict(issue) for issue in error.get("details") or []],
            headers=headers,
        )
    except (ValueError, KeyError, TypeError):
        return kind(status, "unknown", text[:200] or "no body", header_id, headers=headers)
