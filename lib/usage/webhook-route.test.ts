import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { POST } from "@/app/api/v1/clusters/[id]/audit/route";
import { systemActor } from "@/lib/audit/log";
import { setupTestDatabase } from "@/lib/testing/database";
import { issueIngestToken } from "./ingest-tokens";
import { MAX_WEBHOOK_BODY_BYTES } from "./webhook-ingest";

const database = setupTestDatabase();
const tokens = { a: "", b: "", revoked: "" };

beforeAll(async () => {
  const db = database.prisma;
  await db.cluster.createMany({
    data: [
      { id: "c-a", name: "a", apiServerUrl: "https://a.example:6443" },
      { id: "c-b", name: "b", apiServerUrl: "https://b.example:6443" },
    ],
  });
  tokens.revoked = (await issueIngestToken(db, "c-a", systemActor("test"))).token;
  tokens.a = (await issueIngestToken(db, "c-a", systemActor("test"))).token;
  tokens.b = (await issueIngestToken(db, "c-b", systemActor("test"))).token;
});

function event(overrides: Record<string, unknown> = {}) {
  return {
    kind: "Event",
    apiVersion: "audit.k8s.io/v1",
    level: "Metadata",
    auditID: randomUUID(),
    stage: "ResponseComplete",
    requestURI: "/api/v1/namespaces/shop/pods",
    verb: "list",
    user: { username: "system:serviceaccount:shop:api", groups: ["system:serviceaccounts", "system:authenticated"] },
    sourceIPs: ["10.0.0.7"],
    userAgent: "shop-api/1.0",
    objectRef: { resource: "pods", namespace: "shop", apiVersion: "v1" },
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: "2026-12-01T10:00:00.000001Z",
    stageTimestamp: "2026-12-01T10:00:00.002001Z",
    ...overrides,
  };
}

const eventList = (items: unknown[]) => ({ kind: "EventList", apiVersion: "audit.k8s.io/v1", metadata: {}, items });

async function post(options: {
  cluster?: string;
  token?: string;
  contentType?: string | null;
  encoding?: string;
  body: BodyInit | object;
  contentLength?: number;
}): Promise<{ status: number; body: Record<string, unknown> & { error?: { code: string; message: string } } }> {
  const headers = new Headers();
  if (options.token !== undefined) headers.set("authorization", `Bearer ${options.token}`);
  if (options.contentType !== null) headers.set("content-type", options.contentType ?? "application/json");
  if (options.encoding) headers.set("content-encoding", options.encoding);
  if (options.contentLength !== undefined) headers.set("content-length", String(options.contentLength));
  const raw = options.body;
  const body: BodyInit =
    typeof raw === "string" || raw instanceof Uint8Array || raw instanceof ReadableStream ? (raw as BodyInit) : JSON.stringify(raw);
  const cluster = options.cluster ?? "c-a";
  const request = new Request(`http://keyward.test/api/v1/clusters/${cluster}/audit`, {
    method: "POST",
    headers,
    body,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
  const response = await POST(request, { params: Promise.resolve({ id: cluster }) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> & { error?: { code: string; message: string } } };
}

/** Everything the webhook may write, counted. */
async function rowCounts() {
  const db = database.prisma;
  const [batches, seen, rollups, credentials, identities] = await Promise.all([
    db.auditIngestBatch.count(),
    db.auditEventSeen.count(),
    db.usageRollup.count(),
    db.credentialUsage.count(),
    db.identity.count(),
  ]);
  return { batches, seen, rollups, credentials, identities };
}

/** A body streamed in 1 MiB chunks, with no Content-Length: only a bounded reader notices it is too big. */
function stream(totalBytes: number): ReadableStream<Uint8Array> {
  let sent = 0;
  const chunk = new Uint8Array(1024 * 1024).fill(0x20);
  return new ReadableStream({
    pull(controller) {
      if (sent >= totalBytes) return controller.close();
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

describe("POST /api/v1/clusters/{id}/audit", () => {
  it("refuses bad input with clear 4xx answers and writes nothing", async () => {
    const before = await rowCounts();
    const good = eventList([event()]);
    const cases: Array<{ name: string; status: number; code: string; request: Parameters<typeof post>[0] }> = [
      { name: "no token", status: 401, code: "unauthenticated", request: { body: good } },
      { name: "wrong token", status: 401, code: "unauthenticated", request: { token: "kwa_nope", body: good } },
      { name: "an API token", status: 401, code: "unauthenticated", request: { token: "kw_something", body: good } },
      { name: "revoked token", status: 401, code: "unauthenticated", request: { token: tokens.revoked, body: good } },
      { name: "another cluster's token", status: 401, code: "unauthenticated", request: { token: tokens.b, body: good } },
      // No probing of cluster ids: an unknown cluster answers exactly as a wrong token does.
      { name: "unknown cluster", status: 401, code: "unauthenticated", request: { cluster: "c-unknown", token: tokens.a, body: good } },
      { name: "text/plain", status: 415, code: "unsupported_media_type", request: { token: tokens.a, contentType: "text/plain", body: good } },
      { name: "no content type", status: 415, code: "unsupported_media_type", request: { token: tokens.a, contentType: null, body: JSON.stringify(good) } },
      { name: "brotli", status: 415, code: "unsupported_media_type", request: { token: tokens.a, encoding: "br", body: good } },
      { name: "declared too large", status: 413, code: "payload_too_large", request: { token: tokens.a, body: "{}", contentLength: MAX_WEBHOOK_BODY_BYTES + 1 } },
      { name: "streamed too large", status: 413, code: "payload_too_large", request: { token: tokens.a, body: stream(MAX_WEBHOOK_BODY_BYTES + 1) } },
      {
        name: "gzip bomb (64 MiB of zeros)",
        status: 413,
        code: "payload_too_large",
        request: { token: tokens.a, encoding: "gzip", body: new Uint8Array(gzipSync(Buffer.alloc(64 * 1024 * 1024))) },
      },
      {
        name: "gzip inflating 1000:1 under the size limit",
        status: 413,
        code: "payload_too_large",
        request: { token: tokens.a, encoding: "gzip", body: new Uint8Array(gzipSync(Buffer.from(`${JSON.stringify(good)}${" ".repeat(4 * 1024 * 1024)}`))) },
      },
      { name: "corrupt gzip", status: 400, code: "invalid_request", request: { token: tokens.a, encoding: "gzip", body: "not gzip" } },
      { name: "garbage JSON", status: 400, code: "invalid_request", request: { token: tokens.a, body: '{"kind":"EventList","items":[' } },
      { name: "garbage JSON lines", status: 400, code: "invalid_request", request: { token: tokens.a, contentType: "application/x-ndjson", body: "hello\nworld\n" } },
    ];
    for (const c of cases) {
      const answer = await post(c.request);
      expect({ case: c.name, status: answer.status, code: answer.body.error?.code }).toEqual({ case: c.name, status: c.status, code: c.code });
      expect(answer.body.error?.message).toEqual(expect.any(String));
    }
    expect(await rowCounts()).toEqual(before);
  });

  it("ingests an EventList (and JSON lines, and gzip) only once: a redelivery is all duplicates", async () => {
    const items = [
      event(),
      event({ verb: "get", objectRef: { resource: "secrets", namespace: "shop", name: "db", apiVersion: "v1" } }),
      event({ auditID: undefined }),
    ];
    // Another stage of the first request: same auditID.
    items.push(event({ auditID: (items[0] as { auditID: string }).auditID, stage: "ResponseStarted" }));
    const first = await post({ token: tokens.a, body: eventList(items) });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ accepted: 2, duplicates: 1, rejected: 1 });
    const batch = await database.prisma.auditIngestBatch.findUniqueOrThrow({ where: { id: first.body.batchId as string } });
    expect(batch).toMatchObject({ clusterId: "c-a", source: "webhook", actorLabel: "audit webhook", status: "completed", accepted: 2 });
    const rollups = await database.prisma.usageRollup.findMany({ where: { clusterId: "c-a" } });
    expect(rollups.map((r) => `${r.verb} ${r.resource}`).sort()).toEqual(["get secrets", "list pods"]);

    const again = await post({ token: tokens.a, body: eventList(items) });
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 3, rejected: 1 });

    const lines = [event(), event()].map((e) => JSON.stringify(e)).join("\n");
    const jsonLines = await post({ token: tokens.a, contentType: "application/x-ndjson", body: `${lines}\nnot json\n` });
    expect(jsonLines.body).toMatchObject({ accepted: 2, duplicates: 0, rejected: 1 });

    const zipped = await post({ token: tokens.a, encoding: "gzip", body: new Uint8Array(gzipSync(JSON.stringify(eventList([event()])))) });
    expect(zipped.body).toMatchObject({ accepted: 1, duplicates: 0, rejected: 0 });
  });

  it("answers 503 when the events cannot be committed, so the API server retries, and the retry counts them", async () => {
    const db = database.prisma;
    // A real database failure: the rollup table refuses writes until the trigger is dropped.
    await db.$executeRawUnsafe(`CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql`);
    await db.$executeRawUnsafe(`CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON "UsageRollup" FOR EACH STATEMENT EXECUTE FUNCTION refuse()`);
    const body = eventList([event({ verb: "watch" })]);
    const seenBefore = await db.auditEventSeen.count();
    const refused = await post({ token: tokens.a, body });
    expect(refused.status).toBe(503);
    expect(refused.body.error?.code).toBe("unavailable");
    expect(await db.auditEventSeen.count()).toBe(seenBefore);

    await db.$executeRawUnsafe(`DROP TRIGGER refuse ON "UsageRollup"`);
    const retried = await post({ token: tokens.a, body });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ accepted: 1, duplicates: 0 });
  });
});
