import { beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { createApiToken } from "@/lib/auth/api-tokens";
import type { SessionUser } from "@/lib/auth/users";
import type { clusterIdParams } from "@/lib/api/clusters";
import { handleApiRequest, type Endpoint } from "@/lib/api/route";
import { clusterSettingsResponseSchema, clusterSettingsUpdateResponseSchema } from "@/lib/api/openapi";
import * as settingsRoute from "@/app/api/v1/clusters/[id]/settings/route";
import { setupTestDatabase } from "@/lib/testing/database";
import { getClusterSettingsEndpoint, updateClusterSettingsEndpoint } from "./settings-api";

const database = setupTestDatabase();
const user = (role: SessionUser["role"]): SessionUser => ({ id: `u-${role}`, email: `${role}@example.test`, name: role, role });
const tokens = { read: "", write: "" };
const CLUSTER = "c-settings";

type ErrorBody = { error?: { code: string; message: string; fieldErrors?: Record<string, string[]> } };

/** A request as a signed-in browser session of `who`, as apiRoute makes it with the Auth.js session. */
async function asSession<B extends z.ZodType>(def: Endpoint<typeof clusterIdParams, z.ZodUnknown, B>, who: SessionUser, body?: unknown) {
  const request = new Request(`http://keyward.test/api/v1/clusters/${CLUSTER}/settings`, {
    method: body === undefined ? "GET" : "PATCH",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const response = await handleApiRequest(def, request, { params: Promise.resolve({ id: CLUSTER }) }, async () => who);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> & ErrorBody };
}

async function withToken(token: string, method: "GET" | "PATCH", body?: unknown, id = CLUSTER) {
  const request = new Request(`http://keyward.test/api/v1/clusters/${id}/settings`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const response = await settingsRoute[method](request, { params: Promise.resolve({ id }) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> & ErrorBody };
}

const storedSettings = async () => (await database.prisma.cluster.findUniqueOrThrow({ where: { id: CLUSTER } })).settings;

beforeAll(async () => {
  const db = database.prisma;
  const admin = await db.user.create({ data: { email: "admin@example.test", name: "Admin", role: "admin" } });
  const inDays = (d: number) => new Date(Date.now() + d * 86400e3);
  tokens.read = (await createApiToken(db, { name: "grafana", scope: "read", expiresAt: inDays(30), createdById: admin.id })).token;
  tokens.write = (await createApiToken(db, { name: "terraform", scope: "write", expiresAt: inDays(30), createdById: admin.id })).token;
  await db.cluster.create({ data: { id: CLUSTER, name: "prod", apiServerUrl: "https://prod.example:6443", settings: { syncIntervalMinutes: 15, usageWindowDays: 30 } } });
});

describe("/api/v1/clusters/{id}/settings", () => {
  it("GET answers the settings in effect to an auditor and to a read token", async () => {
    const auditor = await asSession(getClusterSettingsEndpoint, user("auditor"));
    expect(auditor.status).toBe(200);
    expect(clusterSettingsResponseSchema.strict().parse(auditor.body)).toEqual({
      clusterId: CLUSTER,
      settings: {
        ownerAnnotationKey: "keyward.io/owner",
        rotationDays: 90,
        maxCertificateValidityDays: 90,
        expiryWarningDays: 30,
        sharedServiceAccountWorkloads: 3,
        usageWindowDays: 30,
        clusterCidrs: [],
        usageRetentionDays: 400,
      },
    });
    expect(await withToken(tokens.read, "GET")).toEqual(auditor);
    expect(await asSession(getClusterSettingsEndpoint, user("owner"))).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect(await withToken(tokens.read, "GET", undefined, "no-such-cluster")).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
  });

  it("PATCH is refused to owners, auditors and read tokens, and the refusal is audited", async () => {
    for (const role of ["owner", "auditor"] as const) {
      expect(await asSession(updateClusterSettingsEndpoint, user(role), { rotationDays: 30 })).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    }
    expect(await withToken(tokens.read, "PATCH", { rotationDays: 30 })).toMatchObject({ status: 403, body: { error: { code: "forbidden", message: expect.stringMatching(/write scope/) } } });
    expect(await storedSettings()).toEqual({ syncIntervalMinutes: 15, usageWindowDays: 30 });
    const denied = await database.prisma.auditLogEntry.findMany({ where: { action: "cluster.settings_update", outcome: "denied" } });
    expect(denied.map((entry) => entry.actorLabel).sort()).toEqual(["auditor@example.test", "grafana", "owner@example.test"]);
  });

  it("PATCH answers 400 with field errors for an invalid CIDR or an unknown key, and writes nothing", async () => {
    const invalid = await asSession(updateClusterSettingsEndpoint, user("security"), { clusterCidrs: ["10.0.0.0/8", "10.1.0.0/99"], rotationDays: -1 });
    expect(invalid).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
    expect(invalid.body.error?.fieldErrors).toEqual({
      "clusterCidrs.1": [expect.stringMatching(/CIDR/)],
      rotationDays: [expect.any(String)],
    });
    const unknown = await withToken(tokens.write, "PATCH", { syncIntervalMinutes: 1 });
    expect(unknown).toMatchObject({ status: 400, body: { error: { code: "invalid_request", fieldErrors: { _: [expect.stringMatching(/syncIntervalMinutes/)] } } } });
    const tooShort = await withToken(tokens.write, "PATCH", { usageRetentionDays: 20 });
    expect(tooShort).toMatchObject({ status: 422, body: { error: { code: "unprocessable", message: expect.stringMatching(/usage window/) } } });
    expect(await storedSettings()).toEqual({ syncIntervalMinutes: 15, usageWindowDays: 30 });
  });

  it("PATCH with a write token (or a security engineer) changes the settings, audits who did and answers the new ones", async () => {
    const changed = await withToken(tokens.write, "PATCH", { clusterCidrs: ["10.0.0.0/8", "fd00::/8"], usageWindowDays: null });
    expect(changed.status).toBe(200);
    expect(clusterSettingsUpdateResponseSchema.strict().parse(changed.body)).toMatchObject({
      clusterId: CLUSTER,
      changed: ["clusterCidrs", "usageWindowDays"],
      settings: { clusterCidrs: ["10.0.0.0/8", "fd00::/8"], usageWindowDays: 90 },
      analysis: { opened: 0, resolved: 0, open: 0 },
    });
    expect(await storedSettings()).toEqual({ syncIntervalMinutes: 15, clusterCidrs: ["10.0.0.0/8", "fd00::/8"] });
    const audit = await database.prisma.auditLogEntry.findMany({ where: { targetId: CLUSTER, outcome: "success" }, orderBy: { seq: "asc" } });
    expect(audit.map((entry) => [entry.action, entry.actorLabel])).toEqual([
      ["cluster.settings_change", "terraform"],
      ["cluster.settings_update", "terraform"],
    ]);
    expect(audit[0].details).toEqual({ before: { clusterCidrs: [], usageWindowDays: 30 }, after: { clusterCidrs: ["10.0.0.0/8", "fd00::/8"], usageWindowDays: 90 } });

    const security = await asSession(updateClusterSettingsEndpoint, user("security"), { rotationDays: 45 });
    expect(security).toMatchObject({ status: 200, body: { changed: ["rotationDays"], settings: { rotationDays: 45, maxCertificateValidityDays: 45 } } });
  });
});
