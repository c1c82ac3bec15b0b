import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { randomBytes, X509Certificate } from "node:crypto";
import { startKubeSim, type KubeSim } from "@/lib/kube-sim";
import { setupTestDatabase } from "@/lib/testing/database";
import { kubeConfigFor } from "@/lib/k8s/client";
import { registerCluster } from "@/lib/clusters/register-cluster";
import { issueSyncToken } from "@/lib/demo/connect-cluster";
import { syncCluster } from "./sync-cluster";

process.env.KEYWARD_SECRET_KEY = randomBytes(32).toString("base64");
const db = setupTestDatabase();
let sim: KubeSim;
let admin: CoreV1Api;

beforeAll(async () => {
  sim = await startKubeSim({ port: 0, demo: true });
  const kc = new KubeConfig();
  kc.loadFromString(sim.adminKubeconfig());
  admin = kc.makeApiClient(CoreV1Api);
});
afterAll(async () => {
  await sim?.stop();
});

async function liveServiceAccounts(): Promise<string[]> {
  const list = await admin.listServiceAccountForAllNamespaces();
  return list.items.map((sa) => `${sa.metadata!.namespace}/${sa.metadata!.name}`).sort();
}

async function syncedServiceAccounts(clusterId: string): Promise<string[]> {
  const rows = await db.prisma.identity.findMany({
    where: { clusterId, kind: "ServiceAccount", deletedAt: null },
    select: { namespace: true, name: true },
  });
  return rows.map((r) => `${r.namespace}/${r.name}`).sort();
}

describe("cluster sync (simulator → client-node → Postgres)", () => {
  let clusterId: string;

  it("syncs every service account with only the read-only identity from deploy/", async () => {
    const kc = new KubeConfig();
    kc.loadFromString(sim.adminKubeconfig());
    const token = await issueSyncToken(kc, 3600);
    ({ id: clusterId } = await registerCluster({
      name: "sim",
      apiServerUrl: sim.url,
      caCertPem: sim.caPem,
      sync: { type: "token", token },
    }));
    const outcome = await syncCluster(clusterId, "manual");
    expect(outcome).toMatchObject({ ok: true });
    const live = await liveServiceAccounts();
    expect(live.length).toBeGreaterThan(20);
    expect(await syncedServiceAccounts(clusterId)).toEqual(live);
    const run = await db.prisma.syncRun.findUniqueOrThrow({ where: { id: outcome.syncRunId } });
    expect(run).toMatchObject({ status: "succeeded", counts: { serviceaccounts: live.length } });
  });

  it("stores every inventoried kind, with counts that match the cluster", async () => {
    const live = (apiVersion: string, kind: string) => sim.list(apiVersion, kind);
    const tokenSecrets = live("v1", "Secret").filter((s) => s.type === "kubernetes.io/service-account-token");
    const run = await db.prisma.syncRun.findFirstOrThrow({
      where: { clusterId, status: "succeeded" },
      orderBy: { startedAt: "desc" },
    });
    expect(run.counts).toMatchObject({
      namespaces: live("v1", "Namespace").length,
      serviceaccounts: live("v1", "ServiceAccount").length,
      secrets: tokenSecrets.length,
      pods: live("v1", "Pod").length,
      roles: live("rbac.authorization.k8s.io/v1", "Role").length,
      clusterroles: live("rbac.authorization.k8s.io/v1", "ClusterRole").length,
      rolebindings: live("rbac.authorization.k8s.io/v1", "RoleBinding").length,
      clusterrolebindings: live("rbac.authorization.k8s.io/v1", "ClusterRoleBinding").length,
      certificatesigningrequests: live("certificates.k8s.io/v1", "CertificateSigningRequest").length,
    });
    expect(tokenSecrets.length).toBeGreaterThan(0);
    // The analysis ran on the new snapshot.
    expect(await db.prisma.cluster.findUniqueOrThrow({ where: { id: clusterId } })).toMatchObject({
      status: "healthy",
    });
    expect(
      await db.prisma.finding.count({ where: { clusterId, type: "legacy-token", resolvedAt: null } }),
    ).toBeGreaterThan(0);
    const alive = { clusterId, deletedAt: null };
    expect(await db.prisma.kubeNamespace.count({ where: alive })).toBe(live("v1", "Namespace").length);
    expect(await db.prisma.rbacRole.count({ where: { ...alive, kind: "ClusterRole" } })).toBe(
      live("rbac.authorization.k8s.io/v1", "ClusterRole").length,
    );
    expect(await db.prisma.rbacBinding.count({ where: { ...alive, kind: "RoleBinding" } })).toBe(
      live("rbac.authorization.k8s.io/v1", "RoleBinding").length,
    );
    expect(await db.prisma.workload.count({ where: { ...alive, identityId: null } })).toBe(0);

    // Legacy tokens: linked to their service account, never their secret material.
    const credentials = await db.prisma.credential.findMany({
      where: { ...alive, kind: "legacyTokenSecret" },
      include: { identity: true },
    });
    expect(credentials).toHaveLength(tokenSecrets.length);
    const stored = JSON.stringify(credentials);
    for (const secret of tokenSecrets) {
      const data = (secret.data ?? {}) as Record<string, string>;
      for (const value of Object.values(data)) expect(stored).not.toContain(value);
      const row = credentials.find(
        (c) => c.namespace === secret.metadata.namespace && c.name === secret.metadata.name,
      )!;
      expect(row.identity?.name).toBe(secret.metadata.annotations?.["kubernetes.io/service-account.name"]);
      expect(row.issuedAt?.toISOString()).toBe(
        new Date(secret.metadata.creationTimestamp as string).toISOString(),
      );
      expect(row.identity?.hasLegacyToken).toBe(true);
    }

    // Certificate users: CN and O of each issued client certificate, fingerprint as openssl computes it.
    const issued = live("certificates.k8s.io/v1", "CertificateSigningRequest").filter(
      (csr) =>
        (csr.spec as { signerName?: string }).signerName === "kubernetes.io/kube-apiserver-client" &&
        (csr.status as { certificate?: string } | undefined)?.certificate,
    );
    expect(issued.length).toBeGreaterThan(0);
    for (const csr of issued) {
      const x509 = new X509Certificate(
        Buffer.from((csr.status as { certificate: string }).certificate, "base64"),
      );
      const cn = /CN=([^\n]+)/.exec(x509.subject)![1];
      const row = await db.prisma.credential.findFirstOrThrow({
        where: { clusterId, kind: "clientCertificate", name: csr.metadata.name },
        include: { identity: true },
      });
      expect(row.fingerprint).toBe(x509.fingerprint256.replaceAll(":", "").toLowerCase());
      expect(row.expiresAt?.getTime()).toBe(new Date(x509.validTo).getTime());
      expect(row.identity).toMatchObject({ kind: "CertificateUser", name: cn, username: cn });
      for (const o of x509.subject
        .split("\n")
        .filter((l) => l.startsWith("O="))
        .map((l) => l.slice(2)))
        expect(row.identity?.groups).toContain(o);
    }

    // RBAC subjects with no object become User/Group identities; known usernames do not.
    const known = new Set(
      (
        await db.prisma.identity.findMany({
          where: { ...alive, kind: { in: ["ServiceAccount", "CertificateUser"] } },
        })
      ).map((i) => i.username),
    );
    const subjects = [
      ...live("rbac.authorization.k8s.io/v1", "RoleBinding"),
      ...live("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ].flatMap((b) => (b.subjects ?? []) as Array<{ kind: string; name: string }>);
    const expected = new Set(
      subjects
        .filter((s) => s.kind === "Group" || (s.kind === "User" && !known.has(s.name)))
        .map((s) => `${s.kind}/${s.name}`),
    );
    const subjectRows = await db.prisma.identity.findMany({
      where: { ...alive, kind: { in: ["User", "Group"] } },
    });
    expect(new Set(subjectRows.map((i) => `${i.kind}/${i.name}`))).toEqual(expected);
  });

  it("never stores a Secret's data, even when kubectl apply copied it into an annotation", async () => {
    const token = "c2VjcmV0LXRva2VuLXZhbHVl";
    const manifest = {
      apiVersion: "v1",
      kind: "Secret",
      type: "kubernetes.io/service-account-token",
      metadata: {
        name: "applied-token",
        namespace: "default",
        annotations: { "kubernetes.io/service-account.name": "default" },
      },
      data: { token },
    };
    sim.apply({
      ...manifest,
      metadata: {
        ...manifest.metadata,
        annotations: {
          ...manifest.metadata.annotations,
          "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify(manifest),
        },
      },
    });
    await sim.settle();
    expect(await syncCluster(clusterId, "manual")).toMatchObject({ ok: true });
    const row = await db.prisma.credential.findFirstOrThrow({ where: { clusterId, name: "applied-token" } });
    expect(JSON.stringify(row)).not.toContain(token);
    expect(row.annotations).toEqual({ "kubernetes.io/service-account.name": "default" });
    sim.delete({ apiVersion: "v1", kind: "Secret", namespace: "default", name: "applied-token" });
  });

  it("the read-only identity really cannot write", async () => {
    const kc = new KubeConfig();
    kc.loadFromString(sim.adminKubeconfig());
    const token = await issueSyncToken(kc, 3600);
    const asSync = kubeConfigFor({ apiServerUrl: sim.url, caCertPem: sim.caPem }, { type: "token", token });
    await expect(
      asSync
        .makeApiClient(CoreV1Api)
        .createNamespacedServiceAccount({ namespace: "default", body: { metadata: { name: "nope" } } }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(
      asSync.makeApiClient(RbacAuthorizationV1Api).deleteClusterRoleBinding({ name: "keyward-sync" }),
    ).rejects.toMatchObject({ code: 403 });
  });

  it("marks deleted service accounts as deleted and keeps their history", async () => {
    const before = await db.prisma.identity.findFirstOrThrow({
      where: { clusterId, namespace: "kube-system", name: "default" },
    });
    await admin.createNamespacedServiceAccount({
      namespace: "default",
      body: { metadata: { name: "short-lived-bot" } },
    });
    expect(await syncCluster(clusterId, "manual")).toMatchObject({ ok: true });
    expect(await syncedServiceAccounts(clusterId)).toContain("default/short-lived-bot");

    await admin.deleteNamespacedServiceAccount({ namespace: "default", name: "short-lived-bot" });
    expect(await syncCluster(clusterId, "manual")).toMatchObject({ ok: true });
    expect(await syncedServiceAccounts(clusterId)).toEqual(await liveServiceAccounts());
    const gone = await db.prisma.identity.findFirstOrThrow({
      where: { clusterId, namespace: "default", name: "short-lived-bot" },
    });
    expect(gone.deletedAt).not.toBeNull();
    expect(gone.firstSeenAt.getTime()).toBeLessThan(gone.deletedAt!.getTime());

    const after = await db.prisma.identity.findFirstOrThrow({
      where: { clusterId, namespace: "kube-system", name: "default" },
    });
    expect(after.firstSeenAt).toEqual(before.firstSeenAt);
    expect(after.lastSeenAt.getTime()).toBeGreaterThan(before.lastSeenAt.getTime());
  });

  it("records a forbidden sync as failed and leaves the last good snapshot intact", async () => {
    const snapshot = await syncedServiceAccounts(clusterId);
    await registerCluster({
      name: "sim",
      apiServerUrl: sim.url,
      caCertPem: sim.caPem,
      sync: { type: "token", token: sim.tokenFor({ username: "nobody-in-particular" }) },
    });
    const outcome = await syncCluster(clusterId, "manual");
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error).toMatch(/403.*forbidden/i);
    const run = await db.prisma.syncRun.findUniqueOrThrow({ where: { id: outcome.syncRunId } });
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/cannot list resource/);
    expect(await syncedServiceAccounts(clusterId)).toEqual(snapshot);
    expect(await db.prisma.cluster.findUniqueOrThrow({ where: { id: clusterId } })).toMatchObject({
      status: "error",
    });
  });
});
