import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { startKubeSim, type KubeSim } from "@/lib/kube-sim";
import { setupTestDatabase } from "@/lib/testing/database";
import { issueSyncToken } from "@/lib/demo/connect-cluster";
import { clusterInputFromKubeconfig } from "@/lib/k8s/kubeconfig";
import { registerCluster } from "./register-cluster";
import { testClusterConnection } from "./test-connection";

process.env.KEYWARD_SECRET_KEY = randomBytes(32).toString("base64");
setupTestDatabase();
let sim: KubeSim;

beforeAll(async () => {
  sim = await startKubeSim({ port: 0 });
});
afterAll(async () => {
  await sim?.stop();
});

describe("testClusterConnection (simulator)", () => {
  it("reports the read-only sync identity from deploy/ as complete and read-only, and warns about an admin remediation identity only as remediation", async () => {
    const adminKc = new KubeConfig();
    adminKc.loadFromString(sim.adminKubeconfig());
    const token = await issueSyncToken(adminKc, 3600);
    const admin = clusterInputFromKubeconfig(sim.adminKubeconfig());
    const { id } = await registerCluster({
      name: "least-privilege",
      apiServerUrl: sim.url,
      caCertPem: sim.caPem,
      sync: { type: "token", token },
      remediation: admin.secret,
    });
    const result = await testClusterConnection(id);
    const byPurpose = new Map(result!.credentials.map((c) => [c.purpose, c]));
    const sync = byPurpose.get("sync")!;
    const remediation = byPurpose.get("remediation")!;
    expect(sync).toMatchObject({ purpose: "sync", ok: true, writes: false, cannot: [], warnings: [] });
    expect(sync.subject?.username).toBe("system:serviceaccount:keyward-system:keyward-sync");
    expect(sync.namespaces).toContain("keyward-system");
    expect(sync.canDo.join("\n")).toMatch(/get,list,watch .*serviceaccounts/);
    expect(remediation).toMatchObject({ purpose: "remediation", ok: true, writes: true, warnings: [] });
    expect(remediation.subject).toEqual({ username: "kubernetes-admin", groups: expect.arrayContaining(["system:masters"]) });
  });

  it("warns when the sync identity can write, and lists the reads it lacks", async () => {
    const admin = clusterInputFromKubeconfig(sim.adminKubeconfig());
    const { id } = await registerCluster({ name: "admin-as-sync", apiServerUrl: sim.url, caCertPem: sim.caPem, sync: admin.secret });
    const [sync] = (await testClusterConnection(id))!.credentials;
    expect(sync).toMatchObject({ ok: true, writes: true, cannot: [] });
    expect(sync.warnings).toEqual([expect.stringMatching(/sync identity can write \(\*\)/)]);

    const nobody = clusterInputFromKubeconfig(sim.kubeconfigFor({ username: "nobody" }));
    const { id: weakId } = await registerCluster({ name: "weak", apiServerUrl: sim.url, caCertPem: sim.caPem, sync: nobody.secret });
    const [weak] = (await testClusterConnection(weakId))!.credentials;
    expect(weak).toMatchObject({ ok: true, writes: false, subject: { username: "nobody" } });
    expect(weak.cannot).toContain("list serviceaccounts");
    expect(weak.warnings.join(" ")).toMatch(/inventory will be incomplete/);
  });

  it("explains a rejected credential and an unreachable cluster without throwing", async () => {
    const { id } = await registerCluster({ name: "bad-token", apiServerUrl: sim.url, caCertPem: sim.caPem, sync: { type: "token", token: "not-a-token" } });
    expect((await testClusterConnection(id))!.credentials[0]).toMatchObject({ ok: false, error: expect.stringMatching(/401/) });
    const { id: downId } = await registerCluster({ name: "down", apiServerUrl: "https://127.0.0.1:1", caCertPem: sim.caPem, sync: { type: "token", token: "x" } });
    expect((await testClusterConnection(downId))!.credentials[0]).toMatchObject({ ok: false, error: expect.stringMatching(/Cannot reach the cluster/) });
    expect(await testClusterConnection("missing")).toBeNull();
  });
});
