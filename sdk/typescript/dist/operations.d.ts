import type { Deleted, DeliveryResent, Entry, EntryCreate, EntryFields, EntryPage, EntryPatch, Event, EventPage, EventTestRequest, EventTestSent, NewWebhookEndpoint, SecretRotation, Summary, WebhookDeliveryJson, WebhookDeliveryList, WebhookEndpointChange, WebhookEndpointJson, WebhookEndpointList } from "./models.js";
import { type Tagged, type Transport } from "./runtime.js";
export declare const VERSION = "1.0.0";
export declare const TITLE = "Partner API";
/** The app's own endpoints, behind the same gate as the rest. */
export declare class Endpoints {
    private readonly transport;
    constructor(transport: Transport);
    /** GET /entriesSummary. Totals of the caller's entries per currency and category, for a date range. */
    entriesSummary(options: {
        from: string;
        to: string;
        timeoutMs?: number;
    }): Promise<Summary>;
}
/** Entries of one partner tenant. */
export declare class Entries {
    private readonly transport;
    constructor(transport: Transport);
    /** GET /api/v1/entries. A page of the caller's entries, oldest first. */
    list(options?: {
        limit?: number;
        cursor?: string;
        dateFrom?: string;
        dateTo?: string;
        category?: string;
        fields?: string;
        timeoutMs?: number;
    }): Promise<EntryPage>;
    /** Every record of the list, page after page. */
    iterate(options?: {
        limit?: number;
        dateFrom?: string;
        dateTo?: string;
        category?: string;
        fields?: string;
        timeoutMs?: number;
    }): AsyncGenerator<Entry | EntryFields>;
    /** POST /api/v1/entries. Create an entry in the caller's tenant. */
    create(body: EntryCreate, options?: {
        idempotencyKey?: string;
        timeoutMs?: number;
    }): Promise<Entry>;
    /** GET /api/v1/entries/{id}. One of the caller's entries. */
    get(id: string, options?: {
        timeoutMs?: number;
    }): Promise<Entry>;
    /** The record and its ETag, for If-Match. */
    getWithEtag(id: string, options?: {
        timeoutMs?: number;
    }): Promise<Tagged<Entry>>;
    /** PATCH /api/v1/entries/{id}. Change some fields of one of the caller's entries. */
    update(id: string, body: EntryPatch, options: {
        ifMatch: string;
        timeoutMs?: number;
    }): Promise<Entry>;
    /** Read the record, ask `change` for a patch, send it with the record's ETag; on 412 read and ask again, up to `attempts` times. */
    modify(id: string, change: (record: Entry) => EntryPatch | null | Promise<EntryPatch | null>, options?: {
        attempts?: number;
        timeoutMs?: number;
    }): Promise<Entry>;
}
/** Changes of the caller's records. */
export declare class Events {
    private readonly transport;
    constructor(transport: Transport);
    /** GET /api/v1/events. The caller's change events, oldest first. */
    list(options?: {
        limit?: number;
        cursor?: string;
        type?: "entries.created" | "entries.updated" | "entries.deleted";
        timeoutMs?: number;
    }): Promise<EventPage>;
    /** Every record of the list, page after page. */
    iterate(options?: {
        limit?: number;
        type?: "entries.created" | "entries.updated" | "entries.deleted";
        timeoutMs?: number;
    }): AsyncGenerator<Event>;
    /** GET /api/v1/events/{id}. One of the caller's change events. */
    get(id: string, options?: {
        timeoutMs?: number;
    }): Promise<Event>;
}
/** Where the caller's events are sent. */
export declare class WebhookDeliveries {
    private readonly transport;
    constructor(transport: Transport);
    /** GET /api/v1/webhook_deliveries. One endpoint's latest deliveries, newest first, every attempt in each (time, status, latency, error, next attempt). */
    list(options: {
        endpoint: string;
        limit?: number;
        timeoutMs?: number;
    }): Promise<WebhookDeliveryList>;
    /** GET /api/v1/webhook_deliveries/{id}. One delivery of an event to one of the caller's endpoints. */
    get(id: string, options?: {
        timeoutMs?: number;
    }): Promise<WebhookDeliveryJson>;
    /** POST /api/v1/webhook_deliveries/{id}/resend. Deliver once more what a delivery carried (its receiver was fixed, say): one more attempt, recorded in the same delivery. No body. */
    resend(id: string, options?: {
        timeoutMs?: number;
    }): Promise<DeliveryResent>;
}
/** Where the caller's events are sent. */
export declare class WebhookEndpoints {
    private readonly transport;
    constructor(transport: Transport);
    /** GET /api/v1/webhook_endpoints. The caller's webhook endpoints (never their secrets). */
    list(options?: {
        timeoutMs?: number;
    }): Promise<WebhookEndpointList>;
    /** POST /api/v1/webhook_endpoints. Register a webhook endpoint; the answer holds its signing secret, once. */
    create(body: NewWebhookEndpoint, options?: {
        timeoutMs?: number;
    }): Promise<WebhookEndpointJson>;
    /** DELETE /api/v1/webhook_endpoints/{id}. Delete a webhook endpoint: nothing more is delivered to it. */
    delete(id: string, options?: {
        timeoutMs?: number;
    }): Promise<Deleted>;
    /** GET /api/v1/webhook_endpoints/{id}. One of the caller's webhook endpoints. */
    get(id: string, options?: {
        timeoutMs?: number;
    }): Promise<WebhookEndpointJson>;
    /** PATCH /api/v1/webhook_endpoints/{id}. Change a webhook endpoint: its URL, event types, status or description. */
    update(id: string, body: WebhookEndpointChange, options?: {
        timeoutMs?: number;
    }): Promise<WebhookEndpointJson>;
    /** POST /api/v1/webhook_endpoints/{id}/rotate_secret. A new signing secret for an endpoint, in this answer only; the secrets in use keep signing beside it for `overlap_hours`, so a receiver switches without a miss. */
    rotateSecret(id: string, body: SecretRotation, options?: {
        timeoutMs?: number;
    }): Promise<WebhookEndpointJson>;
    /** POST /api/v1/webhook_endpoints/{id}/send_test. Send the endpoint a test event (`<resource>.test`, empty `data`), signed and delivered as any event, whatever types it takes; not kept, so never resent. */
    sendTest(id: string, body: EventTestRequest, options?: {
        timeoutMs?: number;
    }): Promise<EventTestSent>;
}
/** The resources of the contract, one property each. */
export declare class Operations {
    readonly endpoints: Endpoints;
    readonly entries: Entries;
    readonly events: Events;
    readonly webhookDeliveries: WebhookDeliveries;
    readonly webhookEndpoints: WebhookEndpoints;
    constructor(transport: Transport);
}
