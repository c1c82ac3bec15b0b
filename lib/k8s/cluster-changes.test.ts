// The remediation executor against the simulator, acting as Keyward's remediation identity from
// deploy/keyward-remediation.yaml (no secret reads, no service account updates): plans are previewed, applied with
// preconditions, verified with SubjectAccessReviews and rolled back.
import { AuthorizationV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { issueRemediationToken } from "@/lib/demo/connect-cluster";
import { startKubeSim, type KubeSim } from "@/lib/kube-sim";
import type { PolicyIdentity } from "@/lib/permissions/cluster-policy";
import { planApprove, planRevoke, planShrink, REVIEWED_AT_ANNOTATION } from "@/lib/remediation/plan";
import { kubeConfigFor } from "./client";
import { applyChanges, dryRunChanges, readLiveIdentityState, rollbackChangesFor, verifyAccess } from "./cluster-changes";

const deployer: PolicyIdentity = { kind: "ServiceAccount", namespace: "ci", name: "deployer", username: "system:serviceaccount:ci:deployer", groups: [] };
const rbacGroup = "rbac.authorization.k8s.io";

let sim: KubeSim;
let admin: KubeConfig;
let remediation: KubeConfig;

function seed(): void {
  const objects = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "ci" } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "deployer", namespace: "ci" } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "deployer-token", namespace: "ci", annotations: { "kubernetes.io/service-account.name": "deployer" } }, type: "kubernetes.io/service-account-token" },
    { apiVersion: `${rbacGroup}/v1`, kind: "ClusterRole", metadata: { name: "deploy-edit" }, rules: [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "create", "delete"] }] },
    { apiVersion: `${rbacGroup}/v1`, kind: "ClusterRole", metadata: { name: "secret-reader" }, rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] }] },
    { apiVersion: `${rbacGroup}/v1`, kind: "ClusterRoleBinding", metadata: { name: "deployer-secrets" }, roleRef: { apiGroup: rbacGroup, kind: "ClusterRole", name: "secret-reader" }, subjects: [{ kind: "ServiceAccount", name: "deployer", namespace: "ci" }] },
    {
      apiVersion: `${rbacGroup}/v1`,
      kind: "RoleBinding",
      metadata: { name: "ci-edit", namespace: "ci" },
      roleRef: { apiGroup: rbacGroup, kind: "ClusterRole", name: "deploy-edit" },
      subjects: [{ kind: "ServiceAccount", name: "deployer", namespace: "ci" }, { kind: "User", name: "alice", apiGroup: rbacGroup }],
    },
  ];
  for (const object of objects) sim.apply(object as Parameters<KubeSim["apply"]>[0]);
}

/** What the sync would have recorded of the legacy token: its name and uid. */
async function legacyTokens() {
  const read = await admin.makeApiClient(CoreV1Api).readNamespacedSecret({ name: "deployer-token", namespace: "ci" });
  return [{ name: "deployer-token", uid: read.metadata?.uid ?? null }];
}

async function can(user: string, verb: string, resource: string, namespace: string, group = ""): Promise<boolean> {
  const review = await admin.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
    body: { spec: { user, groups: user.startsWith("system:serviceaccount:") ? ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"] : ["system:authenticated"], resourceAttributes: { verb, resource, group, namespace } } },
  });
  return review.status?.allowed === true;
}

beforeAll(async () => {
  sim = await startKubeSim();
  admin = new KubeConfig();
  admin.loadFromString(sim.adminKubeconfig());
  const token = await issueRemediationToken(admin, 3600);
  remediation = kubeConfigFor({ apiServerUrl: sim.url, caCertPem: sim.caPem }, { type: "token", token }, "keyward-remediation");
});

afterAll(async () => {
  await sim?.stop();
});

beforeEach(async () => {
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const core = admin.makeApiClient(CoreV1Api);
  // Each test starts from the seeded objects: remove what earlier tests left behind.
  await Promise.allSettled([
    rbac.deleteClusterRoleBinding({ name: "deployer-secrets" }),
    rbac.deleteNamespacedRoleBinding({ name: "ci-edit", namespace: "ci" }),
    rbac.deleteNamespacedRoleBinding({ name: "keyward-least-privilege-deployer", namespace: "ci" }),
    rbac.deleteNamespacedRole({ name: "keyward-least-privilege-deployer", namespace: "ci" }),
    core.deleteNamespacedSecret({ name: "deployer-token", namespace: "ci" }),
    core.deleteNamespacedServiceAccount({ name: "deployer", namespace: "ci" }),
  ]);
  seed();
});

describe("revoke on the cluster", () => {
  it("previews with dry run (nothing changes), applies, verifies with SubjectAccessReviews, and rolls back", async () => {
    const live = await readLiveIdentityState(remediation, deployer, await legacyTokens());
    const plan = planRevoke(deployer, live);
    expect(plan.changes.map((c) => c.op)).toEqual(["delete", "replace", "delete"]);

    const preview = await dryRunChanges(remediation, plan.changes);
    expect(preview.every((outcome) => outcome.ok)).toBe(true);
    expect(await can(deployer.username, "get", "secrets", "ci")).toBe(true);

    const outcome = await applyChanges(remediation, plan.changes);
    expect(outcome.failed).toBeUndefined();
    expect(await can(deployer.username, "get", "secrets", "ci")).toBe(false);
    expect(await can(deployer.username, "create", "deployments", "ci", "apps")).toBe(false);
    // The other subject of the shared binding keeps its access.
    expect(await can("alice", "create", "deployments", "ci", "apps")).toBe(true);
    await expect(admin.makeApiClient(CoreV1Api).readNamespacedSecret({ name: "deployer-token", namespace: "ci" })).rejects.toMatchObject({ code: 404 });

    const verification = await verifyAccess(remediation, deployer, plan.checks);
    expect(verification.length).toBe(plan.checks.length);
    expect(verification.filter((result) => !result.passed)).toEqual([]);

    // The grants come back; the deleted legacy token does not (it would be a new credential), and the rollback says so.
    const rollback = rollbackChangesFor(outcome.applied);
    expect(rollback.irreversible).toEqual([expect.stringMatching(/^Secret ci\/deployer-token: its token is revoked for good/)]);
    expect((await applyChanges(remediation, rollback.changes)).failed).toBeUndefined();
    expect(await can(deployer.username, "get", "secrets", "ci")).toBe(true);
    expect(await can(deployer.username, "create", "deployments", "ci", "apps")).toBe(true);
    const restored = await admin.makeApiClient(RbacAuthorizationV1Api).readNamespacedRoleBinding({ name: "ci-edit", namespace: "ci" });
    expect(restored.subjects?.map((s) => s.name)).toEqual(["deployer", "alice"]);
  });

  it("a binding changed after planning aborts the apply with the cluster's conflict, and nothing after it runs", async () => {
    const plan = planRevoke(deployer, await readLiveIdentityState(remediation, deployer, await legacyTokens()));
    // Someone adds a subject to ci-edit between preview and apply.
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    const current = await rbac.readNamespacedRoleBinding({ name: "ci-edit", namespace: "ci" });
    await rbac.replaceNamespacedRoleBinding({ name: "ci-edit", namespace: "ci", body: { ...current, subjects: [...(current.subjects ?? []), { kind: "User", name: "bob", apiGroup: rbacGroup }] } });

    const outcome = await applyChanges(remediation, plan.changes);
    expect(outcome.applied).toHaveLength(1);
    expect(outcome.failed).toMatchObject({ index: 1, refusal: { status: 409, reason: "Conflict" } });
    // Not overwritten: bob is still there, the secret untouched.
    const after = await rbac.readNamespacedRoleBinding({ name: "ci-edit", namespace: "ci" });
    expect(after.subjects?.map((s) => s.name)).toEqual(["deployer", "alice", "bob"]);

    // Re-planned from the live state, it completes and leaves alice and bob alone.
    const replanned = planRevoke(deployer, await readLiveIdentityState(remediation, deployer, await legacyTokens()));
    expect((await applyChanges(remediation, replanned.changes)).failed).toBeUndefined();
    expect((await rbac.readNamespacedRoleBinding({ name: "ci-edit", namespace: "ci" })).subjects?.map((s) => s.name)).toEqual(["alice", "bob"]);
  });

  it("a delete whose object was recreated (another uid) is refused by its precondition", async () => {
    const plan = planRevoke(deployer, await readLiveIdentityState(remediation, deployer, await legacyTokens()));
    const core = admin.makeApiClient(CoreV1Api);
    await core.deleteNamespacedSecret({ name: "deployer-token", namespace: "ci" });
    await core.createNamespacedSecret({ namespace: "ci", body: { metadata: { name: "deployer-token", annotations: { "kubernetes.io/service-account.name": "deployer" } }, type: "kubernetes.io/service-account-token" } });
    const outcome = await applyChanges(remediation, plan.changes);
    expect(outcome.failed).toMatchObject({ index: 2, refusal: { status: 409 } });
    expect(outcome.failed?.refusal.message).toMatch(/Precondition failed: UID/);
  });
});

describe("shrink and approve on the cluster", () => {
  it("shrink creates the smaller Role first, removes the subject from the old bindings, verifies, and rolls back exactly", async () => {
    const grants = {
      clusterRoles: [],
      clusterRoleBindings: [],
      roles: [{ metadata: { name: "keyward-least-privilege-deployer", namespace: "ci" }, rules: [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list"] }] }],
      roleBindings: [
        {
          metadata: { name: "keyward-least-privilege-deployer", namespace: "ci" },
          roleRef: { apiGroup: rbacGroup, kind: "Role" as const, name: "keyward-least-privilege-deployer" },
          subjects: [{ kind: "ServiceAccount" as const, name: "deployer", namespace: "ci" }],
        },
      ],
    };
    const plan = planShrink(deployer, await readLiveIdentityState(remediation, deployer), grants);
    expect((await dryRunChanges(remediation, plan.changes)).filter((o) => !o.ok)).toEqual([]);
    const outcome = await applyChanges(remediation, plan.changes);
    expect(outcome.failed).toBeUndefined();
    expect(await can(deployer.username, "list", "deployments", "ci", "apps")).toBe(true);
    expect(await can(deployer.username, "delete", "deployments", "ci", "apps")).toBe(false);
    expect((await verifyAccess(remediation, deployer, plan.checks)).filter((r) => !r.passed)).toEqual([]);

    const rollback = await applyChanges(remediation, rollbackChangesFor(outcome.applied).changes);
    expect(rollback.failed).toBeUndefined();
    expect(await can(deployer.username, "delete", "deployments", "ci", "apps")).toBe(true);
    expect(await can(deployer.username, "get", "secrets", "ci")).toBe(true);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await expect(rbac.readNamespacedRole({ name: "keyward-least-privilege-deployer", namespace: "ci" })).rejects.toMatchObject({ code: 404 });
    expect((await rbac.readNamespacedRoleBinding({ name: "ci-edit", namespace: "ci" })).subjects?.map((s) => s.name)).toEqual(["deployer", "alice"]);
  });

  it("approve annotates the service account with a merge patch, and its rollback removes the annotation", async () => {
    const plan = planApprove(deployer, await readLiveIdentityState(remediation, deployer), new Date("2026-12-02T10:00:00Z"));
    const outcome = await applyChanges(remediation, plan.changes);
    expect(outcome.failed).toBeUndefined();
    const core = admin.makeApiClient(CoreV1Api);
    expect((await core.readNamespacedServiceAccount({ name: "deployer", namespace: "ci" })).metadata?.annotations?.[REVIEWED_AT_ANNOTATION]).toBe("2026-12-02T10:00:00.000Z");
    expect((await applyChanges(remediation, rollbackChangesFor(outcome.applied).changes)).failed).toBeUndefined();
    expect((await core.readNamespacedServiceAccount({ name: "deployer", namespace: "ci" })).metadata?.annotations?.[REVIEWED_AT_ANNOTATION]).toBeUndefined();
  });
});
