// Typed errors: one class per status the API answers with, each carrying the error
// envelope (code, message, requestId, details) so that a support request can name the call.
/** An answer of the API that is not a success, or a call that got no answer. */
export class PartnerApiError extends Error {
    status;
    code;
    requestId;
    details;
    headers;
    constructor(status, code, message, requestId = null, details = [], headers = new Headers()) {
        super(`${status} ${code}: ${message}${requestId ? ` (request ${requestId})` : ""}`);
        this.status = status;
        this.code = code;
        this.requestId = requestId;
        this.details = details;
        this.headers = headers;
        this.name = new.target.name;
    }
}
/** 400: the request is malformed (a query parameter, a header, the JSON). */
export class BadRequest extends PartnerApiError {
}
/** 401: no valid API key or ID token. */
export class Unauthenticated extends PartnerApiError {
}
/** 403: the caller may not do this (a scope it lacks, or a suspended partner). */
export class PermissionDenied extends PartnerApiError {
}
/** 404: no such record for this caller. */
export class NotFound extends PartnerApiError {
}
/** 405. */
export class MethodNotAllowed extends PartnerApiError {
}
/** 409: the request conflicts with the current state. */
export class Conflict extends PartnerApiError {
}
/** 412: the record changed since the ETag given in If-Match was read. */
export class PreconditionFailed extends PartnerApiError {
}
/** 413. */
export class PayloadTooLarge extends PartnerApiError {
}
/** 415. */
export class UnsupportedMediaType extends PartnerApiError {
}
/** 422: some fields are invalid; `issues` names each field and what is wrong. */
export class ValidationFailed extends PartnerApiError {
    get issues() {
        return this.details;
    }
}
/** 428: the change needs an If-Match. */
export class PreconditionRequired extends PartnerApiError {
}
/** 429: the partner's rate limit or daily quota; `retryAfter` in seconds. */
export class RateLimited extends PartnerApiError {
    get retryAfter() {
        return retryAfter(this.headers);
    }
}
/** 500 and other 5xx answers but 503. */
export class ServerError extends PartnerApiError {
}
/** 503: the backend was unavailable; safe to retry a read or an idempotent write. */
export class ServiceUnavailable extends PartnerApiError {
}
/** The call got no answer (connection refused or cut, or the timeout passed). */
export class ConnectionFailed extends PartnerApiError {
    constructor(message) {
        super(0, "connection_failed", message);
    }
}
const BY_STATUS = {
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
};
/** Seconds of a delta-seconds `Retry-After` (what the API sends); null when absent. */
export function retryAfter(headers) {
    const value = headers.get("retry-after");
    if (value === null || value.trim() === "")
        return null;
    const seconds = Number(value);
    return Number.isFinite(seconds) ? Math.max(0, seconds) : null;
}
/** The typed error of an answer: its envelope, or the status and the start of the text. */
export function errorFrom(status, text, headers) {
    const Kind = BY_STATUS[status] ?? (status >= 500 ? ServerError : PartnerApiError);
    const headerId = headers.get("x-request-id");
    try {
        const error = JSON.parse(text).error;
        if (typeof error.code !== "string" || typeof error.message !== "string")
            throw new Error();
        const requestId = typeof error.request_id === "string" ? error.request_id : headerId;
        const details = Array.isArray(error.details) ? error.details : [];
        return new Kind(status, error.code, error.message, requestId, details, headers);
    }
    catch {
        return new Kind(status, "unknown", text.slice(0, 200) || "no body", headerId, [], headers);
    }
}
