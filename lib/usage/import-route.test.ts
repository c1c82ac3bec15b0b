import { readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { setupTestDatabase } from "@/lib/testing/database";
import { eventually } from "@/lib/testing/eventually";
import { createApiToken } from "@/lib/auth/api-tokens";
import type { SessionUser } from "@/lib/auth/users";
import { handleApiRequest } from "@/lib/api/route";
import * as importsRoute from "@/app/api/v1/clusters/[id]/audit/imports/route";
import {
  auditImportEndpoint,
  ingestHistoryEndpoint,
  ingestHistoryResponseSchema,
  ingestOutcomeSchema,
  withoutBody,
} from "./import-api";
import type { IngestOutcome } from "./types";

// POST /api/v1/clusters/{id}/audit/imports streams an audit log into the ingester; GET lists the ingest history.
const database = setupTestDatabase();
const FIXTURES = path.resolve(import.meta.dirname, "../../../shared/fixtures/real-world/audit");
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name));
const tokens = { read: "", write: "" };
const users: Record<"security" | "owner" | "auditor", SessionUser> = {
  security: { id: "u-sec", email: "sec@example.test", name: "Sec", role: "security" },
  owner: { id: "u-owner", email: "owner@example.test", name: "Owner", role: "owner" },
  auditor: { id: "u-aud", email: "aud@example.test", name: "Aud", role: "auditor" },
};

// The plan's expected counts (accepted/duplicates/rejected) for each real-world file.
const expected: Record<string, [number, number, number]> = {
  "audit2rbac-demo.jsonl": [37, 0, 0],
  "elastic-k8s-aks-kube-audit-pipeline-test.jsonl": [1, 0, 0],
  "falco-k8s-audit-traces-v1.jsonl": [4, 0, 0],
  "panther-k8s-rule-tests.jsonl": [0, 0, 103],
};

type Body = Uint8Array | string | ReadableStream<Uint8Array>;

function uploadRequest(
  clusterId: string,
  body: Body | undefined,
  options: { token?: string; contentType?: string; fileName?: string; contentLength?: number } = {},
) {
  const headers = new Headers({ "content-type": options.contentType ?? "application/x-ndjson" });
  if (options.token) headers.set("authorization", `Bearer ${options.token}`);
  if (options.contentLength !== undefined) headers.set("content-length", String(options.contentLength));
  const query = options.fileName ? `?fileName=${encodeURIComponent(options.fileName)}` : "";
  return new Request(`http://keyward.test/api/v1/clusters/${clusterId}/audit/imports${query}`, {
    method: "POST",
    headers,
    body: body as BodyInit | undefined,
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
}

const context = (clusterId: string) => ({ params: Promise.resolve({ id: clusterId }) });

async function json(response: Response) {
  return {
    status: response.status,
    body: (await response.json()) as IngestOutcome & { error?: { code: string; message: string } },
  };
}

/** Upload with an API token, through the app route as a client would. */
async function uploadWithToken(
  clusterId: string,
  body: Body | undefined,
  options: Parameters<typeof uploadRequest>[2] & { token: string },
) {
  return json(await importsRoute.POST(uploadRequest(clusterId, body, options), context(clusterId)));
}

/** Upload as a signed-in browser session of `user`, as the upload form does. */
async function uploadAs(
  user: SessionUser,
  clusterId: string,
  body: Body | undefined,
  options: Parameters<typeof uploadRequest>[2] = {},
) {
  const request = uploadRequest(clusterId, body, options);
  return json(
    await handleApiRequest(
      auditImportEndpoint(request),
      withoutBody(request),
      context(clusterId),
      async () => user,
    ),
  );
}

/** Seen audit IDs are keyed by the cluster's number. */
async function seenCount(clusterId: string) {
  const { number } = await database.prisma.cluster.findUniqueOrThrow({ where: { id: clusterId } });
  return database.prisma.auditEventSeen.count({ where: { clusterNumber: number } });
}

async function written(clusterId: string) {
  const db = database.prisma;
  const [batches, seen, rollups] = await Promise.all([
    db.auditIngestBatch.count({ where: { clusterId } }),
    seenCount(clusterId),
    db.usageRollup.count({ where: { clusterId } }),
  ]);
  return { batches, seen, rollups };
}

beforeAll(async () => {
  const db = database.prisma;
  const admin = await db.user.create({ data: { email: "admin@example.test", name: "Admin", role: "admin" } });
  await db.user.createMany({
    data: Object.values(users).map(({ id, email, name, role }) => ({ id, email, name, role })),
  });
  const inDays = (d: number) => new Date(Date.now() + d * 86400e3);
  tokens.read = (
    await createApiToken(db, { name: "grafana", scope: "read", expiresAt: inDays(30), createdById: admin.id })
  ).token;
  tokens.write = (
    await createApiToken(db, {
      name: "terraform",
      scope: "write",
      expiresAt: inDays(30),
      createdById: admin.id,
    })
  ).token;
  await db.cluster.createMany({
    data: ["plain", "gzipped", "refused", "bomb", "bomb2", "stream", "cut"].map((id) => ({
      id,
      name: id,
      apiServerUrl: `https://${id}.example:6443`,
    })),
  });
});

describe("POST /api/v1/clusters/{id}/audit/imports", () => {
  it("counts every real-world file exactly, the same gzipped as plain, and answers a re-upload with duplicates", async () => {
    for (const [file, [accepted, duplicates, rejected]] of Object.entries(expected)) {
      const plain = await uploadWithToken("plain", fixture(file), {
        token: tokens.write,
        fileName: `logs/${file}`,
      });
      expect(plain, file).toMatchObject({ status: 200, body: { accepted, duplicates, rejected } });
      expect(ingestOutcomeSchema.strict().parse(plain.body)).toEqual(plain.body);
      const gzipped = await uploadAs(users.security, "gzipped", gzipSync(fixture(file)), {
        contentType: "application/gzip",
        fileName: `${file}.gz`,
      });
      expect(gzipped.status, file).toBe(200);
      expect({ ...gzipped.body, batchId: "" }, file).toEqual({ ...plain.body, batchId: "" });

      const again = await uploadWithToken("plain", fixture(file), {
        token: tokens.write,
        contentType: "application/octet-stream",
      });
      expect(again, file).toMatchObject({
        status: 200,
        body: { accepted: 0, duplicates: accepted + duplicates, rejected },
      });
    }
    const panther = await database.prisma.auditIngestBatch.findFirstOrThrow({
      where: { clusterId: "plain", fileName: "panther-k8s-rule-tests.jsonl" },
    });
    expect(panther).toMatchObject({
      source: "upload",
      status: "completed",
      actorLabel: "terraform",
      rejected: 103,
    });
    expect(panther.sampleReasons).toEqual(
      expect.arrayContaining([expect.objectContaining({ line: 1, reason: expect.any(String) })]),
    );

    // Plain and gzip left the same usage behind.
    const rollups = async (clusterId: string) =>
      (
        await database.prisma.usageRollup.findMany({
          where: { clusterId },
          select: { verb: true, resource: true, namespace: true, count: true },
        })
      ).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect((await rollups("plain")).length).toBeGreaterThan(0);
    expect(await rollups("gzipped")).toEqual(await rollups("plain"));
    expect(await seenCount("plain")).toBe(37 + 1 + 4);

    const audit = await database.prisma.auditLogEntry.findMany({
      where: { action: "cluster.audit_import", targetId: "gzipped" },
    });
    expect(audit).toHaveLength(4);
    expect(audit[0]).toMatchObject({
      actorType: "user",
      actorLabel: users.security.email,
      outcome: "success",
    });
  });

  it("refuses owners, auditors and read tokens with 403 and writes nothing", async () => {
    const body = fixture("falco-k8s-audit-traces-v1.jsonl");
    for (const user of [users.owner, users.auditor]) {
      expect(await uploadAs(user, "refused", body)).toMatchObject({
        status: 403,
        body: { error: { code: "forbidden" } },
      });
    }
    expect(await uploadWithToken("refused", body, { token: tokens.read })).toMatchObject({
      status: 403,
      body: { error: { message: expect.stringMatching(/read scope/) } },
    });
    const anonymous = await handleApiRequest(
      auditImportEndpoint(uploadRequest("refused", body)),
      withoutBody(uploadRequest("refused", body)),
      context("refused"),
      async () => null,
    );
    expect(anonymous.status).toBe(401);
    expect(await written("refused")).toEqual({ batches: 0, seen: 0, rollups: 0 });
    // Refused before the target is known: the entries name who was refused.
    const denied = await database.prisma.auditLogEntry.findMany({
      where: { action: "cluster.audit_import", outcome: "denied" },
      orderBy: { seq: "asc" },
    });
    expect(denied.map((d) => d.actorLabel)).toEqual([users.owner.email, users.auditor.email, "grafana"]);
  });

  it("answers 404 for an unknown cluster, 400 for an empty body or another content type, and writes nothing", async () => {
    const body = fixture("falco-k8s-audit-traces-v1.jsonl");
    expect(await uploadWithToken("nope", body, { token: tokens.write })).toMatchObject({
      status: 404,
      body: { error: { code: "not_found" } },
    });
    expect(await database.prisma.auditIngestBatch.count({ where: { clusterId: "nope" } })).toBe(0);

    for (const empty of ["", "\n\n  \n", gzipSync("")]) {
      expect(await uploadWithToken("refused", empty, { token: tokens.write })).toMatchObject({
        status: 400,
        body: { error: { code: "invalid_request", message: expect.stringMatching(/no audit events/) } },
      });
    }
    expect(
      await uploadWithToken("refused", body, {
        token: tokens.write,
        contentType: "application/x-www-form-urlencoded",
      }),
    ).toMatchObject({
      status: 400,
      body: {
        error: {
          message: expect.stringMatching(
            /Content-Type application\/x-ndjson.*not application\/x-www-form-urlencoded/,
          ),
        },
      },
    });
    expect(await written("refused")).toEqual({ batches: 0, seen: 0, rollups: 0 });
  });

  it("refuses gzip bombs with 413 and counts none of it", async () => {
    // Blank lines hold no record: the bomb goes off before a batch is opened, so nothing at all is written.
    const blank = gzipSync(Buffer.alloc(64 * 1024 * 1024, "\n"), { level: 9 });
    // One endless line: it is rejected as too long before the ratio check fires, so a batch opens and fails.
    const endless = gzipSync(Buffer.alloc(64 * 1024 * 1024, "a"), { level: 9 });
    expect(blank.length + endless.length).toBeLessThan(512 * 1024);
    for (const [clusterId, bomb] of [
      ["bomb", blank],
      ["bomb2", endless],
    ] as const) {
      const response = await uploadWithToken(clusterId, bomb, {
        token: tokens.write,
        contentType: "application/gzip",
      });
      expect(response, clusterId).toMatchObject({
        status: 413,
        body: { error: { code: "payload_too_large", message: expect.stringMatching(/decompression bomb/) } },
      });
      const state = await written(clusterId);
      expect({ seen: state.seen, rollups: state.rollups }, clusterId).toEqual({ seen: 0, rollups: 0 });
      expect(
        await database.prisma.auditIngestBatch.count({
          where: { clusterId, OR: [{ status: { not: "failed" } }, { accepted: { gt: 0 } }] },
        }),
      ).toBe(0);
    }
    expect((await written("bomb")).batches).toBe(0);
  });

  it("answers 400 for a corrupt gzip file", async () => {
    const gz = gzipSync(fixture("falco-k8s-audit-traces-v1.jsonl"));
    const corrupt = Buffer.concat([gz.subarray(0, 20), Buffer.alloc(200, 0xff)]);
    expect(
      await uploadWithToken("refused", corrupt, { token: tokens.write, contentType: "application/gzip" }),
    ).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_request", message: expect.stringMatching(/gzip data is corrupt/) } },
    });
    expect(await written("refused")).toEqual({ batches: 0, seen: 0, rollups: 0 });
  });

  it("refuses a body cut short of its Content-Length with 413, marking the batch failed", async () => {
    const body = fixture("audit2rbac-demo.jsonl");
    const response = await uploadWithToken("cut", body, {
      token: tokens.write,
      contentLength: body.length + 4096,
    });
    expect(response).toMatchObject({
      status: 413,
      body: { error: { message: expect.stringMatching(/cut on the way/) } },
    });
    expect(
      await database.prisma.auditIngestBatch.findFirstOrThrow({ where: { clusterId: "cut" } }),
    ).toMatchObject({ status: "failed" });
  });

  it("ingests while the body is still arriving: the batch is open before the last byte is sent", async () => {
    const lines = fixture("audit2rbac-demo.jsonl").toString("utf8").trimEnd().split("\n");
    const encoder = new TextEncoder();
    let sentLast = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const line = lines.shift();
        if (line === undefined) return controller.close();
        if (lines.length === 0) {
          // Before the final line: a buffering server would still be waiting for it, a streaming one has begun.
          const open = await eventually(
            () =>
              database.prisma.auditIngestBatch.count({ where: { clusterId: "stream", status: "running" } }),
            (n) => n === 1,
          );
          expect(open).toBe(1);
          sentLast = true;
        }
        controller.enqueue(encoder.encode(`${line}\n`));
      },
    });
    const response = await uploadWithToken("stream", body, { token: tokens.write });
    expect(sentLast).toBe(true);
    expect(response).toMatchObject({ status: 200, body: { accepted: 37, duplicates: 0, rejected: 0 } });
  });
});

describe("GET /api/v1/clusters/{id}/audit/imports", () => {
  const history = async (user: SessionUser, clusterId: string, query = "") => {
    const response = await handleApiRequest(
      ingestHistoryEndpoint,
      new Request(`http://keyward.test/api/v1/clusters/${clusterId}/audit/imports${query}`),
      context(clusterId),
      async () => user,
    );
    return {
      status: response.status,
      body: (await response.json()) as {
        items: { fileName: string | null; startedAt: string }[];
        total: number;
        page: number;
      },
    };
  };

  it("pages the batches newest first for readers, refuses owners and unknown clusters", async () => {
    const all = await history(users.auditor, "plain", "?pageSize=100");
    expect(all.status).toBe(200);
    expect(ingestHistoryResponseSchema.parse(all.body)).toEqual(all.body);
    expect(all.body.total).toBe(8);
    const times = all.body.items.map((b) => b.startedAt);
    expect([...times].sort().reverse()).toEqual(times);
    expect(all.body.items[0].fileName).toBeNull();
    expect(all.body.items.at(-1)?.fileName).toBe("audit2rbac-demo.jsonl");

    const second = await history(users.security, "plain", "?page=2&pageSize=3");
    expect(second.body).toMatchObject({ page: 2, total: 8 });
    expect(second.body.items).toEqual(all.body.items.slice(3, 6));

    expect((await history(users.owner, "plain")).status).toBe(403);
    expect((await history(users.auditor, "nope")).status).toBe(404);
    expect((await history(users.auditor, "plain", "?pageSize=1000")).status).toBe(400);
  });
});
