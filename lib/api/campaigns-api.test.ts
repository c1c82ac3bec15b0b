// The campaign API end to end: real Postgres, the simulator registered with its sync and remediation identities,
// API tokens and sessions of each role. Decisions carried out over the API must show in the simulator's state, and
// every refusal (read token, auditor, another team's owner, mismatched paths) must leave the item and cluster as
// they were.
import { randomBytes } from "node:crypto";
import { AuthorizationV1Api, KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "@/lib/auth/api-tokens";
import type { SessionUser } from "@/lib/auth/users";
import { closeJobQueue } from "@/lib/jobs";
import { startKubeSim, type KubeSim } from "@/lib/kube-sim";
import { assignOwner } from "@/lib/owners/assign-owner";
import { addTeamMember, createTeam } from "@/lib/owners/teams";
import { REVIEWED_AT_ANNOTATION } from "@/lib/remediation/plan";
import { setupTestDatabase } from "@/lib/testing/database";
import * as campaignsRoute from "@/app/api/v1/campaigns/route";
import * as campaignRoute from "@/app/api/v1/campaigns/[id]/route";
import * as launchRoute from "@/app/api/v1/campaigns/[id]/launch/route";
import * as closeRoute from "@/app/api/v1/campaigns/[id]/close/route";
import * as cancelRoute from "@/app/api/v1/campaigns/[id]/cancel/route";
import * as itemsRoute from "@/app/api/v1/campaigns/[id]/items/route";
import * as itemRoute from "@/app/api/v1/campaigns/[id]/items/[itemId]/route";
import * as decisionRoute from "@/app/api/v1/campaigns/[id]/items/[itemId]/decision/route";
import * as previewRoute from "@/app/api/v1/campaigns/[id]/items/[itemId]/preview/route";
import * as applyRoute from "@/app/api/v1/campaigns/[id]/items/[itemId]/apply/route";
import * as bulkApproveRoute from "@/app/api/v1/campaigns/[id]/items/bulk-approve/route";
import * as exportRoute from "@/app/api/v1/campaigns/[id]/export.csv/route";
import * as rollbackRoute from "@/app/api/v1/changes/[id]/rollback/route";
import * as inventoryExportRoute from "@/app/api/v1/exports/inventory.csv/route";
import * as findingsExportRoute from "@/app/api/v1/exports/findings.csv/route";
import {
  applyDecisionEndpoint,
  campaignExportEndpoint,
  decideItemEndpoint,
  getCampaignEndpoint,
  getCampaignItemEndpoint,
  listCampaignItemsEndpoint,
  previewDecisionEndpoint,
  rollbackChangeSetEndpoint,
} from "./campaigns";
import {
  applyResultSchema,
  bulkApproveResponseSchema,
  campaignDetailResponseSchema,
  campaignItemDetailResponseSchema,
  campaignItemsResponseSchema,
  campaignListResponseSchema,
  createdCampaignResponseSchema,
  decisionPreviewResponseSchema,
  decisionResponseSchema,
  rollbackResponseSchema,
} from "./openapi";
import { handleApiRequest } from "./route";
import { connectSimCluster } from "@/lib/testing/sim-cluster";
import { csvRecords } from "@/lib/testing/csv";

process.env.KEYWARD_SECRET_KEY = randomBytes(32).toString("base64");
const database = setupTestDatabase();
const rbacGroup = "rbac.authorization.k8s.io";
const DAY = 86_400_000;

type Handler = (request: Request, context?: { params: Promise<Record<string, string>> }) => Promise<Response>;
type Endpoint = Parameters<typeof handleApiRequest>[0];
interface Call {
  path: string;
  method?: "GET" | "POST";
  body?: unknown;
  params?: Record<string, string>;
}

function request({ path, method = "GET", body }: Call, headers: Record<string, string> = {}): Request {
  if (body !== undefined) headers["content-type"] = "application/json";
  return new Request(`http://keyward.test/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** With an API token, through the route module the app serves. */
async function withToken(handler: Handler, token: string, call: Call): Promise<Response> {
  return handler(request(call, { authorization: `Bearer ${token}` }), { params: Promise.resolve(call.params ?? {}) });
}

/** As a signed-in browser session of `user` (the session resolver apiRoute takes from Auth.js). */
async function asSession(def: Endpoint, user: SessionUser, call: Call): Promise<Response> {
  return handleApiRequest(def, request(call), { params: Promise.resolve(call.params ?? {}) }, async () => user);
}

type Json = Record<string, unknown> & { error?: { code: string; message: string; fieldErrors?: Record<string, string[]>; current?: Record<string, unknown> } };
const json = async (response: Response) => ({ status: response.status, body: (await response.json()) as Json });

const users: Record<"payOwner" | "webOwner" | "auditor", SessionUser> = {
  payOwner: { id: "u-pay", email: "pay@example.test", name: "Pay owner", role: "owner" },
  webOwner: { id: "u-web", email: "web@example.test", name: "Web owner", role: "owner" },
  auditor: { id: "u-aud", email: "aud@example.test", name: "Auditor", role: "auditor" },
};
const tokens = { read: "", write: "" };

let sim: KubeSim;
let admin: KubeConfig;
let clusterId: string;
let campaignId: string;
/** Item ids by service account name. */
const items: Record<string, string> = {};

/**
 * Service accounts in `namespace`: each with a legacy token, a cluster-wide secret-reader binding of its own and a
 * RoleBinding shared with alice. The namespace's `default` service account has no access at all (a low-risk item).
 */
function seedNamespace(namespace: string, names: string[]): void {
  sim.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  for (const name of names) {
    const subject = { kind: "ServiceAccount", name, namespace };
    for (const object of [
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } },
      { apiVersion: "v1", kind: "Secret", metadata: { name: `${name}-token`, namespace, annotations: { "kubernetes.io/service-account.name": name } }, type: "kubernetes.io/service-account-token" },
      { apiVersion: `${rbacGroup}/v1`, kind: "ClusterRoleBinding", metadata: { name: `${namespace}-${name}-secrets` }, roleRef: { apiGroup: rbacGroup, kind: "ClusterRole", name: "secret-reader" }, subjects: [subject] },
      {
        apiVersion: `${rbacGroup}/v1`,
        kind: "RoleBinding",
        metadata: { name: `${name}-edit`, namespace },
        roleRef: { apiGroup: rbacGroup, kind: "ClusterRole", name: "deploy-edit" },
        subjects: [subject, { kind: "User", name: "alice", apiGroup: rbacGroup }],
      },
    ]) {
      sim.apply(object as Parameters<KubeSim["apply"]>[0]);
    }
  }
}

const rbacApi = () => admin.makeApiClient(RbacAuthorizationV1Api);

async function mayGetSecrets(namespace: string, name: string): Promise<boolean> {
  const review = await admin.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
    body: {
      spec: {
        user: `system:serviceaccount:${namespace}:${name}`,
        groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
        resourceAttributes: { verb: "get", resource: "secrets", namespace },
      },
    },
  });
  return review.status?.allowed === true;
}

async function subjectsOf(namespace: string, binding: string): Promise<string[]> {
  return ((await rbacApi().readNamespacedRoleBinding({ name: binding, namespace })).subjects ?? []).map((subject) => subject.name);
}

const itemRow = (id: string) => database.prisma.reviewItem.findUniqueOrThrow({ where: { id } });

/** The cluster still grants `name` everything it started with. */
async function expectUntouched(namespace: string, name: string): Promise<void> {
  expect(await rbacApi().readClusterRoleBinding({ name: `${namespace}-${name}-secrets` })).toBeTruthy();
  expect(await subjectsOf(namespace, `${name}-edit`)).toEqual([name, "alice"]);
  expect(await mayGetSecrets(namespace, name)).toBe(true);
}


beforeAll(async () => {
  const db = database.prisma;
  sim = await startKubeSim({ port: 0 });
  admin = new KubeConfig();
  admin.loadFromString(sim.adminKubeconfig());
  sim.apply({ apiVersion: `${rbacGroup}/v1`, kind: "ClusterRole", metadata: { name: "deploy-edit" }, rules: [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "create", "delete"] }] });
  sim.apply({ apiVersion: `${rbacGroup}/v1`, kind: "ClusterRole", metadata: { name: "secret-reader" }, rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] }] });
  seedNamespace("payments", ["checkout", "refunds", "ledger", "reports"]);
  seedNamespace("web", ["frontend"]);
  await sim.settle();

  const adminUser = await db.user.create({ data: { email: "admin@example.test", name: "Admin", role: "admin" } });
  await db.user.createMany({ data: Object.values(users).map(({ id, email, name, role }) => ({ id, email, name, role })) });
  const payments = await createTeam(db, { name: "Payments" });
  const web = await createTeam(db, { name: "Web" });
  await addTeamMember(db, payments.id, users.payOwner.id);
  await addTeamMember(db, web.id, users.webOwner.id);
  const expiresAt = new Date(Date.now() + 30 * DAY);
  tokens.read = (await createApiToken(db, { name: "grafana", scope: "read", expiresAt, createdById: adminUser.id })).token;
  tokens.write = (await createApiToken(db, { name: "terraform", scope: "write", expiresAt, createdById: adminUser.id })).token;

  clusterId = await connectSimCluster(sim, admin);
  for (const identity of await db.identity.findMany({ where: { clusterId, kind: "ServiceAccount", namespace: { in: ["payments", "web"] } } })) {
    await assignOwner(db, { identityId: identity.id, teamId: identity.namespace === "web" ? web.id : payments.id, assignedBy: "test" });
  }
}, 180_000);

afterAll(async () => {
  await closeJobQueue();
  await sim?.stop();
});

describe("campaigns", () => {
  it("a write token creates and launches a campaign; a read token may not (403, nothing created)", async () => {
    const body = { name: "Q4 payments and web", scope: { clusterIds: [clusterId], namespaces: ["payments", "web"] }, deadline: new Date(Date.now() + 14 * DAY).toISOString(), launch: true };
    const refused = await json(await withToken(campaignsRoute.POST, tokens.read, { path: "/campaigns", method: "POST", body }));
    expect(refused).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect(await database.prisma.campaign.count()).toBe(0);

    const created = await json(await withToken(campaignsRoute.POST, tokens.write, { path: "/campaigns", method: "POST", body }));
    expect(created.status).toBe(201);
    const { id, status, items: launched } = createdCampaignResponseSchema.parse(created.body);
    expect({ status, launched }).toEqual({ status: "active", launched: 7 });
    campaignId = id;
    const audit = await database.prisma.auditLogEntry.findFirst({ where: { action: "campaign.create", actorType: "apiToken" }, orderBy: { seq: "desc" } });
    expect(audit).toMatchObject({ actorLabel: "terraform", outcome: "success" });

    const list = campaignListResponseSchema.parse((await json(await withToken(campaignsRoute.GET, tokens.read, { path: "/campaigns" }))).body);
    expect(list).toMatchObject({ total: 1, items: [{ id, name: "Q4 payments and web", status: "active", scope: { namespaces: ["payments", "web"] } }] });
    const detail = campaignDetailResponseSchema.parse((await json(await withToken(campaignRoute.GET, tokens.read, { path: `/campaigns/${id}`, params: { id } }))).body);
    expect(detail.progress.map((entry) => [entry.teamName, entry.total, entry.pending]).sort()).toEqual([
      ["Payments", 5, 5],
      ["Web", 2, 2],
    ]);
    // An owner sees its own team's progress only.
    const ownView = campaignDetailResponseSchema.parse((await json(await asSession(getCampaignEndpoint, users.webOwner, { path: `/campaigns/${id}`, params: { id } }))).body);
    expect(ownView.progress.map((entry) => entry.teamName)).toEqual(["Web"]);
  });

  it("refuses a bad campaign with field errors", async () => {
    const invalid = await json(
      await withToken(campaignsRoute.POST, tokens.write, { path: "/campaigns", method: "POST", body: { name: "", deadline: "next week", scope: { kinds: ["Robot"] }, schedule: { cron: "often" } } }),
    );
    expect(invalid.status).toBe(400);
    expect(Object.keys(invalid.body.error?.fieldErrors ?? {}).sort()).toEqual(["deadline", "name", "schedule.cron", "scope.kinds.0"]);
  });

  it("launch, cancel and their conflicts; a second launch changes nothing", async () => {
    const draft = createdCampaignResponseSchema.parse(
      (await json(await withToken(campaignsRoute.POST, tokens.write, { path: "/campaigns", method: "POST", body: { name: "Draft", scope: { clusterIds: [clusterId], namespaces: ["web"] } } }))).body,
    );
    expect(draft).toMatchObject({ status: "draft", items: 0 });
    const params = { id: draft.id };
    expect(await json(await withToken(launchRoute.POST, tokens.read, { path: `/campaigns/${draft.id}/launch`, method: "POST", params }))).toMatchObject({ status: 403 });
    expect(await json(await withToken(launchRoute.POST, tokens.write, { path: `/campaigns/${draft.id}/launch`, method: "POST", params }))).toMatchObject({
      status: 200,
      body: { launched: true, items: 2 },
    });
    expect(await json(await withToken(launchRoute.POST, tokens.write, { path: `/campaigns/${draft.id}/launch`, method: "POST", params }))).toMatchObject({
      status: 200,
      body: { launched: false, items: 2 },
    });
    expect(await json(await withToken(cancelRoute.POST, tokens.write, { path: `/campaigns/${draft.id}/cancel`, method: "POST", params }))).toEqual({
      status: 200,
      body: { id: draft.id, status: "cancelled" },
    });
    expect(await json(await withToken(closeRoute.POST, tokens.write, { path: `/campaigns/${draft.id}/close`, method: "POST", params }))).toMatchObject({
      status: 409,
      body: { error: { code: "conflict", message: expect.stringMatching(/cancelled/) } },
    });
    expect((await withToken(launchRoute.POST, tokens.write, { path: "/campaigns/nope/launch", method: "POST", params: { id: "nope" } })).status).toBe(404);
  });
});

describe("items", () => {
  it("lists the items with the frozen identity, keyset-paged; an owner sees its team's items only", async () => {
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: Json } = await json(
        await withToken(itemsRoute.GET, tokens.read, { path: `/campaigns/${campaignId}/items?limit=4${cursor ? `&cursor=${cursor}` : ""}`, params: { id: campaignId } }),
      );
      expect(page.status).toBe(200);
      const parsed = campaignItemsResponseSchema.parse(page.body);
      for (const item of parsed.items) {
        names.push(`${item.identity.namespace}/${item.identity.name}`);
        items[item.identity.name] = item.id;
      }
      cursor = parsed.nextCursor;
    } while (cursor);
    expect(names.sort()).toEqual(["payments/checkout", "payments/default", "payments/ledger", "payments/refunds", "payments/reports", "web/default", "web/frontend"]);
    items.default = (await database.prisma.reviewItem.findFirstOrThrow({ where: { campaignId, identity: { namespace: "payments", name: "default" } } })).id;

    const listed = campaignItemsResponseSchema.parse(
      (await json(await withToken(itemsRoute.GET, tokens.read, { path: `/campaigns/${campaignId}/items`, params: { id: campaignId } }))).body,
    );
    expect(listed.items.find((item) => item.id === items.checkout)).toMatchObject({
      identity: { username: "system:serviceaccount:payments:checkout", kind: "ServiceAccount", cluster: "sim", clusterId, ownerTeam: { name: "Payments" } },
      status: "pending",
      decision: null,
      reviewerTeam: { name: "Payments" },
      version: 0,
    });

    const own = campaignItemsResponseSchema.parse(
      (await json(await asSession(listCampaignItemsEndpoint, users.webOwner, { path: `/campaigns/${campaignId}/items`, params: { id: campaignId } }))).body,
    );
    expect(own.items.map((item) => item.identity.name).sort()).toEqual(["default", "frontend"]);
    expect(own.items.every((item) => item.reviewerTeam?.name === "Web")).toBe(true);
  });

  it("one item with its frozen evidence; another team's item is not found for an owner, nor an item under another campaign", async () => {
    const params = { id: campaignId, itemId: items.checkout };
    const detail = campaignItemDetailResponseSchema.parse((await json(await withToken(itemRoute.GET, tokens.read, { path: `/campaigns/${campaignId}/items/${items.checkout}`, params }))).body);
    expect(detail.campaign).toMatchObject({ id: campaignId, status: "active" });
    expect(detail.evidence.grants.map((grant) => grant.binding.name).sort()).toEqual(["checkout-edit", "payments-checkout-secrets"]);
    expect(detail.evidence.credentials).toEqual([expect.objectContaining({ kind: "legacyTokenSecret", name: "checkout-token" })]);

    const foreign = await json(await asSession(getCampaignItemEndpoint, users.webOwner, { path: `/campaigns/${campaignId}/items/${items.checkout}`, params }));
    expect(foreign).toEqual({ status: 404, body: { error: { code: "not_found", message: "No such item in this campaign." } } });
    expect((await asSession(getCampaignItemEndpoint, users.payOwner, { path: `/campaigns/${campaignId}/items/${items.checkout}`, params })).status).toBe(200);

    const other = await database.prisma.campaign.create({ data: { name: "Other", status: "active", createdById: "u-sec" } });
    const crossed = { id: other.id, itemId: items.checkout };
    expect((await withToken(itemRoute.GET, tokens.read, { path: `/campaigns/${other.id}/items/${items.checkout}`, params: crossed })).status).toBe(404);
    const crossedDecision = await json(
      await withToken(decisionRoute.POST, tokens.write, { path: `/campaigns/${other.id}/items/${items.checkout}/decision`, method: "POST", params: crossed, body: { decision: "revoke", apply: true } }),
    );
    expect(crossedDecision).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
    const crossedPreview = await withToken(previewRoute.POST, tokens.write, { path: `/campaigns/${other.id}/items/${items.checkout}/preview`, method: "POST", params: crossed });
    expect(crossedPreview.status).toBe(404);
    expect(await itemRow(items.checkout)).toMatchObject({ status: "pending", decision: null, version: 0 });
    await expectUntouched("payments", "checkout");
  });
});

describe("decisions", () => {
  it("rejects a bad decision with field errors and a read token with 403; nothing changes", async () => {
    const params = { id: campaignId, itemId: items.ledger };
    const path = `/campaigns/${campaignId}/items/${items.ledger}/decision`;
    const invalid = await json(await withToken(decisionRoute.POST, tokens.write, { path, method: "POST", params, body: { decision: "delete", apply: "yes", expectedVersion: -1 } }));
    expect(invalid.status).toBe(400);
    expect(Object.keys(invalid.body.error?.fieldErrors ?? {}).sort()).toEqual(["apply", "decision", "expectedVersion"]);
    const misplaced = await json(await withToken(decisionRoute.POST, tokens.write, { path, method: "POST", params, body: { decision: "approve", comment: "ok", deleteServiceAccount: true } }));
    expect(Object.keys(misplaced.body.error?.fieldErrors ?? {}).sort()).toEqual(["apply", "deleteServiceAccount"]);
    const readOnly = await json(await withToken(decisionRoute.POST, tokens.read, { path, method: "POST", params, body: { decision: "revoke", apply: true } }));
    expect(readOnly).toMatchObject({ status: 403, body: { error: { code: "forbidden", message: expect.stringMatching(/read scope/) } } });
    expect(await itemRow(items.ledger)).toMatchObject({ status: "pending", decision: null, version: 0 });
    await expectUntouched("payments", "ledger");
  });

  it("revoke with apply=true over the API: the planned and applied changes and the verification, and the simulator shows them", async () => {
    const params = { id: campaignId, itemId: items.checkout };
    expect(await mayGetSecrets("payments", "checkout")).toBe(true);
    const response = await json(
      await withToken(decisionRoute.POST, tokens.write, { path: `/campaigns/${campaignId}/items/${items.checkout}/decision`, method: "POST", params, body: { decision: "revoke", comment: "unused", apply: true } }),
    );
    expect(response.status).toBe(200);
    const body = decisionResponseSchema.parse(response.body);
    expect(body.decision).toEqual({ itemId: items.checkout, decision: "revoke", comment: "unused", version: 1 });
    // A write token decides in the name of the admin who issued it.
    const decided = await database.prisma.reviewItem.findUniqueOrThrow({ where: { id: items.checkout } });
    expect(decided.decidedById).toBe((await database.prisma.user.findUniqueOrThrow({ where: { email: "admin@example.test" } })).id);
    const carried = body.carriedOut;
    if (!carried || carried.status === "replanned") throw new Error(`expected an applied change set, got ${JSON.stringify(carried)}`);
    expect(carried.status).toBe("applied");
    expect(carried.failure).toBeNull();
    const described = (change: { op: string; before?: { kind: string; metadata: { name: string } }; after?: { kind: string; metadata: { name: string } } }) =>
      `${change.op} ${(change.before ?? change.after)!.kind}/${(change.before ?? change.after)!.metadata.name}`;
    expect(carried.plan.changes.map(described).sort()).toEqual(["delete ClusterRoleBinding/payments-checkout-secrets", "delete Secret/checkout-token", "replace RoleBinding/checkout-edit"]);
    expect(carried.applied.map(({ change }) => described(change)).sort()).toEqual(carried.plan.changes.map(described).sort());
    expect(carried.verification.length).toBeGreaterThan(0);
    expect(carried.verification.every((check) => check.passed)).toBe(true);
    expect(carried.verification.some((check) => check.expected === "denied" && !check.allowed)).toBe(true);

    // The simulator: its own binding gone, alice kept in the shared one, no access to secrets.
    await expect(rbacApi().readClusterRoleBinding({ name: "payments-checkout-secrets" })).rejects.toMatchObject({ code: 404 });
    expect(await subjectsOf("payments", "checkout-edit")).toEqual(["alice"]);
    expect(await mayGetSecrets("payments", "checkout")).toBe(false);

    const item = campaignItemDetailResponseSchema.parse(
      (await json(await withToken(itemRoute.GET, tokens.read, { path: `/campaigns/${campaignId}/items/${items.checkout}`, params }))).body,
    );
    expect(item).toMatchObject({ status: "applied", decision: "revoke", version: 1, changeSets: [{ id: carried.changeSetId, status: "applied", decision: "revoke" }] });
  });

  it("rollback over the API restores the bindings; an unknown change set is 404, a second rollback 409", async () => {
    const { id: changeSetId } = await database.prisma.clusterChangeSet.findFirstOrThrow({ where: { reviewItemId: items.checkout, status: "applied" } });
    const path = `/changes/${changeSetId}/rollback`;
    // The other team's owner may not roll it back.
    expect(await json(await asSession(rollbackChangeSetEndpoint, users.webOwner, { path, method: "POST", params: { id: changeSetId } }))).toMatchObject({ status: 403 });
    expect(await mayGetSecrets("payments", "checkout")).toBe(false);

    const response = await json(await withToken(rollbackRoute.POST, tokens.write, { path, method: "POST", params: { id: changeSetId } }));
    expect(response.status).toBe(200);
    const rollback = rollbackResponseSchema.parse(response.body);
    expect(rollback).toMatchObject({ status: "applied", failure: null, irreversible: [expect.stringMatching(/^Secret payments\/checkout-token/)] });
    expect(rollback.verification.every((check) => check.passed && check.allowed)).toBe(true);
    expect(await rbacApi().readClusterRoleBinding({ name: "payments-checkout-secrets" })).toBeTruthy();
    expect(await subjectsOf("payments", "checkout-edit")).toEqual(["checkout", "alice"]);
    expect(await mayGetSecrets("payments", "checkout")).toBe(true);
    expect((await itemRow(items.checkout)).status).toBe("rolledBack");

    expect((await json(await withToken(rollbackRoute.POST, tokens.write, { path, method: "POST", params: { id: changeSetId } }))).status).toBe(409);
    expect((await withToken(rollbackRoute.POST, tokens.write, { path: "/changes/nope/rollback", method: "POST", params: { id: "nope" } })).status).toBe(404);
  });

  it("an owner decides its own item: preview (dry run) then apply the confirmed preview", async () => {
    const params = { id: campaignId, itemId: items.refunds };
    const base = `/campaigns/${campaignId}/items/${items.refunds}`;
    const decided = await json(await asSession(decideItemEndpoint, users.payOwner, { path: `${base}/decision`, method: "POST", params, body: { decision: "approve", comment: "still needed", expectedVersion: 0 } }));
    expect(decisionResponseSchema.parse(decided.body)).toEqual({ decision: { itemId: items.refunds, decision: "approve", comment: "still needed", version: 1 }, carriedOut: null });

    const preview = decisionPreviewResponseSchema.parse((await json(await asSession(previewDecisionEndpoint, users.payOwner, { path: `${base}/preview`, method: "POST", params }))).body);
    expect(preview.plan.decision).toBe("approve");
    expect(preview.dryRun.every((outcome) => outcome.ok)).toBe(true);
    const sa = () => sim.get({ apiVersion: "v1", kind: "ServiceAccount", namespace: "payments", name: "refunds" });
    expect(sa()?.metadata.annotations?.[REVIEWED_AT_ANNOTATION]).toBeUndefined();

    // Another item's preview is not this item's to apply.
    const crossed = await json(await withToken(applyRoute.POST, tokens.write, { path: `/campaigns/${campaignId}/items/${items.ledger}/apply`, method: "POST", params: { id: campaignId, itemId: items.ledger }, body: { changeSetId: preview.changeSetId } }));
    expect(crossed).toMatchObject({ status: 404 });

    const applied = applyResultSchema.parse(
      (await json(await asSession(applyDecisionEndpoint, users.payOwner, { path: `${base}/apply`, method: "POST", params, body: { changeSetId: preview.changeSetId } }))).body,
    );
    expect(applied).toMatchObject({ status: "applied", changeSetId: preview.changeSetId, failure: null });
    expect(sa()?.metadata.annotations?.[REVIEWED_AT_ANNOTATION]).toEqual(expect.any(String));
    expect((await itemRow(items.refunds)).status).toBe("applied");
  });

  it("shrink to explicit grants: grants beyond what the identity holds are refused after the decision is recorded; /apply retries with valid ones", async () => {
    const params = { id: campaignId, itemId: items.reports };
    const base = `/campaigns/${campaignId}/items/${items.reports}`;
    const grants = (verbs: string[], resource: string, group: string) => ({
      roles: [{ metadata: { name: "reports-keep", namespace: "payments" }, rules: [{ apiGroups: [group], resources: [resource], verbs }] }],
      clusterRoles: [],
      roleBindings: [
        {
          metadata: { name: "reports-keep", namespace: "payments" },
          roleRef: { apiGroup: rbacGroup, kind: "Role", name: "reports-keep" },
          subjects: [{ kind: "ServiceAccount", name: "reports", namespace: "payments" }],
        },
      ],
      clusterRoleBindings: [],
    });
    const wider = await json(
      await withToken(decisionRoute.POST, tokens.write, { path: `${base}/decision`, method: "POST", params, body: { decision: "shrink", apply: true, grants: grants(["delete"], "pods", "") } }),
    );
    expect(wider).toMatchObject({ status: 422, body: { error: { code: "unprocessable", message: expect.stringMatching(/^The shrink decision is recorded \(version 1\).*permissions it does not hold.*Retry with POST .*\/apply/) } } });
    expect(await itemRow(items.reports)).toMatchObject({ status: "decided", decision: "shrink", version: 1 });
    await expectUntouched("payments", "reports");

    const applied = applyResultSchema.parse(
      (await json(await withToken(applyRoute.POST, tokens.write, { path: `${base}/apply`, method: "POST", params, body: { grants: grants(["get", "list"], "deployments", "apps") } }))).body,
    );
    if (applied.status === "replanned") throw new Error("unexpected re-plan");
    expect(applied).toMatchObject({ status: "applied", failure: null });
    expect(applied.verification.every((check) => check.passed)).toBe(true);
    expect(await subjectsOf("payments", "reports-edit")).toEqual(["alice"]);
    expect(await subjectsOf("payments", "reports-keep")).toEqual(["reports"]);
    expect(await mayGetSecrets("payments", "reports")).toBe(false);
    expect((await itemRow(items.reports)).status).toBe("applied");
  });

  it("a decision on a changed item is 409 with the decision that stands; omitting expectedVersion uses the current one", async () => {
    const params = { id: campaignId, itemId: items.ledger };
    const path = `/campaigns/${campaignId}/items/${items.ledger}/decision`;
    const first = await json(await asSession(decideItemEndpoint, users.payOwner, { path, method: "POST", params, body: { decision: "approve", comment: "in use" } }));
    expect(first).toMatchObject({ status: 200, body: { decision: { decision: "approve", version: 1 } } });
    const late = await json(await withToken(decisionRoute.POST, tokens.write, { path, method: "POST", params, body: { decision: "revoke", expectedVersion: 0, apply: true } }));
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: "conflict", current: { status: "decided", decision: "approve", comment: "in use", decidedById: users.payOwner.id, version: 1 } });
    expect(await itemRow(items.ledger)).toMatchObject({ decision: "approve", version: 1 });
    await expectUntouched("payments", "ledger");
  });

  it("attacker: an owner deciding another team's item gets 403 and neither the item nor the cluster changes", async () => {
    const params = { id: campaignId, itemId: items.frontend };
    const base = `/campaigns/${campaignId}/items/${items.frontend}`;
    const before = await itemRow(items.frontend);
    const attempt = await json(await asSession(decideItemEndpoint, users.payOwner, { path: `${base}/decision`, method: "POST", params, body: { decision: "revoke", comment: "mine now", apply: true, expectedVersion: 0 } }));
    expect(attempt).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect((await asSession(previewDecisionEndpoint, users.payOwner, { path: `${base}/preview`, method: "POST", params })).status).toBe(403);
    expect((await asSession(applyDecisionEndpoint, users.payOwner, { path: `${base}/apply`, method: "POST", params })).status).toBe(403);
    expect(await itemRow(items.frontend)).toEqual(before);
    expect(await database.prisma.clusterChangeSet.count({ where: { reviewItemId: items.frontend } })).toBe(0);
    await expectUntouched("web", "frontend");
    const denied = await database.prisma.auditLogEntry.findFirst({ where: { action: "campaign.item.decide", targetId: items.frontend, outcome: "denied" } });
    expect(denied).toMatchObject({ actorId: users.payOwner.id });
  });

  it("bulk approve: this campaign's low-risk items are approved, others are answered per item", async () => {
    const other = await database.prisma.campaign.findFirstOrThrow({ where: { name: "Draft" } });
    const foreign = await database.prisma.reviewItem.findFirstOrThrow({ where: { campaignId: other.id } });
    const idle = await itemRow(items.default);
    expect(["high", "critical"]).not.toContain(idle.severity);
    const response = await json(
      await withToken(bulkApproveRoute.POST, tokens.write, {
        path: `/campaigns/${campaignId}/items/bulk-approve`,
        method: "POST",
        params: { id: campaignId },
        body: { items: [{ id: items.default, expectedVersion: idle.version }, { id: foreign.id, expectedVersion: foreign.version }], comment: "no access to review" },
      }),
    );
    expect(response.status).toBe(200);
    expect(bulkApproveResponseSchema.parse(response.body).results).toEqual([
      { id: items.default, outcome: "approved", version: idle.version + 1 },
      { id: foreign.id, outcome: "invalid", message: "No such item in this campaign." },
    ]);
    expect(await itemRow(foreign.id)).toMatchObject({ status: "pending", version: foreign.version });
    const empty = await json(await withToken(bulkApproveRoute.POST, tokens.write, { path: `/campaigns/${campaignId}/items/bulk-approve`, method: "POST", params: { id: campaignId }, body: { items: [] } }));
    expect(empty).toMatchObject({ status: 400, body: { error: { fieldErrors: { items: [expect.any(String)] } } } });
  });
});

describe("exports and the auditor", () => {
  it("the auditor exports the decisions as streamed CSV with NIST CSF and OWASP NHI columns, but may not decide (403, nothing changes)", async () => {
    const params = { id: campaignId };
    const response = await asSession(campaignExportEndpoint, users.auditor, { path: `/campaigns/${campaignId}/export.csv`, params });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("content-disposition")).toMatch(/^attachment; filename="q4-payments-and-web-decisions-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(response.body).toBeInstanceOf(ReadableStream);
    const rows = csvRecords(await response.text());
    expect(rows).toHaveLength(7);
    const checkout = rows.find((row) => row.identity === "checkout");
    expect(checkout).toMatchObject({ namespace: "payments", decision: "revoke", comment: "unused", status: "rolledBack" });
    expect(checkout?.csf.split("; ")).toEqual(expect.arrayContaining(["PR.AA-05", "GV.RR-02"]));
    expect(checkout?.owasp.split("; ")).toContain("NHI1");
    expect(rows.find((row) => row.identity === "refunds")).toMatchObject({ decision: "approve", status: "applied" });

    const before = await itemRow(items.frontend);
    const decide = await json(
      await asSession(decideItemEndpoint, users.auditor, { path: `/campaigns/${campaignId}/items/${items.frontend}/decision`, method: "POST", params: { id: campaignId, itemId: items.frontend }, body: { decision: "revoke", apply: true } }),
    );
    expect(decide).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect(await itemRow(items.frontend)).toEqual(before);
    await expectUntouched("web", "frontend");
    // An owner may not export.
    expect((await asSession(campaignExportEndpoint, users.payOwner, { path: `/campaigns/${campaignId}/export.csv`, params })).status).toBe(403);
    expect((await withToken(exportRoute.GET, tokens.read, { path: "/campaigns/nope/export.csv", params: { id: "nope" } })).status).toBe(404);
  });

  it("inventory and findings CSV with a read token, narrowed to one cluster by id or name", async () => {
    const inventory = await withToken(inventoryExportRoute.GET, tokens.read, { path: "/exports/inventory.csv?cluster=sim" });
    expect(inventory.status).toBe(200);
    expect(inventory.headers.get("content-disposition")).toMatch(/filename="inventory-sim-\d{4}-\d{2}-\d{2}\.csv"/);
    const identities = csvRecords(await inventory.text());
    expect(identities.filter((row) => row.namespace === "payments").map((row) => row.identity).sort()).toEqual(["checkout", "default", "ledger", "refunds", "reports"]);
    expect(identities.every((row) => row.csf.includes("ID.AM-08"))).toBe(true);

    const findings = await withToken(findingsExportRoute.GET, tokens.read, { path: `/exports/findings.csv?cluster=${clusterId}` });
    expect(findings.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const findingRows = csvRecords(await findings.text());
    expect(findingRows.length).toBe(await database.prisma.finding.count({ where: { clusterId, resolvedAt: null } }));
    expect(Object.keys(findingRows[0] ?? {})).toEqual(expect.arrayContaining(["csf", "owasp"]));

    expect(await json(await withToken(findingsExportRoute.GET, tokens.read, { path: "/exports/findings.csv?cluster=nowhere" }))).toMatchObject({ status: 404 });
  });

  it("closing the campaign ends decisions", async () => {
    const params = { id: campaignId };
    expect(await json(await withToken(closeRoute.POST, tokens.write, { path: `/campaigns/${campaignId}/close`, method: "POST", params }))).toEqual({
      status: 200,
      body: { id: campaignId, status: "closed" },
    });
    const late = await json(
      await withToken(decisionRoute.POST, tokens.write, { path: `/campaigns/${campaignId}/items/${items.frontend}/decision`, method: "POST", params: { id: campaignId, itemId: items.frontend }, body: { decision: "revoke" } }),
    );
    expect(late).toMatchObject({ status: 409, body: { error: { message: expect.stringMatching(/closed/) } } });
  });
});
