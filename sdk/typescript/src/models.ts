// The contract's models. Generated from openapi.json by `make sdk`; do not edit.

export interface Deleted {
  deleted: true;
  id: string;
}

/** One more attempt of a delivery, on its way (recorded in the same delivery). */
export interface DeliveryResent {
  id: string;
  resent: true;
}

/** Entries of one partner tenant. */
export interface Entry {
  /** An exact decimal carried as a string: an optional minus sign, up to 15 digits, and up to 2 decimals. Never a JSON number. */
  amount: string;
  category: string | null;
  /** When created (UTC). Null where another writer stored the record without it. */
  createdAt: string | null;
  /** The uid (or key id) that created it. Null where another writer stored the record without it. */
  createdBy: string | null;
  /** ISO 4217 currency code (three capital letters). */
  currency: string;
  /** ISO calendar date, YYYY-MM-DD. */
  date: string;
  /** What the entry is for. Length is counted in UTF-16 code units: an emoji counts as two characters. */
  description: string;
  /** Server-assigned id. */
  id: string;
  /** The tenant that owns it. */
  partnerId: string;
  reference: string | null;
  /** When last changed through the API (UTC). Null where another writer stored the record without it. */
  updatedAt: string | null;
  /** +1 on every update; the ETag. Null where another writer stored the record without it. */
  version: number | null;
}

/** A new entry: the fields partners may set, no server's. */
export interface EntryCreate {
  /** An exact decimal carried as a string: an optional minus sign, up to 15 digits, and up to 2 decimals. Never a JSON number. */
  amount: string;
  /** A free label for grouping and filtering. Length is counted in UTF-16 code units: an emoji counts as two characters. */
  category?: string;
  /** ISO 4217 currency code (three capital letters). */
  currency: string;
  /** ISO calendar date, YYYY-MM-DD. */
  date: string;
  /** What the entry is for. Length is counted in UTF-16 code units: an emoji counts as two characters. */
  description: string;
  /** The partner's own id for the record. Length is counted in UTF-16 code units: an emoji counts as two characters. */
  reference?: string;
}

/** The fields a `fields` query asked for (and `id`). */
export interface EntryFields {
  /** An exact decimal carried as a string: an optional minus sign, up to 15 digits, and up to 2 decimals. Never a JSON number. */
  amount?: string;
  category?: string | null;
  /** When created (UTC). Null where another writer stored the record without it. */
  createdAt?: string | null;
  /** The uid (or key id) that created it. Null where another writer stored the record without it. */
  createdBy?: string | null;
  /** ISO 4217 currency code (three capital letters). */
  currency?: string;
  /** ISO calendar date, YYYY-MM-DD. */
  date?: string;
  /** What the entry is for. Length is counted in UTF-16 code units: an emoji counts as two characters. */
  description?: string;
  /** Server-assigned id. */
  id: string;
  /** The tenant that owns it. */
  partnerId?: string;
  reference?: string | null;
  /** When last changed through the API (UTC). Null where another writer stored the record without it. */
  updatedAt?: string | null;
  /** +1 on every update; the ETag. Null where another writer stored the record without it. */
  version?: number | null;
}

export interface EntryPage {
  /** Whole entries, or with `fields` the fields asked for. */
  data: Array<Entry | EntryFields>;
  has_more: boolean;
  next_cursor: string | null;
  /** Ids of stored documents in this page's range that are not valid records (left by another writer): left out of data, never hidden. */
  skipped: Array<string>;
}

/** The fields to change; null clears an optional field. */
export interface EntryPatch {
  /** An exact decimal carried as a string: an optional minus sign, up to 15 digits, and up to 2 decimals. Never a JSON number. */
  amount?: string;
  category?: string | null;
  /** ISO 4217 currency code (three capital letters). */
  currency?: string;
  /** ISO calendar date, YYYY-MM-DD. */
  date?: string;
  /** What the entry is for. Length is counted in UTF-16 code units: an emoji counts as two characters. */
  description?: string;
  reference?: string | null;
}

export interface ErrorBody {
  code: string;
  details?: Array<FieldIssue>;
  message: string;
  request_id: string;
  status: number;
}

export interface ErrorEnvelope {
  error: ErrorBody;
}

/** One change of one record, as its partner may see it. */
export interface Event {
  /** The partner-visible fields the change set or removed. */
  changed_fields: Array<string>;
  /** The record's partner-visible fields after the change (before it, for a deletion); never a hidden field. */
  data: { [key: string]: unknown };
  id: string;
  occurred_at: string;
  partner_id: string;
  record_id: string;
  /** The API request that made the change. */
  request_id: string | null;
  resource: string;
  type: string;
  /** The record's version after the change, where it keeps one. */
  version: number | null;
  /** Who changed it: `api` (this API), `direct` (a partner straight on Firestore), `app` (the app's owner). */
  writer: "api" | "direct" | "app";
}

export interface EventPage {
  data: Array<Event>;
  has_more: boolean;
  next_cursor: string | null;
}

/** A test event to send to an endpoint. */
export interface EventTestRequest {
  /** The resource the test event is about (its type is `<resource>.test`); default: the first declared. */
  resource?: "entries" | null;
}

/** A test event on its way: signed and delivered as any event, whatever types the endpoint takes; its delivery is listed with the endpoint's. Test events are not kept: they are in no events list and cannot be resent. */
export interface EventTestSent {
  delivery_id: string;
  event_id: string;
  type: string;
}

export interface FieldIssue {
  field: string;
  message: string;
}

/** A webhook endpoint to create. */
export interface NewWebhookEndpoint {
  description?: string | null;
  /** The event types to deliver; `*` for all. */
  event_types?: Array<"*" | "entries.created" | "entries.updated" | "entries.deleted">;
  /** Where events are POSTed: https, a public address. */
  url: string;
}

/** A new signing secret for an endpoint; the ones in use keep signing for the overlap. */
export interface SecretRotation {
  /** How long the secrets in use keep signing beside the new one (0: stop at once). */
  overlap_hours?: number;
}

export interface Summary {
  /** Entries summed. */
  entries: number;
  from: string;
  /** Ids of stored documents in the range that are not valid entries. */
  skipped: Array<string>;
  to: string;
  /** By currency, then category (null first). */
  totals: Array<Total>;
}

export interface Total {
  /** The exact sum, with two decimals. */
  amount: string;
  /** Null for entries without one. */
  category: string | null;
  currency: string;
  entries: number;
}

/** One try to deliver an event. */
export interface WebhookDeliveryAttemptJson {
  at: string;
  /** The queue's retry count: 0 for the first try. */
  attempt: number;
  /** Why the try failed; null when it succeeded. */
  error: string | null;
  latency_ms: number | null;
  /** When the queue tries again; null when it will not. */
  next_attempt_at: string | null;
  /** The receiver's HTTP status; null: no answer. */
  status: number | null;
}

/** An event's delivery to one endpoint, every attempt in it, oldest first. */
export interface WebhookDeliveryJson {
  attempts: Array<WebhookDeliveryAttemptJson>;
  delivered_at: string | null;
  endpoint_id: string;
  event_id: string;
  id: string;
  state: "retrying" | "delivered" | "abandoned";
  updated_at: string;
}

export interface WebhookDeliveryList {
  data: Array<WebhookDeliveryJson>;
}

/** What to change of a webhook endpoint (at least one). */
export interface WebhookEndpointChange {
  description?: string | null;
  event_types?: Array<"*" | "entries.created" | "entries.updated" | "entries.deleted"> | null;
  status?: "enabled" | "disabled" | null;
  url?: string | null;
}

/** A webhook endpoint on the wire; `secret` only in the answer that creates it. */
export interface WebhookEndpointJson {
  created_at: string;
  description: string | null;
  disabled_reason: string | null;
  event_types: Array<string>;
  id: string;
  /** The signing secret (whsec_...): shown once, at creation or rotation. */
  secret?: string | null;
  status: "enabled" | "disabled";
  updated_at: string;
  url: string;
}

export interface WebhookEndpointList {
  data: Array<WebhookEndpointJson>;
}
