// A method per operation of the contract. Generated from openapi.json by `make sdk`; do not edit.
import { modifyRecord, segment } from "./runtime.js";
export const VERSION = "1.0.0";
export const TITLE = "Partner API";
/** The app's own endpoints, behind the same gate as the rest. */
export class Endpoints {
    transport;
    constructor(transport) {
        this.transport = transport;
    }
    /** GET /entriesSummary. Totals of the caller's entries per currency and category, for a date range. */
    async entriesSummary(options) {
        return (await this.transport.send({ method: "GET", path: `/entriesSummary`, query: { from: options["from"], to: options["to"] }, timeoutMs: options.timeoutMs })).data;
    }
}
/** Entries of one partner tenant. */
export class Entries {
    transport;
    constructor(transport) {
        this.transport = transport;
    }
    /** GET /api/v1/entries. A page of the caller's entries, oldest first. */
    async list(options = {}) {
        return (await this.transport.send({ method: "GET", path: `/api/v1/entries`, query: { limit: options["limit"], cursor: options["cursor"], dateFrom: options["dateFrom"], dateTo: options["dateTo"], category: options["category"], fields: options["fields"] }, timeoutMs: options.timeoutMs })).data;
    }
    /** Every record of the list, page after page. */
    iterate(options = {}) {
        return this.transport.pages({ method: "GET", path: `/api/v1/entries`, query: { limit: options["limit"], dateFrom: options["dateFrom"], dateTo: options["dateTo"], category: options["category"], fields: options["fields"] }, timeoutMs: options.timeoutMs });
    }
    /** POST /api/v1/entries. Create an entry in the caller's tenant. */
    async create(body, options = {}) {
        return (await this.transport.send({ method: "POST", path: `/api/v1/entries`, body, idempotent: true, idempotencyKey: options.idempotencyKey, timeoutMs: options.timeoutMs })).data;
    }
    /** GET /api/v1/entries/{id}. One of the caller's entries. */
    async get(id, options = {}) {
        return (await this.transport.send({ method: "GET", path: `/api/v1/entries/${segment(id)}`, timeoutMs: options.timeoutMs })).data;
    }
    /** The record and its ETag, for If-Match. */
    async getWithEtag(id, options = {}) {
        const answer = await this.transport.send({ method: "GET", path: `/api/v1/entries/${segment(id)}`, timeoutMs: options.timeoutMs });
        return { record: answer.data, etag: answer.headers.get("etag") ?? "" };
    }
    /** PATCH /api/v1/entries/{id}. Change some fields of one of the caller's entries. */
    async update(id, body, options) {
        return (await this.transport.send({ method: "PATCH", path: `/api/v1/entries/${segment(id)}`, body, headers: { "If-Match": options.ifMatch }, timeoutMs: options.timeoutMs })).data;
    }
    /** Read the record, ask `change` for a patch, send it with the record's ETag; on 412 read and ask again, up to `attempts` times. */
    async modify(id, change, options = {}) {
        return modifyRecord(() => this.getWithEtag(id, { timeoutMs: options.timeoutMs }), (patch, etag) => this.update(id, patch, { ifMatch: etag, timeoutMs: options.timeoutMs }), change, options.attempts ?? 5);
    }
}
/** Changes of the caller's records. */
export class Events {
    transport;
    constructor(transport) {
        this.transport = transport;
    }
    /** GET /api/v1/events. The caller's change events, oldest first. */
    async list(options = {}) {
        return (await this.transport.send({ method: "GET", path: `/api/v1/events`, query: { limit: options["limit"], cursor: options["cursor"], type: options["type"] }, timeoutMs: options.timeoutMs })).data;
    }
    /** Every record of the list, page after page. */
    iterate(options = {}) {
        return this.transport.pages({ method: "GET", path: `/api/v1/events`, query: { limit: options["limit"], type: options["type"] }, timeoutMs: options.timeoutMs });
    }
    /** GET /api/v1/events/{id}. One of the caller's change events. */
    async get(id, options = {}) {
        return (await this.transport.send({ method: "GET", path: `/api/v1/events/${segment(id)}`, timeoutMs: options.timeoutMs })).data;
    }
}
/** Where the caller's events are sent. */
export class WebhookDeliveries {
    transport;
    constructor(transport) {
        this.transport = transport;
    }
    /** GET /api/v1/webhook_deliveries. One endpoint's latest deliveries, newest first, every attempt in each (time, status, latency, error, next attempt). */
    async list(options) {
        return (await this.transport.send({ method: "GET", path: `/api/v1/webhook_deliveries`, query: { endpoint: options["endpoint"], limit: options["limit"] }, timeoutMs: options.timeoutMs })).data;
    }
    /** GET /api/v1/webhook_deliveries/{id}. One delivery of an event to one of the caller's endpoints. */
    async get(id, options = {}) {
        return (await this.transport.send({ method: "GET", path: `/api/v1/webhook_deliveries/${segment(id)}`, timeoutMs: options.timeoutMs })).data;
    }
    /** POST /api/v1/webhook_deliveries/{id}/resend. Deliver once more what a delivery carried (its receiver was fixed, say): one more attempt, recorded in the same delivery. No body. */
    async resend(id, options = {}) {
        return (await this.transport.send({ method: "POST", path: `/api/v1/webhook_deliveries/${segment(id)}/resend`, timeoutMs: options.timeoutMs })).data;
    }
}
/** Where the caller's events are sent. */
export class WebhookEndpoints {
    transport;
    constructor(transport) {
        this.transport = transport;
    }
    /** GET /api/v1/webhook_endpoints. The caller's webhook endpoints (never their secrets). */
    async list(options = {}) {
        return (await this.transport.send({ method: "GET", path: `/api/v1/webhook_endpoints`, timeoutMs: options.timeoutMs })).data;
    }
    /** POST /api/v1/webhook_endpoints. Register a webhook endpoint; the answer holds its signing secret, once. */
    async create(body, options = {}) {
        return (await this.transport.send({ method: "POST", path: `/api/v1/webhook_endpoints`, body, timeoutMs: options.timeoutMs })).data;
    }
    /** DELETE /api/v1/webhook_endpoints/{id}. Delete a webhook endpoint: nothing more is delivered to it. */
    async delete(id, options = {}) {
        return (await this.transport.send({ method: "DELETE", path: `/api/v1/webhook_endpoints/${segment(id)}`, timeoutMs: options.timeoutMs })).data;
    }
    /** GET /api/v1/webhook_endpoints/{id}. One of the caller's webhook endpoints. */
    async get(id, options = {}) {
        return (await this.transport.send({ method: "GET", path: `/api/v1/webhook_endpoints/${segment(id)}`, timeoutMs: options.timeoutMs })).data;
    }
    /** PATCH /api/v1/webhook_endpoints/{id}. Change a webhook endpoint: its URL, event types, status or description. */
    async update(id, body, options = {}) {
        return (await this.transport.send({ method: "PATCH", path: `/api/v1/webhook_endpoints/${segment(id)}`, body, timeoutMs: options.timeoutMs })).data;
    }
    /** POST /api/v1/webhook_endpoints/{id}/rotate_secret. A new signing secret for an endpoint, in this answer only; the secrets in use keep signing beside it for `overlap_hours`, so a receiver switches without a miss. */
    async rotateSecret(id, body, options = {}) {
        return (await this.transport.send({ method: "POST", path: `/api/v1/webhook_endpoints/${segment(id)}/rotate_secret`, body, timeoutMs: options.timeoutMs })).data;
    }
    /** POST /api/v1/webhook_endpoints/{id}/send_test. Send the endpoint a test event (`<resource>.test`, empty `data`), signed and delivered as any event, whatever types it takes; not kept, so never resent. */
    async sendTest(id, body, options = {}) {
        return (await this.transport.send({ method: "POST", path: `/api/v1/webhook_endpoints/${segment(id)}/send_test`, body, timeoutMs: options.timeoutMs })).data;
    }
}
/** The resources of the contract, one property each. */
export class Operations {
    endpoints;
    entries;
    events;
    webhookDeliveries;
    webhookEndpoints;
    constructor(transport) {
        this.endpoints = new Endpoints(transport);
        this.entries = new Entries(transport);
        this.events = new Events(transport);
        this.webhookDeliveries = new WebhookDeliveries(transport);
        this.webhookEndpoints = new WebhookEndpoints(transport);
    }
}
