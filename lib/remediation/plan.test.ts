import { describe, expect, it } from "vitest";
import { userInfoForIdentity, type PolicyIdentity } from "@/lib/permissions/cluster-policy";
import { RbacAuthorizer, type RbacObjects, type Subject } from "@/lib/rbac";
import { applyChangesToRbac, planApprove, planRevoke, planShrink, REVIEWED_AT_ANNOTATION, type ClusterObject, type LiveIdentityState } from "./plan";

const ci: PolicyIdentity = { kind: "ServiceAccount", namespace: "ci", name: "deployer", username: "system:serviceaccount:ci:deployer", groups: [] };
const saSubject: Subject = { kind: "ServiceAccount", name: "deployer", namespace: "ci" };
const alice: Subject = { kind: "User", name: "alice", apiGroup: "rbac.authorization.k8s.io" };

function rbac(): RbacObjects {
  return {
    clusterRoles: [
      { metadata: { name: "edit", resourceVersion: "1" }, rules: [{ verbs: ["get", "list", "create", "delete"], apiGroups: ["apps"], resources: ["deployments"] }] },
      { metadata: { name: "secret-reader", resourceVersion: "2" }, rules: [{ verbs: ["get", "list"], apiGroups: [""], resources: ["secrets"] }] },
      { metadata: { name: "discovery", resourceVersion: "3" }, rules: [{ verbs: ["get"], nonResourceURLs: ["/api", "/apis"] }] },
    ],
    roles: [],
    clusterRoleBindings: [
      // Only the SA: deleted on revoke.
      { metadata: { name: "deployer-secrets", resourceVersion: "10" }, subjects: [saSubject], roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "secret-reader" } },
      // Shared by every service account: never edited for one identity.
      { metadata: { name: "all-sas-discovery", resourceVersion: "11" }, subjects: [{ kind: "Group", name: "system:serviceaccounts" }], roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "discovery" } },
    ],
    roleBindings: [
      // The SA (by SA subject and by its username) and alice: the SA leaves, alice stays.
      {
        metadata: { name: "ci-edit", namespace: "ci", resourceVersion: "12" },
        subjects: [saSubject, alice, { kind: "User", name: "system:serviceaccount:ci:deployer" }],
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
      },
    ],
  };
}

const legacySecret: ClusterObject = { apiVersion: "v1", kind: "Secret", metadata: { name: "deployer-token", namespace: "ci", resourceVersion: "20" }, type: "kubernetes.io/service-account-token" };
const serviceAccount: ClusterObject = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "deployer", namespace: "ci", resourceVersion: "21" } };

function live(objects = rbac()): LiveIdentityState {
  return { rbac: objects, legacyTokenSecrets: [legacySecret], serviceAccount };
}

const allows = (objects: RbacObjects, identity: PolicyIdentity, verb: string, resource: string, namespace: string, group = "") =>
  new RbacAuthorizer(objects).authorize({ user: userInfoForIdentity(identity), resourceAttributes: { verb, resource, group, namespace } }).allowed;

describe("planRevoke", () => {
  it("deletes a binding left with no subject, edits a shared one without touching its other subjects, deletes legacy tokens", () => {
    const plan = planRevoke(ci, live());
    const summary = plan.changes.map((c) => `${c.op} ${(c.op === "create" ? c.after : c.before).kind} ${(c.op === "create" ? c.after : c.before).metadata.name}`);
    expect(summary).toEqual(["delete ClusterRoleBinding deployer-secrets", "replace RoleBinding ci-edit", "delete Secret deployer-token"]);
    const edit = plan.changes[1];
    expect(edit.op === "replace" && edit.after.subjects).toEqual([alice]);
    // The precondition: the write is conditional on the version the plan was made from.
    expect(edit.op === "replace" && edit.before.metadata.resourceVersion).toBe("12");

    const after = applyChangesToRbac(rbac(), plan.changes);
    expect(allows(after, ci, "get", "secrets", "ci")).toBe(false);
    expect(allows(after, ci, "create", "deployments", "ci", "apps")).toBe(false);
    const aliceIdentity: PolicyIdentity = { kind: "User", namespace: "", name: "alice", username: "alice", groups: [] };
    expect(allows(after, aliceIdentity, "create", "deployments", "ci", "apps")).toBe(true);
  });

  it("deletes the service account only when asked", () => {
    expect(planRevoke(ci, live()).changes.some((c) => c.op === "delete" && c.before.kind === "ServiceAccount")).toBe(false);
    expect(planRevoke(ci, live(), { deleteServiceAccount: true }).changes.at(-1)).toMatchObject({ op: "delete", before: { kind: "ServiceAccount" } });
  });

  it("checks every removed permission is denied, and says which ones a shared group keeps", () => {
    const plan = planRevoke(ci, live());
    const denied = plan.checks.filter((c) => c.expected === "denied").map((c) => ("resource" in c.attributes ? `${c.attributes.verb} ${c.attributes.resource} ${c.attributes.namespace}` : ""));
    expect(denied).toEqual(expect.arrayContaining(["get secrets ", "list secrets ", "create deployments ci", "delete deployments ci"]));
    expect(plan.checks.every((c) => c.because !== "kept")).toBe(true);
    // Discovery came through system:serviceaccounts, untouched: nothing to check there, since no changed binding granted it.
    expect(plan.checks.some((c) => "path" in c.attributes)).toBe(false);
  });

  it("is idempotent: planned again on the changed cluster, there is nothing left to do for the bindings", () => {
    const first = planRevoke(ci, live());
    const again = planRevoke(ci, { ...live(applyChangesToRbac(rbac(), first.changes)), legacyTokenSecrets: [] });
    expect(again.changes).toEqual([]);
  });

  it("for a certificate user, removes grants to its name and own groups, never to system:masters, and says it cannot revoke the certificate", () => {
    const cert: PolicyIdentity = { kind: "CertificateUser", namespace: "", name: "ops-bot", username: "ops-bot", groups: ["ops", "system:masters"] };
    const objects = rbac();
    objects.clusterRoleBindings.push(
      { metadata: { name: "ops", resourceVersion: "30" }, subjects: [{ kind: "Group", name: "ops" }], roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" } },
      { metadata: { name: "bot", resourceVersion: "31" }, subjects: [{ kind: "User", name: "ops-bot" }, alice], roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "secret-reader" } },
    );
    const plan = planRevoke(cert, { rbac: objects, legacyTokenSecrets: [], certificateExpiresAt: new Date("2027-03-01T00:00:00Z") });
    expect(plan.changes.map((c) => c.op + " " + (c.op === "create" ? c.after : c.before).metadata.name)).toEqual(["delete ops", "replace bot"]);
    expect(plan.notes.join("\n")).toMatch(/cannot revoke a client certificate: it still authenticates until 2027-03-01/);
    expect(plan.notes.join("\n")).toMatch(/system:masters, which bypasses RBAC/);
    // system:masters bypasses RBAC: what was removed is still allowed, and the checks expect exactly that.
    expect(plan.checks.length).toBeGreaterThan(0);
    expect(plan.checks.every((c) => c.expected === "allowed" && c.because === "still-granted")).toBe(true);
  });
});

describe("planShrink", () => {
  const grants: RbacObjects = {
    clusterRoles: [],
    roles: [{ metadata: { name: "keyward-least-privilege-deployer", namespace: "ci", labels: { "app.kubernetes.io/managed-by": "keyward" } }, rules: [{ verbs: ["get", "list"], apiGroups: ["apps"], resources: ["deployments"] }] }],
    clusterRoleBindings: [],
    roleBindings: [
      {
        metadata: { name: "keyward-least-privilege-deployer", namespace: "ci", labels: { "app.kubernetes.io/managed-by": "keyward" } },
        subjects: [saSubject],
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "keyward-least-privilege-deployer" },
      },
    ],
  };

  it("creates the smaller grants first, then removes the subject from the old bindings, keeping the legacy token", () => {
    const plan = planShrink(ci, live(), grants);
    expect(plan.changes.map((c) => `${c.op} ${(c.op === "create" ? c.after : c.before).kind}`)).toEqual([
      "create Role",
      "create RoleBinding",
      "delete ClusterRoleBinding",
      "replace RoleBinding",
    ]);
    const after = applyChangesToRbac(rbac(), plan.changes);
    expect(allows(after, ci, "list", "deployments", "ci", "apps")).toBe(true);
    expect(allows(after, ci, "delete", "deployments", "ci", "apps")).toBe(false);
    expect(allows(after, ci, "get", "secrets", "ci")).toBe(false);
    const kept = plan.checks.filter((c) => c.because === "kept").map((c) => ("resource" in c.attributes ? c.attributes.verb : ""));
    expect(kept.sort()).toEqual(["get", "list"]);
    // get/list deployments in ci stay allowed: they are checked as kept, not as removed.
    expect(plan.checks.filter((c) => c.expected === "denied").map((c) => ("resource" in c.attributes ? `${c.attributes.verb} ${c.attributes.resource}` : "")).sort()).toEqual([
      "create deployments",
      "delete deployments",
      "get secrets",
      "list secrets",
    ]);
  });

  it("re-planned after it was applied, changes nothing", () => {
    const plan = planShrink(ci, live(), grants);
    expect(planShrink(ci, live(applyChangesToRbac(rbac(), plan.changes)), grants).changes).toEqual([]);
  });
});

describe("planApprove", () => {
  it("annotates the service account with the review date, conditional on its current version", () => {
    const plan = planApprove(ci, live(), new Date("2026-12-02T10:00:00Z"));
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]).toMatchObject({
      op: "patch",
      before: { metadata: { resourceVersion: "21" } },
      patch: { metadata: { annotations: { [REVIEWED_AT_ANNOTATION]: "2026-12-02T10:00:00.000Z" } } },
    });
  });

  it("changes nothing on the cluster for identities that are not service accounts", () => {
    const user: PolicyIdentity = { kind: "User", namespace: "", name: "bob", username: "bob", groups: [] };
    expect(planApprove(user, { rbac: rbac(), legacyTokenSecrets: [] }, new Date()).changes).toEqual([]);
  });
});
