"""Every error the partner API answers with, and the one JSON shape they take on the wire.

ApiError (500 internal)
 ├── BadRequest (400 invalid_argument)
 ├── Unauthorized (401 unauthenticated; sets WWW-Authenticate)
 ├── Forbidden (403 permission_denied)
 ├── NotFound (404 not_found)
 ├── MethodNotAllowed (405 method_not_allowed; sets Allow)
 ├── Conflict (409 conflict)
 │    └── StoredEntryInvalid (409 stored_entry_invalid; the stored data, not the request)
 ├── PreconditionFailed (412 precondition_failed; carries the current revision)
 ├── PayloadTooLarge (413 payload_too_large)
 ├── UnsupportedMediaType (415 unsupported_media_type)
 ├── ValidationFailed (422 validation_failed; names each bad field)
 ├── PreconditionRequired (428 precondition_required)
 ├── FrameworkError (the framework's own status, http_error; before any function ran)
 ├── ConfigurationError (500 internal; the message is logged, never sent)
 └── ServiceUnavailable (503 unavailable; sets Retry-After; also for deadlines)

Anything that is not an ApiError becomes a 500 whose body reveals nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, NotRequired, TypedDict

if TYPE_CHECKING:
    from functions.core.models import Revision


class FieldIssue(TypedDict):
    """One problem with one input field; `field` is a dotted path such as "amount"."""

    field: str
    message: str


class ErrorBody(TypedDict):
    status: int
    code: str
    message: str
    request_id: str
    details: NotRequired[list[FieldIssue]]


class ErrorEnvelope(TypedDict):
    """The wire shape of every error: `{"error": {...}}`."""

    error: ErrorBody


MAX_DETAILS = 20


class ApiError(Exception):
    """Base of the tree: an HTTP status, a stable machine code and a safe message."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"
    default_message: ClassVar[str] = "The server could not complete the request."
    expose_message: ClassVar[bool] = True

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Sequence[FieldIssue] = (),
        headers: Mapping[str, str] | None = None,
        reason: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = list(details)
        self.extra_headers = dict(headers or {})
        self.reason = reason
        """Which check failed, for the log only (never sent): `token_expired`, say."""
        super().__init__(self.message)

    def public_message(self) -> str:
        return self.message if self.expose_message else self.default_message

    def headers(self) -> dict[str, str]:
        return dict(self.extra_headers)

    def envelope(self, request_id: str) -> ErrorEnvelope:
        """The wire shape; at most MAX_DETAILS details, so that an error is never much
        larger than the request that caused it."""
        message = self.public_message()
        if len(self.details) > MAX_DETAILS:
            message += f" ({len(self.details)} problems; the first {MAX_DETAILS} are listed.)"
        body: ErrorBody = {
            "status": self.status,
            "code": self.code,
            "message": message,
            "request_id": request_id,
        }
        if self.details:
            body["details"] = self.details[:MAX_DETAILS]
        return {"error": body}


class BadRequest(ApiError):
    status = 400
    code = "invalid_argument"
    default_message = "The request is malformed."


class Unauthorized(ApiError):
    """We do not know who you are: no credentials, or credentials we cannot accept."""

    status = 401
    code = "unauthenticated"
    default_message = "A valid API key or Firebase ID token is required."

    def __init__(
        self, message: str | None = None, *, token_given: bool = True, reason: str | None = None
    ) -> None:
        super().__init__(message, reason=reason)
        self.token_given = token_given

    def headers(self) -> dict[str, str]:
        # RFC 6750 section 3: no error code when the request carried no token at all.
        if not self.token_given:
            challenge = 'Bearer realm="partner-api"'
        else:
            description = self.message.replace("\\", "").replace('"', "'")
            challenge = (
                f'Bearer realm="partner-api", error="invalid_token", '
                f'error_description="{description}"'
            )
        return {**super().headers(), "WWW-Authenticate": challenge}


class Forbidden(ApiError):
    """We know who you are, and you may not do this."""

    status = 403
    code = "permission_denied"
    default_message = "The caller may not perform this operation."


class PartnerSuspended(Forbidden):
    """The caller's partner is suspended by the app's owner: every credential of it."""

    code = "partner_suspended"
    default_message = "This partner is suspended; contact the app's owner."


class NotFound(ApiError):
    status = 404
    code = "not_found"
    default_message = "No such resource."


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"
    default_message = "This function does not accept that HTTP method."

    def __init__(self, allowed: Sequence[str]) -> None:
        message = f"Use {' or '.join(allowed)}." if allowed else "Nothing may be done here."
        super().__init__(message, headers={"Allow": ", ".join(allowed)})


class Conflict(ApiError):
    status = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class StoredEntryInvalid(Conflict):
    """The caller's record exists, but what is stored is not a valid record of its kind
    (another writer left it so); it cannot be shown or changed through the API until it
    is repaired. The message names the resource's own noun."""

    code = "stored_entry_invalid"
    default_message = "The stored data is not a valid record; the app's owner must repair it."

    def __init__(self, item: str | None = None) -> None:
        message = None
        if item is not None:
            message = (
                f"This {item}'s stored data is not a valid {item}; the app's owner must repair it."
            )
        super().__init__(message)


class PreconditionFailed(ApiError):
    """The resource is not at the revision the caller based the change on.

    `current` (when known) lets the HTTP layer send the current ETag.
    """

    status = 412
    code = "precondition_failed"
    default_message = "The record has changed since you read it."

    def __init__(self, message: str | None = None, *, current: Revision | None = None) -> None:
        super().__init__(message)
        self.current = current


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"
    default_message = "The request body is too large."


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"
    default_message = "Send the body as application/json."


class ValidationFailed(ApiError):
    status = 422
    code = "validation_failed"
    default_message = "Some fields are invalid."


class PreconditionRequired(ApiError):
    status = 428
    code = "precondition_required"
    default_message = "Send If-Match with the record's ETag."


class FrameworkError(ApiError):
    """An HTTP error the web framework raised before any function ran (an unroutable
    path, say): answered in the envelope like ours, with werkzeug's generic text."""

    code = "http_error"

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status  # type: ignore[misc]


class ConfigurationError(ApiError):
    """The deployment is misconfigured; operators read the message in the logs."""

    expose_message = False


class RateLimited(ApiError):
    """The partner is over its rate: Retry-After says when a call will be admitted."""

    status = 429
    code = "rate_limited"
    default_message = "Too many requests for this partner; retry after the given seconds."

    def __init__(self, retry_after_s: int, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after_s))})


class QuotaExceeded(RateLimited):
    """The partner created its daily quota of records (UTC day)."""

    code = "quota_exceeded"
    default_message = "This partner's daily quota of created records is spent."


class ServiceUnavailable(ApiError):
    status = 503
    code = "unavailable"
    default_message = "The data store is unavailable; retry later."

    def __init__(
        self, message: str | None = None, *, retry_after_s: int = 5, reason: str | None = None
    ) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_s)}, reason=reason)


INTERNAL = ApiError()
"""The answer to every unexpected exception: a 500 with a message that reveals nothing."""
