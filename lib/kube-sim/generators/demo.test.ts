import "reflect-metadata"; // @peculiar/x509 (through tsyringe) needs the Reflect metadata API
import { webcrypto } from "node:crypto";
import { Pkcs10CertificateRequest } from "@peculiar/x509";
import { beforeAll, describe, expect, it } from "vitest";
import { aggregateClusterRoles, RbacAuthorizer, type UserInfo } from "@/lib/rbac";
import { bootstrapObjects } from "../bootstrap";
import { isNamespacedKind } from "../manifests";
import type { KubeObject } from "../types";
import { generateDemoCluster } from "./demo";
import { rbacObjectsOf } from "./rbac-objects";

type SubjectRecord = { kind: string; name: string; namespace?: string };

const key = (namespace: string | undefined, name: string) => `${namespace ?? ""}/${name}`;
const ofKind = (objects: KubeObject[], kind: string) => objects.filter((object) => object.kind === kind);
const subjectsOf = (binding: KubeObject) => (binding.subjects ?? []) as SubjectRecord[];
const serviceAccountUser = (namespace: string, name: string): UserInfo => ({
  username: `system:serviceaccount:${namespace}:${name}`,
  groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
});

describe("generateDemoCluster", () => {
  let objects: KubeObject[];
  let serviceAccounts: Set<string>;
  let authorizer: RbacAuthorizer;

  beforeAll(async () => {
    objects = await generateDemoCluster();
    serviceAccounts = new Set(ofKind(objects, "ServiceAccount").map((object) => key(object.metadata.namespace, object.metadata.name)));
    const rbac = rbacObjectsOf([...bootstrapObjects(), ...objects]);
    authorizer = new RbacAuthorizer({ ...rbac, clusterRoles: aggregateClusterRoles(rbac.clusterRoles) });
  });

  it("has no duplicate objects and every namespaced object's namespace exists", () => {
    const ids = objects.map((object) => `${object.kind}/${key(object.metadata.namespace, object.metadata.name)}`);
    expect(new Set(ids).size).toBe(ids.length);
    const namespaces = new Set(ofKind(objects, "Namespace").map((object) => object.metadata.name));
    for (const object of objects) {
      if (isNamespacedKind(object.apiVersion, object.kind)) expect(namespaces, object.metadata.name).toContain(object.metadata.namespace);
      else expect(object.metadata.namespace).toBeUndefined();
    }
  });

  it("runs every pod as an SA that exists, several pods share one SA and some run as default", () => {
    const pods = ofKind(objects, "Pod");
    const podsPerServiceAccount = new Map<string, number>();
    for (const pod of pods) {
      const serviceAccount = key(pod.metadata.namespace, (pod.spec as { serviceAccountName: string }).serviceAccountName);
      expect(serviceAccounts, pod.metadata.name).toContain(serviceAccount);
      podsPerServiceAccount.set(serviceAccount, (podsPerServiceAccount.get(serviceAccount) ?? 0) + 1);
      expect(pod.metadata.ownerReferences?.[0]).toMatchObject({ controller: true });
    }
    expect(podsPerServiceAccount.get("checkout/checkout-shared")).toBe(4);
    expect([...podsPerServiceAccount.keys()].filter((serviceAccount) => serviceAccount.endsWith("/default")).length).toBeGreaterThanOrEqual(3);
    // Every workload got its pods.
    const workloads = objects.filter((object) => ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"].includes(object.kind));
    const replicas = workloads.reduce((sum, workload) => sum + ((workload.spec as { replicas?: number }).replicas ?? 1), 0);
    expect(pods).toHaveLength(replicas);
  });

  it("binds only SAs that exist, except the one left behind on purpose", () => {
    const missing = [...ofKind(objects, "RoleBinding"), ...ofKind(objects, "ClusterRoleBinding")]
      .flatMap(subjectsOf)
      .filter((subject) => subject.kind === "ServiceAccount" && !serviceAccounts.has(key(subject.namespace, subject.name)))
      .map((subject) => key(subject.namespace, subject.name));
    expect(missing).toEqual(["ci/argo-server"]);
  });

  it("refers to missing roles only where it means to", () => {
    const dangling = authorizer.danglingBindings().map(({ binding, roleRef }) => `${binding.kind} ${key(binding.namespace, binding.name)} → ${roleRef.kind} ${roleRef.name}`);
    expect(dangling.sort()).toEqual([
      "RoleBinding ci/argo-server-binding → ClusterRole argo-server-cluster-role",
      "RoleBinding legacy-apps/old-reporting-reader → Role reporting-reader",
    ]);
  });

  it("has legacy tokens only for SAs that exist, old, some with a last-used day", () => {
    const secrets = ofKind(objects, "Secret");
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    const now = Date.now();
    for (const secret of secrets) {
      expect(secret.type).toBe("kubernetes.io/service-account-token");
      const serviceAccount = secret.metadata.annotations?.["kubernetes.io/service-account.name"];
      expect(serviceAccounts).toContain(key(secret.metadata.namespace, serviceAccount ?? ""));
      const ageDays = (now - Date.parse(secret.metadata.creationTimestamp ?? "")) / 86_400_000;
      expect(ageDays).toBeGreaterThan(90);
    }
    const lastUsed = secrets.map((secret) => secret.metadata.labels?.["kubernetes.io/legacy-token-last-used"]).filter(Boolean);
    expect(lastUsed.length).toBeGreaterThanOrEqual(3);
    expect(secrets.length - lastUsed.length).toBeGreaterThanOrEqual(1);
    for (const day of lastUsed) expect(day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("has owned and unowned SAs, and team labels on namespaces", () => {
    const owned = ofKind(objects, "ServiceAccount").filter((object) => object.metadata.annotations?.["keyward.io/owner"]);
    expect(owned.length).toBeGreaterThan(20);
    expect(ofKind(objects, "ServiceAccount").length - owned.length).toBeGreaterThan(10);
    expect(ofKind(objects, "Namespace").find((object) => object.metadata.name === "payments")?.metadata.labels).toMatchObject({ team: "payments" });
  });

  it("has CSRs with valid PKCS#10 requests for kube-apiserver-client users", async () => {
    const csrs = ofKind(objects, "CertificateSigningRequest");
    expect(csrs.length).toBeGreaterThanOrEqual(5);
    for (const csr of csrs) {
      const spec = csr.spec as { request: string; signerName: string; expirationSeconds?: number };
      expect(spec.signerName).toBe("kubernetes.io/kube-apiserver-client");
      const request = new Pkcs10CertificateRequest(Buffer.from(spec.request, "base64").toString("utf8"));
      expect(await request.verify(webcrypto as unknown as Crypto)).toBe(true);
      expect(request.subject).toMatch(/^CN=[^,]+(, O=[^,]+)+$/);
    }
    const backupAgent = csrs.find((csr) => csr.metadata.name === "backup-agent")!;
    const backupRequest = new Pkcs10CertificateRequest(Buffer.from((backupAgent.spec as { request: string }).request, "base64").toString("utf8"));
    expect(backupRequest.subject).toBe("CN=backup-agent, O=ops-tools");
    expect(backupAgent.status).toMatchObject({ conditions: [{ type: "Approved", status: "True" }] });
    const approved = csrs.filter((csr) => JSON.stringify(csr.status).includes('"Approved"'));
    expect(approved.length).toBeGreaterThanOrEqual(4);
    expect(approved.some((csr) => (csr.spec as { expirationSeconds?: number }).expirationSeconds === undefined)).toBe(true);
    expect(approved.some((csr) => (csr.spec as { expirationSeconds?: number }).expirationSeconds !== undefined)).toBe(true);
  });

  it("grants the risky and the harmless access the demo is about", () => {
    const can = (user: UserInfo, verb: string, resource: string, namespace = "", group = "", subresource?: string) =>
      authorizer.authorize({ user, resourceAttributes: { verb, group, resource, namespace, subresource } }).allowed;
    expect(can(serviceAccountUser("platform-system", "cluster-ops-operator"), "delete", "nodes")).toBe(true);
    expect(can(serviceAccountUser("platform-system", "secrets-sync"), "delete", "secrets", "payments")).toBe(true);
    expect(can(serviceAccountUser("platform-system", "secrets-sync"), "create", "pods", "payments")).toBe(false);
    const rbacManager = serviceAccountUser("platform-system", "rbac-manager");
    expect(can(rbacManager, "impersonate", "users")).toBe(true);
    expect(can(rbacManager, "escalate", "clusterroles", "", "rbac.authorization.k8s.io")).toBe(true);
    expect(can(rbacManager, "bind", "clusterroles", "", "rbac.authorization.k8s.io")).toBe(true);

    // The CI deployer edits its target namespaces as an SA and as a static-kubeconfig User, and nothing else.
    const ciUser: UserInfo = { username: "ci-deployer", groups: ["system:authenticated"] };
    for (const namespace of ["payments", "checkout", "search", "ml-serving"]) {
      expect(can(serviceAccountUser("ci", "ci-deployer"), "create", "deployments", namespace, "apps")).toBe(true);
      expect(can(ciUser, "patch", "deployments", namespace, "apps")).toBe(true);
    }
    expect(can(ciUser, "create", "deployments", "platform-system", "apps")).toBe(false);
    expect(can({ username: "someone-in-release-bots", groups: ["release-bots", "system:authenticated"] }, "delete", "pods", "ci")).toBe(true);

    // Monitoring reads but never writes.
    for (const monitoring of ["prometheus", "kube-state-metrics"]) {
      expect(can(serviceAccountUser("monitoring", monitoring), "list", "pods", "payments")).toBe(true);
      expect(can(serviceAccountUser("monitoring", monitoring), "create", "pods", "payments")).toBe(false);
      expect(can(serviceAccountUser("monitoring", monitoring), "delete", "pods", "payments")).toBe(false);
    }

    // The default SA of checkout can edit its namespace; anyone authenticated may list namespaces.
    expect(can(serviceAccountUser("checkout", "default"), "create", "deployments", "checkout", "apps")).toBe(true);
    expect(can({ username: "random", groups: ["system:authenticated"] }, "list", "namespaces")).toBe(true);
    // Certificate users: CN is the user, O the groups.
    expect(can({ username: "backup-agent", groups: ["ops-tools", "system:authenticated"] }, "list", "secrets", "payments")).toBe(true);
    expect(can({ username: "jenkins", groups: ["ci-legacy", "system:authenticated"] }, "delete", "namespaces")).toBe(true);
  });

  it("has 60 to 120 identities (SAs, certificate users and subjects with no object)", () => {
    const certificateUsers = ofKind(objects, "CertificateSigningRequest").filter((csr) => JSON.stringify(csr.status).includes('"Approved"'));
    const userAndGroupSubjects = new Set(
      [...ofKind(objects, "RoleBinding"), ...ofKind(objects, "ClusterRoleBinding")]
        .flatMap(subjectsOf)
        .filter((subject) => subject.kind !== "ServiceAccount" && !subject.name.startsWith("system:"))
        .map((subject) => `${subject.kind}:${subject.name}`),
    );
    const identities = serviceAccounts.size + certificateUsers.length + userAndGroupSubjects.size;
    expect(identities).toBeGreaterThanOrEqual(60);
    expect(identities).toBeLessThanOrEqual(120);
  });

  it("has the same structure on every call; only keys and timestamps change", async () => {
    const volatile = new Set(["request", "creationTimestamp", "lastUpdateTime", "lastTransitionTime", "kubernetes.io/legacy-token-last-used", "kubernetes.io/legacy-token-invalid-since"]);
    const stable = (list: KubeObject[]) => JSON.stringify(list, (name, value: unknown) => (volatile.has(name) ? undefined : value));
    const again = await generateDemoCluster();
    expect(stable(again)).toBe(stable(objects));
    const requests = (list: KubeObject[]) => ofKind(list, "CertificateSigningRequest").map((csr) => (csr.spec as { request: string }).request);
    expect(requests(again)).not.toEqual(requests(objects));
  });
});
