// Webhook verification (Standard Webhooks, as the API signs every delivery): webhook-id,
// webhook-timestamp (Unix seconds) and webhook-signature (`v1,<base64 HMAC-SHA256 of
// "id.timestamp.body">`, one per secret while a rotated secret overlaps its successor).
// Web Crypto only, so it runs in Node 20+, Deno, workers and browsers alike.

import type { Event } from "./models.js";

export const DEFAULT_TOLERANCE_S = 300;

/** A delivery that must not be acted on; answer it 400. */
export class WebhookVerificationFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** No signature matches a secret: the body or a header was not the API's. */
export class WebhookForged extends WebhookVerificationFailed {}
/** Signed too long ago (or in the future): a delivery captured and sent again later. */
export class WebhookStale extends WebhookVerificationFailed {}
/** This delivery id was verified before by this verifier (call forget(id) after a failure). */
export class WebhookReplayed extends WebhookVerificationFailed {}

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

export class Webhook {
  private readonly keys: Promise<CryptoKey[]>;
  private readonly seen = new Map<string, number>();
  private readonly toleranceS: number;
  private readonly clock: () => number;

  constructor(secret: string | string[], options: { toleranceS?: number; clock?: () => number } = {}) {
    const secrets = typeof secret === "string" ? [secret] : secret;
    if (secrets.length === 0) throw new TypeError("give at least one secret");
    this.keys = Promise.all(secrets.map(importKey));
    this.toleranceS = options.toleranceS ?? DEFAULT_TOLERANCE_S;
    this.clock = options.clock ?? (() => Date.now() / 1000);
  }

  /** The event of a delivery, once its signature, age and id are checked. */
  async verify(body: string | Uint8Array, headers: HeaderSource): Promise<Event> {
    const raw = typeof body === "string" ? new TextEncoder().encode(body) : body;
    const id = header(headers, "webhook-id");
    const stamp = header(headers, "webhook-timestamp");
    const given = header(headers, "webhook-signature");
    if (!id || !stamp || !given) {
      throw new WebhookForged("missing webhook-id, webhook-timestamp or webhook-signature");
    }
    const signedAt = Number(stamp);
    if (!Number.isInteger(signedAt)) throw new WebhookForged("webhook-timestamp is not a number");
    const prefix = new TextEncoder().encode(`${id}.${signedAt}.`);
    const content = new Uint8Array(prefix.length + raw.length);
    content.set(prefix);
    content.set(raw, prefix.length);
    const offered = given
      .split(" ")
      .filter((part) => part.startsWith("v1,"))
      .map((part) => fromBase64(part.slice(3)));
    let matched = false;
    for (const key of await this.keys) {
      for (const signature of offered) {
        if (signature && (await crypto.subtle.verify("HMAC", key, signature, content))) matched = true;
      }
    }
    if (!matched) throw new WebhookForged("no signature matches the secret");
    const now = this.clock();
    if (Math.abs(now - signedAt) > this.toleranceS) {
      throw new WebhookStale(`signed ${Math.trunc(now - signedAt)} s ago; tolerance ${this.toleranceS} s`);
    }
    for (const [seenId, at] of this.seen) if (now - at > 2 * this.toleranceS) this.seen.delete(seenId);
    if (this.seen.has(id)) throw new WebhookReplayed(`delivery ${id} was verified before`);
    this.seen.set(id, now);
    try {
      return JSON.parse(new TextDecoder().decode(raw)) as Event;
    } catch {
      throw new WebhookForged("the body is not JSON");
    }
  }

  /** Accept this delivery id again (after a failure that answered the API non-2xx). */
  forget(id: string): void {
    this.seen.delete(id);
  }
}

function header(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

async function importKey(secret: string): Promise<CryptoKey> {
  const bytes = fromBase64(secret.startsWith("whsec_") ? secret.slice(6) : secret);
  if (!bytes) throw new TypeError("a webhook secret is whsec_ followed by base64");
  return crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
}
