// The TypeScript SDK (sdk/typescript, generated from openapi.json) against the running
// functions, under Node's own test runner after `tsc --strict`. tests/emulator/
// test_sdk_typescript.py compiles it, makes the partners and the proxies, and passes them
// in SDK_TEST_SETUP.

import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import { test } from "node:test";

import {
  Conflict,
  NotFound,
  PartnerApi,
  PermissionDenied,
  PreconditionFailed,
  RateLimited,
  ServiceUnavailable,
  Unauthenticated,
  ValidationFailed,
  VERSION,
  Webhook,
  WebhookForged,
  WebhookReplayed,
  WebhookStale,
  type Entry,
  type EntryCreate,
} from "../../sdk/typescript/src/index.js";

interface Setup {
  baseUrl: string;
  key: string;
  readerKey: string;
  limitedKey: string;
  lostKeys: Record<"503" | "cut", string>;
  losing: Record<"503" | "cut", string>;
  pagesKey: string;
}

const setup = JSON.parse(process.env.SDK_TEST_SETUP ?? "{}") as Setup;
const HOOK = "http://127.0.0.1:9/hook";

function client(key: string, extra: Partial<ConstructorParameters<typeof PartnerApi>[0]> = {}): PartnerApi {
  return new PartnerApi({ baseUrl: setup.baseUrl, apiKey: key, ...extra });
}

function entry(overrides: Partial<EntryCreate> = {}): EntryCreate {
  return {
    description: "Catering, March",
    amount: "123.45",
    currency: "EUR",
    date: "2026-03-31",
    ...overrides,
  };
}

async function rejects<E extends Error>(promise: Promise<unknown>, kind: new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof kind, `expected ${kind.name}, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${kind.name}, got success`);
}

test("errors are typed and carry the request id and the field issues", async () => {
  const wrong = await rejects(client(`pak_test_${"x".repeat(40)}`).entries.list(), Unauthenticated);
  assert.equal(wrong.status, 401);
  assert.ok(wrong.requestId && wrong.message.includes(wrong.requestId));
  const denied = await rejects(client(setup.readerKey).entries.create(entry()), PermissionDenied);
  assert.match(denied.message, /entries:write/);
  const api = client(setup.key);
  const missing = await rejects(api.entries.get("no-such-entry"), NotFound);
  assert.equal(missing.requestId, missing.headers.get("x-request-id"));
  const invalid = await rejects(api.entries.create(entry({ amount: "12.345", currency: "euro" })), ValidationFailed);
  assert.deepEqual(invalid.issues.map((i) => i.field).sort(), ["amount", "currency"]);
  await api.entries.create(entry(), { idempotencyKey: "order-ts-1" });
  await rejects(api.entries.create(entry({ amount: "1.00" }), { idempotencyKey: "order-ts-1" }), Conflict);
  assert.equal(api.transport.retries, 0);
});

for (const mode of ["503", "cut"] as const) {
  test(`a create whose answer is lost (${mode}) is retried with its key and writes once`, async () => {
    const api = new PartnerApi({ baseUrl: setup.losing[mode], apiKey: setup.lostKeys[mode] });
    const made = await api.entries.create(entry({ description: `lost ${mode}` }));
    assert.equal(api.transport.retries, 1);
    const all: Entry[] = [];
    for await (const e of client(setup.lostKeys[mode]).entries.iterate()) all.push(e as Entry);
    assert.deepEqual(
      all.map((e) => e.id),
      [made.id],
    );
  });
}

test("a write without an Idempotency-Key is not sent again after a lost answer", async () => {
  const api = new PartnerApi({ baseUrl: setup.losing["503"], apiKey: setup.key });
  const lost = await rejects(api.webhookEndpoints.create({ url: HOOK }), ServiceUnavailable);
  assert.equal(lost.requestId, "proxy-lost-answer");
  assert.equal(api.transport.retries, 0);
  const made = await client(setup.key).webhookEndpoints.list();
  assert.deepEqual(
    made.data.map((e) => e.url),
    [HOOK],
  );
});

test("a rate-limited call waits for Retry-After, then passes", async () => {
  const impatient = client(setup.limitedKey, { maxRetries: 0 });
  await impatient.entries.list({ limit: 1 });
  const limited = await rejects(impatient.entries.list({ limit: 1 }), RateLimited);
  assert.ok(limited.retryAfter !== null && limited.retryAfter > 0 && limited.retryAfter <= 5, `${limited.retryAfter}`);
  assert.ok(limited.requestId);
  const waits: number[] = [];
  const api = client(setup.limitedKey, {
    sleep: async (ms) => {
      waits.push(ms);
      await new Promise((done) => setTimeout(done, ms));
    },
  });
  for (let n = 0; n < 3; n++) await api.entries.list({ limit: 1 });
  assert.ok(waits.length >= 2, `${waits}`);
  assert.equal(api.transport.retries, waits.length);
  assert.ok(waits.every((ms) => ms >= 500), `${waits}`);
});

test("every entries operation, iteration across pages, and the owner's endpoint", async () => {
  const api = client(setup.pagesKey);
  const made: Entry[] = [];
  for (let n = 0; n < 23; n++) {
    made.push(await api.entries.create(entry({ description: `e${n}`, date: `2026-04-${String(n + 1).padStart(2, "0")}` })));
  }
  const first = await api.entries.list({ limit: 10 });
  assert.equal(first.data.length, 10);
  assert.ok(first.has_more && first.next_cursor);
  const every: string[] = [];
  for await (const e of api.entries.iterate({ limit: 10 })) every.push((e as Entry).id ?? "");
  assert.deepEqual(
    every,
    made.map((e) => e.id),
  );
  const window: string[] = [];
  for await (const e of api.entries.iterate({ limit: 5, dateFrom: "2026-04-05", dateTo: "2026-04-09" })) {
    window.push((e as Entry).description ?? "");
  }
  assert.deepEqual(window, ["e4", "e5", "e6", "e7", "e8"]);
  const id = made[0]!.id!;
  assert.deepEqual(await api.entries.get(id), made[0]);
  const tagged = await api.entries.getWithEtag(id);
  assert.equal(tagged.etag, '"1"');
  const changed = await api.entries.update(id, { amount: "9.99" }, { ifMatch: tagged.etag });
  assert.equal(changed.amount, "9.99");
  await rejects(api.entries.update(id, { amount: "1.00" }, { ifMatch: tagged.etag }), PreconditionFailed);
  const summary = await api.endpoints.entriesSummary({ from: "2026-04-01", to: "2026-04-30" });
  assert.equal(summary.entries, 23);
  assert.equal(api.transport.retries, 0);
});

test("modify reads again after a 412 and applies the change once", async () => {
  const api = client(setup.key);
  const other = client(setup.key);
  const record = await api.entries.create(entry({ amount: "10.00" }));
  const seen: number[] = [];
  const done = await api.entries.modify(record.id!, async (current) => {
    seen.push(current.version ?? 0);
    if (seen.length === 1) await other.entries.modify(record.id!, () => ({ description: "by another" }));
    return { amount: (Number(current.amount) + 1).toFixed(2) };
  });
  assert.deepEqual(seen, [1, 2]);
  assert.deepEqual([done.amount, done.description, done.version], ["11.00", "by another", 3]);
});

test("webhooks: endpoints, test events, rotation, resends, and real deliveries verified", async () => {
  const received: Array<{ headers: IncomingMessage["headers"]; body: Buffer }> = [];
  const arrived: Array<() => void> = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(204).end();
      arrived.splice(0).forEach((wake) => wake());
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  const deliveries = async (count: number) => {
    const deadline = Date.now() + 120_000;
    while (received.length < count) {
      assert.ok(Date.now() < deadline, `${received.length} of ${count} deliveries`);
      await new Promise<void>((wake) => {
        arrived.push(wake);
        setTimeout(wake, 1000);
      });
    }
    return received[count - 1]!;
  };
  try {
    const api = client(setup.pagesKey);
    const endpoint = await api.webhookEndpoints.create({
      url: `http://127.0.0.1:${port}/hook`,
      event_types: ["entries.created"],
    });
    const secret = endpoint.secret!;
    assert.match(secret, /^whsec_/);
    const created = await api.entries.create(entry());
    const delivered = await deliveries(1);
    const hook = new Webhook(secret);
    const event = await hook.verify(delivered.body, delivered.headers as Record<string, string>);
    assert.deepEqual([event.type, event.record_id], ["entries.created", created.id]);
    await assert.rejects(hook.verify(delivered.body, delivered.headers as Record<string, string>), WebhookReplayed);
    const forged = Buffer.from(delivered.body.toString().replace("entries.created", "entries.deleted"));
    await assert.rejects(new Webhook(secret).verify(forged, delivered.headers as Record<string, string>), WebhookForged);
    const late = new Webhook(secret, { clock: () => Date.now() / 1000 + 3600 });
    await assert.rejects(late.verify(delivered.body, delivered.headers as Record<string, string>), WebhookStale);
    const events = [];
    for await (const e of api.events.iterate({ type: "entries.created" })) events.push(e);
    assert.ok(events.some((e) => e.id === event.id));
    assert.deepEqual(await api.events.get(event.id), events.find((e) => e.id === event.id));

    const sent = await api.webhookEndpoints.sendTest(endpoint.id, {});
    const tested = await deliveries(2);
    const testEvent = await new Webhook(secret).verify(tested.body, tested.headers as Record<string, string>);
    assert.deepEqual([testEvent.type, testEvent.id], ["entries.test", sent.event_id]);

    const rotated = await api.webhookEndpoints.rotateSecret(endpoint.id, { overlap_hours: 1 });
    assert.ok(rotated.secret && rotated.secret !== secret);
    const listed = await api.webhookDeliveries.list({ endpoint: endpoint.id });
    const first = listed.data.find((d) => d.event_id === event.id)!;
    assert.equal((await api.webhookDeliveries.get(first.id)).event_id, event.id);
    await api.webhookDeliveries.resend(first.id);
    const again = await deliveries(3);
    for (const key of [secret, rotated.secret]) {
      const resent = await new Webhook(key).verify(again.body, again.headers as Record<string, string>);
      assert.equal(resent.id, event.id);
    }
    assert.equal((await api.webhookEndpoints.update(endpoint.id, { status: "disabled" })).status, "disabled");
    assert.equal((await api.webhookEndpoints.delete(endpoint.id)).deleted, true);
    await rejects(api.webhookEndpoints.get(endpoint.id), NotFound);
  } finally {
    server.close();
  }
});

test("the client names the SDK in its User-Agent", () => {
  const api = client(setup.key);
  assert.equal(VERSION, process.env.SDK_VERSION);
  assert.match(api.transport.userAgent ?? "", new RegExp(`^partner-api-typescript/${VERSION} \\(node v`));
});
