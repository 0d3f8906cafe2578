import type { Event } from "./models.js";
export declare const DEFAULT_TOLERANCE_S = 300;
/** A delivery that must not be acted on; answer it 400. */
export declare class WebhookVerificationFailed extends Error {
    constructor(message: string);
}
/** No signature matches a secret: the body or a header was not the API's. */
export declare class WebhookForged extends WebhookVerificationFailed {
}
/** Signed too long ago (or in the future): a delivery captured and sent again later. */
export declare class WebhookStale extends WebhookVerificationFailed {
}
/** This delivery id was verified before by this verifier (call forget(id) after a failure). */
export declare class WebhookReplayed extends WebhookVerificationFailed {
}
type HeaderSource = Headers | Record<string, string | string[] | undefined>;
export declare class Webhook {
    private readonly keys;
    private readonly seen;
    private readonly toleranceS;
    private readonly clock;
    constructor(secret: string | string[], options?: {
        toleranceS?: number;
        clock?: () => number;
    });
    /** The event of a delivery, once its signature, age and id are checked. */
    verify(body: string | Uint8Array, headers: HeaderSource): Promise<Event>;
    /** Accept this delivery id again (after a failure that answered the API non-2xx). */
    forget(id: string): void;
}
export {};
