import { Operations } from "./operations.js";
import { Transport, type TransportOptions } from "./runtime.js";
export * from "./errors.js";
export type * from "./models.js";
export { Operations, TITLE, VERSION } from "./operations.js";
export type { Answer, Tagged, TransportOptions } from "./runtime.js";
export { Transport } from "./runtime.js";
export * from "./webhooks.js";
/** A client of one deployment: its base URL and one credential (an API key, or a function
 * returning a fresh Firebase ID token). */
export declare class PartnerApi extends Operations {
    readonly transport: Transport;
    constructor(options: TransportOptions);
}
