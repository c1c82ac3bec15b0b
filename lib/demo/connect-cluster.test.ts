import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizationV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { startKubeSim, type KubeSim } from "@/lib/kube-sim";
import { kubeConfigFor } from "@/lib/k8s/client";
import { issueRemediationToken, issueSyncToken } from "./connect-cluster";

let sim: KubeSim;
let admin: KubeConfig;

const as = (token: string) => kubeConfigFor({ apiServerUrl: sim.url, caCertPem: sim.caPem }, { type: "token", token });

beforeAll(async () => {
  sim = await startKubeSim({ port: 0 });
  admin = new KubeConfig();
  admin.loadFromString(sim.adminKubeconfig());
  await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: "team-a" } } });
  await admin.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: "team-a",
    body: { metadata: { name: "old-token", annotations: { "kubernetes.io/service-account.name": "default" } }, type: "kubernetes.io/service-account-token" },
  });
});
afterAll(async () => {
  await sim?.stop();
});

describe("Keyward's identities from deploy/", () => {
  it("the remediation identity can carry out a shrink and a revoke, and nothing else", async () => {
    const kc = as(await issueRemediationToken(admin));
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    // shrink: a Role it does not hold itself (escalate), bound to a subject (bind)
    await rbac.createNamespacedRole({
      namespace: "team-a",
      body: { metadata: { name: "shrunk" }, rules: [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list"] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: "team-a",
      body: {
        metadata: { name: "shrunk" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "shrunk" },
        subjects: [{ kind: "ServiceAccount", name: "default", namespace: "team-a" }],
      },
    });
    // verification
    const review = await kc.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
      body: { spec: { user: "system:serviceaccount:team-a:default", groups: ["system:serviceaccounts"], resourceAttributes: { namespace: "team-a", verb: "list", group: "apps", resource: "deployments" } } },
    });
    expect(review.status?.allowed).toBe(true);
    // revoke: delete a legacy token Secret without being able to read any
    await core.deleteNamespacedSecret({ namespace: "team-a", name: "old-token" });
    await expect(core.listNamespacedSecret({ namespace: "team-a" })).rejects.toMatchObject({ code: 403 });
    await expect(core.readNamespacedSecret({ namespace: "kube-system", name: "anything" })).rejects.toMatchObject({ code: 403 });
    await expect(core.createNamespacedPod({ namespace: "team-a", body: { metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "x" }] } } })).rejects.toMatchObject({ code: 403 });
  });

  it("the sync identity cannot do any of that", async () => {
    const kc = as(await issueSyncToken(admin));
    await expect(
      kc.makeApiClient(RbacAuthorizationV1Api).createNamespacedRole({ namespace: "team-a", body: { metadata: { name: "nope" }, rules: [] } }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(
      kc.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({ body: { spec: { user: "x", resourceAttributes: { verb: "get", resource: "pods" } } } }),
    ).rejects.toMatchObject({ code: 403 });
  });
});
