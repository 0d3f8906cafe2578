// The partner API's TypeScript SDK: a typed method per operation of the app's contract,
// with retries that cannot write twice, pages as async iterators, typed errors and
// webhook verification. No runtime dependency beyond fetch and Web Crypto.

import { Operations, VERSION } from "./operations.js";
import { Transport, userAgent, type TransportOptions } from "./runtime.js";

export * from "./errors.js";
export type * from "./models.js";
export { Operations, TITLE, VERSION } from "./operations.js";
export type { Answer, Tagged, TransportOptions } from "./runtime.js";
export { Transport } from "./runtime.js";
export * from "./webhooks.js";

/** A client of one deployment: its base URL and one credential (an API key, or a function
 * returning a fresh Firebase ID token). */
export class PartnerApi extends Operations {
  readonly transport: Transport;

  constructor(options: TransportOptions) {
    const transport = new Transport({ userAgent: userAgent(VERSION), ...options });
    super(transport);
    this.transport = transport;
  }
}
