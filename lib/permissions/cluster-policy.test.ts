// The policy rebuilt from the database must answer like the Kubernetes authorizer: compared with the real
// `kubectl auth can-i` against the simulator loaded with real-world add-on manifests.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerCluster } from "@/lib/clusters/register-cluster";
import { issueSyncToken } from "@/lib/demo/connect-cluster";
import { syncCluster } from "@/lib/sync/sync-cluster";
import { startKubeSim, type KubeObject, type KubeSim } from "@/lib/kube-sim";
import { setupTestDatabase } from "@/lib/testing/database";
import { loadClusterPolicy, type ClusterPolicy, type PolicyIdentity } from "./cluster-policy";
import { insertCluster, insertKubeObjects } from "./test-support/inventory-rows";
import { kubectlCanI, mapLimited, type AccessCheck } from "./test-support/kubectl";
import { REAL_WORLD_RBAC_DIR } from "@/lib/rbac/test-support/real-world-fixtures";

const ADD_ONS = ["kube-state-metrics", "argo-cd", "cert-manager", "sealed-secrets", "kubernetes-dashboard", "ingress-nginx"];

const extraObjects: KubeObject[] = [
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "ci-edit", namespace: "kube-system" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
    subjects: [
      { apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "ci-deployer" },
      { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "ops" },
    ],
  },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "ops-view" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "ops" }],
  },
];

const sa = (namespace: string, name: string): PolicyIdentity => ({
  kind: "ServiceAccount",
  namespace,
  name,
  username: `system:serviceaccount:${namespace}:${name}`,
  groups: [],
});

const identities: PolicyIdentity[] = [
  sa("kube-system", "kube-state-metrics"),
  sa("argocd", "argocd-application-controller"),
  sa("argocd", "argocd-server"),
  sa("cert-manager", "cert-manager"),
  sa("cert-manager", "cert-manager-cainjector"),
  sa("kube-system", "sealed-secrets-controller"),
  sa("kubernetes-dashboard", "kubernetes-dashboard"),
  sa("ingress-nginx", "ingress-nginx"),
  sa("default", "default"),
  { kind: "User", namespace: "", name: "ci-deployer", username: "ci-deployer", groups: [] },
  { kind: "CertificateUser", namespace: "", name: "robot", username: "robot", groups: ["ops"] },
];

// Only resources the simulator serves: for others kubectl's discovery, not the authorizer, shapes the request.
const checks: Omit<AccessCheck, "namespace">[] = [
  { verb: "get", group: "", resource: "secrets" },
  { verb: "list", group: "", resource: "secrets" },
  { verb: "watch", group: "", resource: "serviceaccounts" },
  { verb: "create", group: "", resource: "pods" },
  { verb: "delete", group: "", resource: "pods" },
  { verb: "create", group: "", resource: "pods", subresource: "exec" },
  { verb: "create", group: "", resource: "serviceaccounts", subresource: "token" },
  { verb: "create", group: "rbac.authorization.k8s.io", resource: "rolebindings" },
];
const clusterScopedChecks: Omit<AccessCheck, "namespace">[] = [
  { verb: "list", group: "", resource: "namespaces" },
  { verb: "bind", group: "rbac.authorization.k8s.io", resource: "clusterroles" },
  { verb: "create", group: "authentication.k8s.io", resource: "tokenreviews" },
  { verb: "update", group: "certificates.k8s.io", resource: "certificatesigningrequests", subresource: "approval" },
];
const NAMESPACES = ["kube-system", "argocd", "cert-manager", "default", ""];

function allTuples(): { identity: PolicyIdentity; check: AccessCheck }[] {
  return identities.flatMap((identity) => [
    ...checks.flatMap((check) => NAMESPACES.map((namespace) => ({ identity, check: { ...check, namespace } }))),
    ...clusterScopedChecks.map((check) => ({ identity, check: { ...check, namespace: "" } })),
  ]);
}

process.env.KEYWARD_SECRET_KEY ??= randomBytes(32).toString("base64");
const database = setupTestDatabase();
let sim: KubeSim;
let dir: string;
let kubeconfig: string;
let clusterId: string;
let policy: ClusterPolicy;

const RBAC = "rbac.authorization.k8s.io/v1";

beforeAll(async () => {
  sim = await startKubeSim({
    port: 0,
    loadPaths: ADD_ONS.map((addOn) => path.join(REAL_WORLD_RBAC_DIR, `${addOn}.yaml`)),
    objects: extraObjects,
  });
  dir = await mkdtemp(path.join(tmpdir(), "keyward-permissions-"));
  kubeconfig = path.join(dir, "admin.kubeconfig");
  await writeFile(kubeconfig, sim.adminKubeconfig(), { mode: 0o600 });

  const clusterRoles = sim.list(RBAC, "ClusterRole").map((role) =>
    // Store aggregated ClusterRoles without their rules: loadClusterPolicy must recompute the union itself.
    role.aggregationRule ? { ...role, rules: [] } : role,
  );
  const objects = [
    ...sim.list("v1", "Namespace"),
    ...sim.list("v1", "ServiceAccount"),
    ...sim.list(RBAC, "Role"),
    ...clusterRoles,
    ...sim.list(RBAC, "RoleBinding"),
    ...sim.list(RBAC, "ClusterRoleBinding"),
  ];
  const cluster = await insertCluster(database.prisma, "policy-test");
  clusterId = cluster.id;
  await insertKubeObjects(database.prisma, clusterId, objects, { subjectIdentities: true });
  // A deleted binding must grant nothing.
  await database.prisma.rbacBinding.create({
    data: {
      clusterId,
      kind: "ClusterRoleBinding",
      name: "deleted-admin",
      roleRefKind: "ClusterRole",
      roleRefName: "cluster-admin",
      subjects: [{ kind: "User", name: "ci-deployer" }],
      deletedAt: new Date(),
    },
  });
  policy = await loadClusterPolicy(database.prisma, clusterId);
});

afterAll(async () => {
  await sim?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("loadClusterPolicy", () => {
  it("answers like kubectl auth can-i for real-world add-ons, allowed and denied", async () => {
    const ours = allTuples().map(({ identity, check }) => ({
      identity,
      check,
      allowed: policy.authorize(identity, check).allowed,
    }));
    // kubectl is slow on a loaded 2-core machine: compare an even spread of 11 allowed and 11 denied answers.
    const spread = <T>(items: T[], count: number) =>
      items.filter((_, index) => index % Math.max(1, Math.floor(items.length / count)) === 0).slice(0, count);
    const sample = [...spread(ours.filter((t) => t.allowed), 11), ...spread(ours.filter((t) => !t.allowed), 11)];
    expect(sample.filter((t) => t.allowed).length).toBe(11);

    const theirs = await mapLimited(sample, 2, ({ identity, check }) => kubectlCanI(kubeconfig, identity, check));
    const disagreements = sample
      .map((tuple, index) => ({ ...tuple, kubectl: theirs[index] }))
      .filter((tuple) => tuple.kubectl !== tuple.allowed)
      .map(({ identity, check, allowed, kubectl }) => ({ who: identity.username, check, ours: allowed, kubectl }));
    expect(disagreements).toEqual([]);
  }, 60_000);

  it("recomputes aggregated ClusterRoles and ignores deleted bindings", async () => {
    const ciDeployer = identities[9];
    // edit is stored with no rules here; its aggregated rules grant pods in kube-system.
    expect(policy.authorize(ciDeployer, { verb: "create", group: "", resource: "pods", namespace: "kube-system" }).allowed).toBe(true);
    expect(policy.authorize(ciDeployer, { verb: "create", group: "", resource: "pods", namespace: "default" }).allowed).toBe(false);
    expect(
      await kubectlCanI(kubeconfig, ciDeployer, { verb: "create", group: "", resource: "pods", namespace: "default" }),
    ).toBe(false);
  });

  it("gives each effective rule its provenance and scope", () => {
    const robot = identities[10];
    const rules = policy.effectiveRules(robot);
    const viaOpsEdit = rules.filter((rule) => rule.binding.name === "ci-edit");
    expect(viaOpsEdit.length).toBeGreaterThan(0);
    expect(viaOpsEdit.every((rule) => rule.namespace === "kube-system" && rule.viaSubject.name === "ops")).toBe(true);
    expect(rules.some((rule) => rule.binding.name === "ops-view" && rule.namespace === null)).toBe(true);
    // system:authenticated's bootstrap grants apply to every authenticated identity.
    expect(rules.some((rule) => rule.viaSubject.name === "system:authenticated")).toBe(true);
  });

  it("a Group identity holds exactly the grants made to that group", () => {
    const rules = policy.effectiveRules({ kind: "Group", namespace: "", name: "ops", username: "ops", groups: [] });
    expect(new Set(rules.map((rule) => rule.binding.name))).toEqual(new Set(["ci-edit", "ops-view"]));
  });

  it("the full sync of the same cluster gives the same answers, and its analysis flags kube-state-metrics", async () => {
    const admin = new KubeConfig();
    admin.loadFromString(sim.adminKubeconfig());
    const token = await issueSyncToken(admin, 3600);
    const { id } = await registerCluster({ name: "synced", apiServerUrl: sim.url, caCertPem: sim.caPem, sync: { type: "token", token } });
    expect(await syncCluster(id, "manual")).toMatchObject({ ok: true });
    const synced = await loadClusterPolicy(database.prisma, id);
    const differences = allTuples().filter(
      ({ identity, check }) => synced.authorize(identity, check).allowed !== policy.authorize(identity, check).allowed,
    );
    expect(differences).toEqual([]);

    const ksm = await database.prisma.identity.findFirstOrThrow({
      where: { clusterId: id, kind: "ServiceAccount", namespace: "kube-system", name: "kube-state-metrics" },
      include: { findings: { where: { resolvedAt: null } } },
    });
    expect(ksm.maxSeverity).toBe("high");
    expect(ksm.findings.map((finding) => finding.type)).toContain("secrets-read");
  });
});
