export interface Answer {
    status: number;
    headers: Headers;
    data: unknown;
}
/** A record with the ETag it was read at. */
export interface Tagged<T> {
    record: T;
    etag: string;
}
export interface TransportOptions {
    /** `https://<region>-<project>.cloudfunctions.net`, or the emulator's URL. */
    baseUrl: string;
    /** A partner API key (pak_live_... or pak_test_...). */
    apiKey?: string;
    /** Or a function returning a fresh Firebase ID token of a partner user. */
    idToken?: () => string | Promise<string>;
    timeoutMs?: number;
    maxRetries?: number;
    maxRetryWaitMs?: number;
    backoffMs?: number;
    fetch?: typeof fetch;
    sleep?: (ms: number) => Promise<void>;
    userAgent?: string;
}
export interface Request {
    method: string;
    path: string;
    query?: Record<string, string | number | boolean | null | undefined>;
    body?: unknown;
    headers?: Record<string, string | undefined>;
    idempotent?: boolean;
    idempotencyKey?: string;
    timeoutMs?: number;
}
/** A path parameter, escaped so that it stays one segment. */
export declare function segment(value: string): string;
export declare class Transport {
    readonly baseUrl: string;
    /** Sent on every request (not settable in browsers, which send their own). */
    readonly userAgent: string | undefined;
    /** Requests sent again so far (all calls of this client). */
    retries: number;
    private readonly options;
    constructor(options: TransportOptions);
    /** One call, retried as the module says; throws the typed error of a failure. */
    send(request: Request): Promise<Answer>;
    /** Every item of a cursor-paged list, fetching each page as it is reached. */
    pages(request: Request): AsyncGenerator<unknown>;
    private credential;
    private wait;
}
/** `partner-api-typescript/<version>`, then the runtime, as the API's logs show it. */
export declare function userAgent(version: string): string;
/** Read, change and update with If-Match, reading again after each 412. */
export declare function modifyRecord<T, P>(read: () => Promise<Tagged<T>>, update: (patch: P, etag: string) => Promise<T>, change: (record: T) => P | null | Promise<P | null>, attempts: number): Promise<T>;
