// Carrying decisions out against the simulator and a real Postgres, with the cluster registered as an operator
// would (read-only sync identity + remediation identity from deploy/): revoke in a shared binding, shrink to the
// generated role and its rollback, a concurrent change between preview and apply, the API server failing
// mid-revoke and the retry, and a cluster with no remediation identity.
import { randomBytes } from "node:crypto";
import { AuthorizationV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1RoleBinding } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditChain } from "@/lib/audit/log";
import { registerCluster } from "@/lib/clusters/register-cluster";
import type { ReviewDecision } from "@/lib/db";
import { issueRemediationToken, issueSyncToken } from "@/lib/demo/connect-cluster";
import { closeJobQueue } from "@/lib/jobs";
import { startKubeSim, type KubeSim } from "@/lib/kube-sim";
import type { RequestRecord } from "@/lib/kube-sim";
import { syncCluster } from "@/lib/sync/sync-cluster";
import { leastPrivilegeName } from "@/lib/usage/least-privilege";
import { setupTestDatabase } from "@/lib/testing/database";
import { REVIEWED_AT_ANNOTATION } from "@/lib/remediation/plan";
import { systemCampaignActor } from "./access";
import { applyChangeSet, carryOutDecision, InvalidGrantsError, previewDecision } from "./apply-decision";
import { CampaignAccessError } from "./errors";
import { RemediationIdentityMissingError } from "./remediation-client";
import { rollbackChangeSet } from "./rollback-change-set";

process.env.KEYWARD_SECRET_KEY = randomBytes(32).toString("base64");
const db = setupTestDatabase();
const rbacGroup = "rbac.authorization.k8s.io";
const REMEDIATION_USER = "system:serviceaccount:keyward-system:keyward-remediation";
const who = systemCampaignActor("test");

let sim: KubeSim;
let admin: KubeConfig;
let clusterId: string;
let bareClusterId: string;
let campaignId: string;

/** A service account with a legacy token, a cluster-wide secret-reader binding of its own, and a RoleBinding shared with alice. */
function seedIdentity(name: string): void {
  const objects = [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: "ci" } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: `${name}-token`, namespace: "ci", annotations: { "kubernetes.io/service-account.name": name } }, type: "kubernetes.io/service-account-token" },
    { apiVersion: `${rbacGroup}/v1`, kind: "ClusterRoleBinding", metadata: { name: `${name}-secrets` }, roleRef: { apiGroup: rbacGroup, kind: "ClusterRole", name: "secret-reader" }, subjects: [{ kind: "ServiceAccount", name, namespace: "ci" }] },
    {
      apiVersion: `${rbacGroup}/v1`,
      kind: "RoleBinding",
      metadata: { name: `${name}-edit`, namespace: "ci" },
      roleRef: { apiGroup: rbacGroup, kind: "ClusterRole", name: "deploy-edit" },
      subjects: [{ kind: "ServiceAccount", name, namespace: "ci" }, { kind: "User", name: "alice", apiGroup: rbacGroup }],
    },
  ];
  for (const object of objects) sim.apply(object as Parameters<KubeSim["apply"]>[0]);
}

const rbacApi = () => admin.makeApiClient(RbacAuthorizationV1Api);

async function can(user: string, verb: string, resource: string, group = ""): Promise<boolean> {
  const groups = user.startsWith("system:serviceaccount:") ? ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"] : ["system:authenticated"];
  const review = await admin.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({ body: { spec: { user, groups, resourceAttributes: { verb, resource, group, namespace: "ci" } } } });
  return review.status?.allowed === true;
}

const sa = (name: string) => `system:serviceaccount:ci:${name}`;

/** Runs `action` with the API server answering the first request after the remediation identity's first write (not a dry run) with a 500. */
async function withSecondWriteFailing<T>(action: () => Promise<T>): Promise<T> {
  let writes = 0;
  const onRequest = (record: RequestRecord) => {
    if (record.user !== REMEDIATION_USER || !["create", "update", "delete"].includes(record.verb) || record.requestURI.includes("dryRun")) return;
    // Served requests are reported after their answer: the next request the server sees is the second write.
    if (++writes === 1) sim.faults.set({ serverErrors: { count: 1 } });
  };
  sim.on("request", onRequest);
  try {
    return await action();
  } finally {
    sim.off("request", onRequest);
    sim.faults.clear();
  }
}

async function subjectsOf(binding: string): Promise<string[]> {
  return ((await rbacApi().readNamespacedRoleBinding({ name: binding, namespace: "ci" })).subjects ?? []).map((s) => s.name);
}

async function decidedItem(name: string, decision: ReviewDecision, cluster = clusterId): Promise<string> {
  const identity = await db.prisma.identity.findUniqueOrThrow({ where: { clusterId_kind_namespace_name: { clusterId: cluster, kind: "ServiceAccount", namespace: "ci", name } } });
  const item = await db.prisma.reviewItem.create({
    data: {
      campaignId,
      clusterId: cluster,
      identityId: identity.id,
      status: "decided",
      evidence: {},
      recommendation: decision,
      recommendationReason: "test",
      decision,
      decidedAt: new Date("2026-12-01T12:00:00Z"),
    },
  });
  return item.id;
}

beforeAll(async () => {
  sim = await startKubeSim({ port: 0 });
  admin = new KubeConfig();
  admin.loadFromString(sim.adminKubeconfig());
  const shared = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "ci" } },
    { apiVersion: `${rbacGroup}/v1`, kind: "ClusterRole", metadata: { name: "deploy-edit" }, rules: [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "create", "delete"] }] },
    { apiVersion: `${rbacGroup}/v1`, kind: "ClusterRole", metadata: { name: "secret-reader" }, rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] }] },
  ];
  for (const object of shared) sim.apply(object as Parameters<KubeSim["apply"]>[0]);
  for (const name of ["revoked", "shrunk", "raced", "faulted", "unused", "stranded", "approved", "certified", "reverted", "busy"]) seedIdentity(name);
  await sim.settle();

  ({ id: clusterId } = await registerCluster({
    name: "sim",
    apiServerUrl: sim.url,
    caCertPem: sim.caPem,
    sync: { type: "token", token: await issueSyncToken(admin, 3600) },
    remediation: { type: "token", token: await issueRemediationToken(admin, 3600) },
  }));
  // The same cluster registered by someone who connected only the read-only identity.
  ({ id: bareClusterId } = await registerCluster({ name: "sim-read-only", apiServerUrl: sim.url, caCertPem: sim.caPem, sync: { type: "token", token: await issueSyncToken(admin, 3600) } }));
  for (const id of [clusterId, bareClusterId]) expect(await syncCluster(id, "registration")).toMatchObject({ ok: true });
  ({ id: campaignId } = await db.prisma.campaign.create({ data: { name: "Q4 review", status: "active", createdById: "security" } }));
});

afterAll(async () => {
  await closeJobQueue();
  await sim?.stop();
});

describe("revoke", () => {
  it("takes the service account out of its bindings (not alice), deletes its legacy token, proves it and records every change", async () => {
    const itemId = await decidedItem("revoked", "revoke");
    expect(await can(sa("revoked"), "get", "secrets")).toBe(true);

    const result = await carryOutDecision(db.prisma, who, itemId);
    expect(result).toMatchObject({ status: "applied", failure: undefined });
    if (result.status === "replanned") throw new Error("unexpected re-plan");

    // The cluster: the own binding is gone, the shared one keeps alice, the legacy token is deleted.
    await expect(rbacApi().readClusterRoleBinding({ name: "revoked-secrets" })).rejects.toMatchObject({ code: 404 });
    expect(await subjectsOf("revoked-edit")).toEqual(["alice"]);
    expect(await can("alice", "create", "deployments", "apps")).toBe(true);
    await expect(admin.makeApiClient(CoreV1Api).readNamespacedSecret({ name: "revoked-token", namespace: "ci" })).rejects.toMatchObject({ code: 404 });
    expect(await can(sa("revoked"), "get", "secrets")).toBe(false);
    expect(await can(sa("revoked"), "delete", "deployments", "apps")).toBe(false);

    // Stored: plan, every applied change with its before-snapshot, and the SubjectAccessReviews that passed.
    const changeSet = await db.prisma.clusterChangeSet.findUniqueOrThrow({ where: { id: result.changeSetId } });
    expect(changeSet).toMatchObject({ status: "applied", decision: "revoke", createdByLabel: "test", failure: null });
    const applied = changeSet.applied as { change: { op: string; before: { kind: string; metadata: { name: string } } } }[];
    expect(applied.map(({ change }) => `${change.op} ${change.before.kind} ${change.before.metadata.name}`)).toEqual([
      "delete ClusterRoleBinding revoked-secrets",
      "replace RoleBinding revoked-edit",
      "delete Secret revoked-token",
    ]);
    const verification = changeSet.verification as { attributes: { verb: string; resource: string }; expected: string; allowed: boolean; passed: boolean }[];
    expect(verification.length).toBeGreaterThanOrEqual(6);
    expect(verification.every((check) => check.passed && check.expected === "denied" && !check.allowed)).toBe(true);
    expect(verification.map((check) => `${check.attributes.verb} ${check.attributes.resource}`)).toEqual(expect.arrayContaining(["get secrets", "delete deployments"]));
    const item = await db.prisma.reviewItem.findUniqueOrThrow({ where: { id: itemId } });
    expect(item.status).toBe("applied");
    expect(item.appliedAt).toBeInstanceOf(Date);

    // The audit trail: each cluster change with its request and the cluster's answer, then the application.
    const entries = await db.prisma.auditLogEntry.findMany({ where: { targetId: { in: [result.changeSetId, itemId] } }, orderBy: { seq: "asc" } });
    expect(entries.map((entry) => [entry.action, entry.outcome])).toEqual([
      ["cluster.change", "success"],
      ["cluster.change", "success"],
      ["cluster.change", "success"],
      ["campaign.decision.apply", "success"],
    ]);
    expect(entries[1].details).toEqual({ clusterId, request: { op: "replace", kind: "RoleBinding", namespace: "ci", name: "revoked-edit" }, response: { ok: true } });
    expect(entries[3].details).toMatchObject({ changeSetId: result.changeSetId, decision: "revoke", applied: 3, planned: 3, verification: { checks: verification.length, passed: verification.length } });
    expect(await verifyAuditChain(db.prisma)).toMatchObject({ ok: true });

    // The inventory catches up: a sync of the cluster is queued.
    const jobs = await db.prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM pgboss.job WHERE name = 'cluster.sync' AND data->>'clusterId' = ${clusterId}`;
    expect(Number(jobs[0].n)).toBeGreaterThan(0);

    // Applied is final: it cannot be carried out a second time.
    await expect(previewDecision(db.prisma, who, itemId)).rejects.toThrow(/applied/);
  });
});

describe("approve", () => {
  it("marks the service account with the review date and changes no grant; an owner of another team may not carry it out", async () => {
    const itemId = await decidedItem("approved", "approve");
    const outsider = { actor: { type: "user" as const, id: "mallory", label: "mallory@example.com" }, user: { id: "mallory", role: "owner" as const } };
    await expect(carryOutDecision(db.prisma, outsider, itemId)).rejects.toBeInstanceOf(CampaignAccessError);
    expect(await db.prisma.clusterChangeSet.count({ where: { reviewItemId: itemId } })).toBe(0);

    const result = await carryOutDecision(db.prisma, who, itemId);
    expect(result).toMatchObject({ status: "applied", verification: [] });
    const account = await admin.makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: "approved", namespace: "ci" });
    expect(account.metadata?.annotations?.[REVIEWED_AT_ANNOTATION]).toBe("2026-12-01T12:00:00.000Z");
    expect(await subjectsOf("approved-edit")).toEqual(["approved", "alice"]);
    expect(await can(sa("approved"), "get", "secrets")).toBe(true);
    expect((await db.prisma.reviewItem.findUniqueOrThrow({ where: { id: itemId } })).status).toBe("applied");
  });

  it("where the remediation identity may not patch service accounts, the approval is recorded without the annotation", async () => {
    const itemId = await decidedItem("certified", "approve");
    const role = await rbacApi().readClusterRole({ name: "keyward-remediation" });
    const withoutPatch = (role.rules ?? []).map((rule) => (rule.resources?.includes("serviceaccounts") ? { ...rule, verbs: rule.verbs.filter((verb) => verb !== "patch") } : rule));
    await rbacApi().replaceClusterRole({ name: "keyward-remediation", body: { ...role, rules: withoutPatch } });
    try {
      const preview = await previewDecision(db.prisma, who, itemId);
      expect(preview.plan).toMatchObject({ changes: [], notes: [expect.stringMatching(/may not annotate the service account/)] });
      expect(await applyChangeSet(db.prisma, who, preview.changeSetId)).toMatchObject({ status: "applied", applied: [] });
    } finally {
      const current = await rbacApi().readClusterRole({ name: "keyward-remediation" });
      await rbacApi().replaceClusterRole({ name: "keyward-remediation", body: { ...current, rules: role.rules } });
    }
    const account = await admin.makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: "certified", namespace: "ci" });
    expect(account.metadata?.annotations?.[REVIEWED_AT_ANNOTATION]).toBeUndefined();
    expect((await db.prisma.reviewItem.findUniqueOrThrow({ where: { id: itemId } })).status).toBe("applied");
  });
});

describe("shrink and rollback", () => {
  it("replaces the grants with the role generated from usage, and rollback restores the old bindings exactly", async () => {
    const identity = await db.prisma.identity.findUniqueOrThrow({ where: { clusterId_kind_namespace_name: { clusterId, kind: "ServiceAccount", namespace: "ci", name: "shrunk" } } });
    const now = new Date();
    const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    await db.prisma.usageRollup.createMany({
      data: ["get", "list"].map((verb) => ({ clusterId, identityId: identity.id, day, verb, apiGroup: "apps", resource: "deployments", namespace: "ci", count: 5, firstSeenAt: now, lastSeenAt: now, resourceNamesComplete: false })),
    });
    const itemId = await decidedItem("shrunk", "shrink");
    const beforeCrb = await rbacApi().readClusterRoleBinding({ name: "shrunk-secrets" });
    const beforeRb = await rbacApi().readNamespacedRoleBinding({ name: "shrunk-edit", namespace: "ci" });

    const preview = await previewDecision(db.prisma, who, itemId);
    expect(preview.plan.changes.map((change) => `${change.op} ${(change.op === "create" ? change.after : change.before).kind}`)).toEqual([
      "create Role",
      "create RoleBinding",
      "delete ClusterRoleBinding",
      "replace RoleBinding",
    ]);
    expect(preview.dryRun.every((outcome) => outcome.ok)).toBe(true);
    // A preview changes nothing.
    expect(await can(sa("shrunk"), "delete", "deployments", "apps")).toBe(true);
    expect((await db.prisma.clusterChangeSet.findUniqueOrThrow({ where: { id: preview.changeSetId } })).status).toBe("planned");

    const result = await applyChangeSet(db.prisma, who, preview.changeSetId);
    expect(result).toMatchObject({ status: "applied" });
    expect(await can(sa("shrunk"), "list", "deployments", "apps")).toBe(true);
    expect(await can(sa("shrunk"), "delete", "deployments", "apps")).toBe(false);
    expect(await can(sa("shrunk"), "get", "secrets")).toBe(false);
    expect(await subjectsOf("shrunk-edit")).toEqual(["alice"]);
    const roleName = leastPrivilegeName({ kind: "ServiceAccount", namespace: "ci", name: "shrunk", username: sa("shrunk"), groups: [] });
    const created = await rbacApi().readNamespacedRole({ name: roleName, namespace: "ci" });
    expect(created.rules).toEqual([{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list"] }]);

    const rollback = await rollbackChangeSet(db.prisma, who, preview.changeSetId);
    expect(rollback).toMatchObject({ status: "applied", irreversible: [] });
    expect(rollback.verification.length).toBeGreaterThan(0);
    expect(rollback.verification.every((check) => check.passed && check.allowed)).toBe(true);
    // The old bindings as they were (subjects, roleRef, labels and annotations); the generated ones gone.
    const strip = (binding: V1RoleBinding) => ({ labels: binding.metadata?.labels, annotations: binding.metadata?.annotations, roleRef: binding.roleRef, subjects: binding.subjects });
    expect(strip(await rbacApi().readClusterRoleBinding({ name: "shrunk-secrets" }))).toEqual(strip(beforeCrb));
    expect(strip(await rbacApi().readNamespacedRoleBinding({ name: "shrunk-edit", namespace: "ci" }))).toEqual(strip(beforeRb));
    await expect(rbacApi().readNamespacedRole({ name: roleName, namespace: "ci" })).rejects.toMatchObject({ code: 404 });
    await expect(rbacApi().readNamespacedRoleBinding({ name: roleName, namespace: "ci" })).rejects.toMatchObject({ code: 404 });
    expect(await can(sa("shrunk"), "delete", "deployments", "apps")).toBe(true);

    expect(await db.prisma.clusterChangeSet.findUniqueOrThrow({ where: { id: preview.changeSetId } })).toMatchObject({ status: "rolledBack", rolledBackAt: expect.any(Date) });
    expect(await db.prisma.clusterChangeSet.findUniqueOrThrow({ where: { id: rollback.changeSetId } })).toMatchObject({ status: "applied", rollbackOfId: preview.changeSetId });
    expect((await db.prisma.reviewItem.findUniqueOrThrow({ where: { id: itemId } })).status).toBe("rolledBack");
    // Once only.
    await expect(rollbackChangeSet(db.prisma, who, preview.changeSetId)).rejects.toThrow(/rolledBack|already rolled back/);
    expect(await verifyAuditChain(db.prisma)).toMatchObject({ ok: true });
  });

  it("refuses a shrink with no usage to shrink to, and grants the identity does not hold or for someone else", async () => {
    const itemId = await decidedItem("unused", "shrink");
    await expect(previewDecision(db.prisma, who, itemId)).rejects.toThrow(/No recorded usage to shrink to/);
    const role = { metadata: { name: "wider", namespace: "ci" }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["delete"] }] };
    const binding = (subject: { kind: "ServiceAccount" | "User"; name: string }) => ({
      metadata: { name: "wider", namespace: "ci" },
      roleRef: { apiGroup: rbacGroup, kind: "Role" as const, name: "wider" },
      subjects: [subject.kind === "ServiceAccount" ? { ...subject, namespace: "ci" } : { ...subject, apiGroup: rbacGroup }],
    });
    const grants = (subject: { kind: "ServiceAccount" | "User"; name: string }) => ({ roles: [role], clusterRoles: [], roleBindings: [binding(subject)], clusterRoleBindings: [] });
    await expect(previewDecision(db.prisma, who, itemId, { grants: grants({ kind: "ServiceAccount", name: "unused" }) })).rejects.toBeInstanceOf(InvalidGrantsError);
    await expect(previewDecision(db.prisma, who, itemId, { grants: grants({ kind: "User", name: "mallory" }) })).rejects.toThrow(/only the reviewed identity/);
    // Bound to an existing powerful role rather than one given with the grants; and not RBAC at all.
    const toClusterAdmin = { ...grants({ kind: "ServiceAccount", name: "unused" }), roles: [] };
    toClusterAdmin.roleBindings[0].roleRef = { apiGroup: rbacGroup, kind: "ClusterRole" as "Role", name: "cluster-admin" };
    await expect(previewDecision(db.prisma, who, itemId, { grants: toClusterAdmin })).rejects.toThrow(/must refer to a role given with the grants/);
    const malformed = { ...grants({ kind: "ServiceAccount", name: "unused" }), roles: [{ ...role, metadata: { name: "Not A Name", namespace: "ci" } }] };
    await expect(previewDecision(db.prisma, who, itemId, { grants: malformed })).rejects.toThrow(/not valid RBAC objects/);
    expect(await db.prisma.clusterChangeSet.count({ where: { reviewItemId: itemId } })).toBe(0);
    expect((await db.prisma.reviewItem.findUniqueOrThrow({ where: { id: itemId } })).status).toBe("decided");
  });
});

describe("concurrency and faults", () => {
  it("a binding changed between preview and apply: nothing is applied and a re-planned preview comes back", async () => {
    const itemId = await decidedItem("raced", "revoke");
    const preview = await previewDecision(db.prisma, who, itemId);
    const current = await rbacApi().readNamespacedRoleBinding({ name: "raced-edit", namespace: "ci" });
    await rbacApi().replaceNamespacedRoleBinding({ name: "raced-edit", namespace: "ci", body: { ...current, subjects: [...(current.subjects ?? []), { kind: "User", name: "bob", apiGroup: rbacGroup }] } });

    const result = await applyChangeSet(db.prisma, who, preview.changeSetId);
    expect(result.status).toBe("replanned");
    if (result.status !== "replanned") throw new Error("expected a re-plan");
    expect(result.preview.changeSetId).not.toBe(preview.changeSetId);
    // Nothing applied: the own binding and the token are still there, bob too.
    expect(await rbacApi().readClusterRoleBinding({ name: "raced-secrets" })).toBeTruthy();
    expect(await subjectsOf("raced-edit")).toEqual(["raced", "alice", "bob"]);
    expect(await db.prisma.clusterChangeSet.findUniqueOrThrow({ where: { id: preview.changeSetId } })).toMatchObject({
      status: "failed",
      applied: [],
      failure: { reason: "replanned", replannedAs: result.preview.changeSetId },
    });
    expect((await db.prisma.reviewItem.findUniqueOrThrow({ where: { id: itemId } })).status).toBe("decided");
    // The superseded preview cannot be applied any more; the new one can, and leaves alice and bob alone.
    await expect(applyChangeSet(db.prisma, who, preview.changeSetId)).rejects.toThrow(/failed/);
    expect(await applyChangeSet(db.prisma, who, result.preview.changeSetId)).toMatchObject({ status: "applied" });
    expect(await subjectsOf("raced-edit")).toEqual(["alice", "bob"]);
  });

  it("in one step (no preview to confirm), a concurrent change is re-planned around and the re-plan applied", async () => {
    const itemId = await decidedItem("busy", "revoke");
    // While the preview is being dry-run, someone adds bob to the shared binding.
    let changed = false;
    const onRequest = (record: RequestRecord) => {
      if (changed || record.user !== REMEDIATION_USER || !record.requestURI.includes("dryRun")) return;
      changed = true;
      const binding = sim.get({ apiVersion: `${rbacGroup}/v1`, kind: "RoleBinding", namespace: "ci", name: "busy-edit" })!;
      sim.apply({ ...binding, subjects: [...(binding.subjects as object[]), { kind: "User", name: "bob", apiGroup: rbacGroup }] });
    };
    sim.on("request", onRequest);
    const result = await carryOutDecision(db.prisma, who, itemId).finally(() => sim.off("request", onRequest));
    expect(changed).toBe(true);
    expect(result).toMatchObject({ status: "applied" });
    expect(await subjectsOf("busy-edit")).toEqual(["alice", "bob"]);
    const changeSets = await db.prisma.clusterChangeSet.findMany({ where: { reviewItemId: itemId }, orderBy: { createdAt: "asc" } });
    expect(changeSets.map((set) => [set.status, (set.failure as { reason?: string } | null)?.reason ?? null])).toEqual([
      ["failed", "replanned"],
      ["applied", null],
    ]);
  });

  it("the API server failing mid-revoke leaves the item failed with the cluster's answer and what was applied; a retry completes", async () => {
    const itemId = await decidedItem("faulted", "revoke");
    const failed = await withSecondWriteFailing(() => carryOutDecision(db.prisma, who, itemId));
    expect(failed.status).toBe("failed");
    if (failed.status === "replanned") throw new Error("unexpected re-plan");
    expect(failed.failure).toMatchObject({ reason: "refused", index: 1, change: { op: "replace", kind: "RoleBinding", name: "faulted-edit" }, cluster: { status: 500 } });
    expect(failed.applied).toHaveLength(1);

    const stored = await db.prisma.clusterChangeSet.findUniqueOrThrow({ where: { id: failed.changeSetId } });
    expect(stored.status).toBe("failed");
    expect(stored.failure).toMatchObject({ reason: "refused", cluster: { status: 500, message: expect.stringContaining("injected fault") } });
    expect((stored.applied as { change: { before: { metadata: { name: string } } } }[]).map((a) => a.change.before.metadata.name)).toEqual(["faulted-secrets"]);
    expect((await db.prisma.reviewItem.findUniqueOrThrow({ where: { id: itemId } })).status).toBe("failed");
    await expect(rbacApi().readClusterRoleBinding({ name: "faulted-secrets" })).rejects.toMatchObject({ code: 404 });
    expect(await subjectsOf("faulted-edit")).toEqual(["faulted", "alice"]);
    const refused = await db.prisma.auditLogEntry.findFirstOrThrow({ where: { targetId: failed.changeSetId, outcome: "failure" } });
    expect(refused.details).toMatchObject({ request: { op: "replace", name: "faulted-edit" }, response: { ok: false, status: 500 } });

    // Retry: planned again from the live state (the deleted binding is no longer in it) and completed.
    const retried = await carryOutDecision(db.prisma, who, itemId);
    expect(retried).toMatchObject({ status: "applied" });
    if (retried.status === "replanned") throw new Error("unexpected re-plan");
    expect(retried.applied.map(({ change }) => change.op)).toEqual(["replace", "delete"]);
    expect(await subjectsOf("faulted-edit")).toEqual(["alice"]);
    await expect(admin.makeApiClient(CoreV1Api).readNamespacedSecret({ name: "faulted-token", namespace: "ci" })).rejects.toMatchObject({ code: 404 });
    expect((await db.prisma.reviewItem.findUniqueOrThrow({ where: { id: itemId } })).status).toBe("applied");
  });

  it("a cluster without a remediation identity: a clear error, the item stays decided, nothing changes", async () => {
    const itemId = await decidedItem("stranded", "revoke", bareClusterId);
    const attempt = carryOutDecision(db.prisma, who, itemId);
    await expect(attempt).rejects.toBeInstanceOf(RemediationIdentityMissingError);
    await expect(attempt).rejects.toThrow("Connect a remediation identity to carry decisions out");
    expect((await db.prisma.reviewItem.findUniqueOrThrow({ where: { id: itemId } })).status).toBe("decided");
    expect(await db.prisma.clusterChangeSet.count({ where: { reviewItemId: itemId } })).toBe(0);
    expect(await subjectsOf("stranded-edit")).toEqual(["stranded", "alice"]);
    expect(await rbacApi().readClusterRoleBinding({ name: "stranded-secrets" })).toBeTruthy();
  });

  it("a rollback the API server fails part-way stays visible as failed, and running it again resumes and completes it", async () => {
    const itemId = await decidedItem("reverted", "revoke");
    const revoked = await carryOutDecision(db.prisma, who, itemId);
    expect(revoked.status).toBe("applied");

    // Rollback: restore the shared binding, then recreate the own one (the deleted token stays deleted).
    const failed = await withSecondWriteFailing(() => rollbackChangeSet(db.prisma, who, revoked.changeSetId));
    expect(failed).toMatchObject({ status: "failed", failure: { reason: "refused", index: 1, change: { op: "create", kind: "ClusterRoleBinding" }, cluster: { status: 500 } } });
    expect(failed.applied).toHaveLength(1);
    expect(failed.irreversible).toEqual([expect.stringMatching(/^Secret ci\/reverted-token/)]);
    expect(await subjectsOf("reverted-edit")).toEqual(["reverted", "alice"]);
    await expect(rbacApi().readClusterRoleBinding({ name: "reverted-secrets" })).rejects.toMatchObject({ code: 404 });
    expect((await db.prisma.clusterChangeSet.findUniqueOrThrow({ where: { id: revoked.changeSetId } })).status).toBe("applied");
    expect((await db.prisma.reviewItem.findUniqueOrThrow({ where: { id: itemId } })).status).toBe("applied");

    const resumed = await rollbackChangeSet(db.prisma, who, revoked.changeSetId);
    expect(resumed).toMatchObject({ status: "applied", changeSetId: failed.changeSetId, failure: undefined });
    expect(resumed.applied.map(({ change }) => change.op)).toEqual(["replace", "create"]);
    expect(await rbacApi().readClusterRoleBinding({ name: "reverted-secrets" })).toBeTruthy();
    expect(await can(sa("reverted"), "get", "secrets")).toBe(true);
    expect(await db.prisma.clusterChangeSet.findUniqueOrThrow({ where: { id: failed.changeSetId } })).toMatchObject({ status: "applied", failure: null });
    expect((await db.prisma.reviewItem.findUniqueOrThrow({ where: { id: itemId } })).status).toBe("rolledBack");
    expect(await verifyAuditChain(db.prisma)).toMatchObject({ ok: true });
  });
});
