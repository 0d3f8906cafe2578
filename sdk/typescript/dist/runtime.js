// The transport under every method: credentials, timeouts, retries and pages.
//
// Retries: a 429 is always sent again (the gate refused it before any work), after its
// Retry-After. A 503, a cut connection or a timeout is sent again only where sending twice
// cannot do twice: reads, deletes, and writes that carry an Idempotency-Key (every create
// gets one generated, kept across its retries, so a retry replays the first answer). Waits
// grow exponentially with full jitter; a Retry-After above maxRetryWaitMs is not waited for.
import { ConnectionFailed, PreconditionFailed, errorFrom, retryAfter } from "./errors.js";
/** The longest step of the exponential backoff (before jitter). */
const MAX_BACKOFF_MS = 8000;
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);
/** A path parameter, escaped so that it stays one segment. */
export function segment(value) {
    return encodeURIComponent(value);
}
export class Transport {
    baseUrl;
    /** Sent on every request (not settable in browsers, which send their own). */
    userAgent;
    /** Requests sent again so far (all calls of this client). */
    retries = 0;
    options;
    constructor(options) {
        if ((options.apiKey === undefined) === (options.idToken === undefined)) {
            throw new TypeError("give exactly one of apiKey and idToken");
        }
        this.options = options;
        this.baseUrl = options.baseUrl.replace(/\/+$/, "");
        this.userAgent = options.userAgent;
    }
    /** One call, retried as the module says; throws the typed error of a failure. */
    async send(request) {
        const headers = { Accept: "application/json" };
        if (this.userAgent)
            headers["User-Agent"] = this.userAgent;
        for (const [name, value] of Object.entries(request.headers ?? {})) {
            if (value !== undefined)
                headers[name] = value;
        }
        let key = request.idempotencyKey;
        if (key === undefined && request.idempotent)
            key = `sdk_${crypto.randomUUID().replaceAll("-", "")}`;
        if (key !== undefined)
            headers["Idempotency-Key"] = key;
        let body;
        if (request.body !== undefined) {
            headers["Content-Type"] = "application/json";
            body = JSON.stringify(request.body);
        }
        const url = new URL(this.baseUrl + request.path);
        for (const [name, value] of Object.entries(request.query ?? {})) {
            if (value !== undefined && value !== null)
                url.searchParams.set(name, String(value));
        }
        const resendable = SAFE_METHODS.has(request.method) || key !== undefined;
        const maxRetries = this.options.maxRetries ?? 3;
        const send = this.options.fetch ?? fetch;
        for (let attempt = 0;; attempt++) {
            headers.Authorization = `Bearer ${await this.credential()}`;
            let response;
            try {
                response = await send(url, {
                    method: request.method,
                    headers,
                    body,
                    signal: AbortSignal.timeout(request.timeoutMs ?? this.options.timeoutMs ?? 30_000),
                });
            }
            catch (error) {
                if (attempt < maxRetries && (resendable || neverSent(error))) {
                    await this.wait(attempt, null);
                    continue;
                }
                throw new ConnectionFailed(`${request.method} ${request.path}: ${describe(error)}`);
            }
            const status = response.status;
            if ((status === 429 || status === 503) && attempt < maxRetries && (status === 429 || resendable)) {
                const wait = retryAfter(response.headers);
                if (wait === null || wait * 1000 <= (this.options.maxRetryWaitMs ?? 60_000)) {
                    await response.arrayBuffer().catch(() => undefined);
                    await this.wait(attempt, wait);
                    continue;
                }
            }
            const text = await response.text();
            if (status >= 400)
                throw errorFrom(status, text, response.headers);
            return { status, headers: response.headers, data: text ? JSON.parse(text) : null };
        }
    }
    /** Every item of a cursor-paged list, fetching each page as it is reached. */
    async *pages(request) {
        const query = { ...(request.query ?? {}) };
        for (;;) {
            const page = (await this.send({ ...request, query })).data;
            yield* page.data;
            if (!page.next_cursor)
                return;
            query.cursor = page.next_cursor;
        }
    }
    async credential() {
        return this.options.apiKey ?? (await this.options.idToken());
    }
    async wait(attempt, retryAfterS) {
        this.retries += 1;
        const backoff = this.options.backoffMs ?? 500;
        const ms = retryAfterS !== null
            ? retryAfterS * 1000 + Math.random() * 250
            : Math.random() * Math.min(MAX_BACKOFF_MS, backoff * 2 ** attempt);
        await (this.options.sleep ?? ((t) => new Promise((done) => setTimeout(done, t))))(ms);
    }
}
/** A connection that was never made (refused, no route): nothing reached the API. */
function neverSent(error) {
    const cause = error?.cause;
    return cause?.code === "ECONNREFUSED" || cause?.code === "ENOTFOUND";
}
function describe(error) {
    const cause = error?.cause;
    const base = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return cause ? `${base} (${cause.code ?? cause.message ?? "?"})` : base;
}
/** `partner-api-typescript/<version>`, then the runtime, as the API's logs show it. */
export function userAgent(version) {
    const node = globalThis.process?.version;
    return `partner-api-typescript/${version} (${node ? `node ${node}` : "browser"})`;
}
/** Read, change and update with If-Match, reading again after each 412. */
export async function modifyRecord(read, update, change, attempts) {
    if (attempts < 1)
        throw new RangeError("attempts must be at least 1");
    for (let attempt = 0;; attempt++) {
        const tagged = await read();
        const patch = await change(tagged.record);
        if (patch === null)
            return tagged.record;
        try {
            return await update(patch, tagged.etag);
        }
        catch (error) {
            if (!(error instanceof PreconditionFailed) || attempt === attempts - 1)
                throw error;
        }
    }
}
