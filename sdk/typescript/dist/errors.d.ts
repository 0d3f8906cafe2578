export interface FieldProblem {
    field: string;
    message: string;
}
/** An answer of the API that is not a success, or a call that got no answer. */
export declare class PartnerApiError extends Error {
    readonly status: number;
    readonly code: string;
    readonly requestId: string | null;
    readonly details: FieldProblem[];
    readonly headers: Headers;
    constructor(status: number, code: string, message: string, requestId?: string | null, details?: FieldProblem[], headers?: Headers);
}
/** 400: the request is malformed (a query parameter, a header, the JSON). */
export declare class BadRequest extends PartnerApiError {
}
/** 401: no valid API key or ID token. */
export declare class Unauthenticated extends PartnerApiError {
}
/** 403: the caller may not do this (a scope it lacks, or a suspended partner). */
export declare class PermissionDenied extends PartnerApiError {
}
/** 404: no such record for this caller. */
export declare class NotFound extends PartnerApiError {
}
/** 405. */
export declare class MethodNotAllowed extends PartnerApiError {
}
/** 409: the request conflicts with the current state. */
export declare class Conflict extends PartnerApiError {
}
/** 412: the record changed since the ETag given in If-Match was read. */
export declare class PreconditionFailed extends PartnerApiError {
}
/** 413. */
export declare class PayloadTooLarge extends PartnerApiError {
}
/** 415. */
export declare class UnsupportedMediaType extends PartnerApiError {
}
/** 422: some fields are invalid; `issues` names each field and what is wrong. */
export declare class ValidationFailed extends PartnerApiError {
    get issues(): FieldProblem[];
}
/** 428: the change needs an If-Match. */
export declare class PreconditionRequired extends PartnerApiError {
}
/** 429: the partner's rate limit or daily quota; `retryAfter` in seconds. */
export declare class RateLimited extends PartnerApiError {
    get retryAfter(): number | null;
}
/** 500 and other 5xx answers but 503. */
export declare class ServerError extends PartnerApiError {
}
/** 503: the backend was unavailable; safe to retry a read or an idempotent write. */
export declare class ServiceUnavailable extends PartnerApiError {
}
/** The call got no answer (connection refused or cut, or the timeout passed). */
export declare class ConnectionFailed extends PartnerApiError {
    constructor(message: string);
}
/** Seconds of a delta-seconds `Retry-After` (what the API sends); null when absent. */
export declare function retryAfter(headers: Headers): number | null;
/** The typed error of an answer: its envelope, or the status and the start of the text. */
export declare function errorFrom(status: number, text: string, headers: Headers): PartnerApiError;
