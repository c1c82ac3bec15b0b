// A simulator cluster registered in Keyward as an operator would: the read-only sync identity and, unless left
// out, the remediation identity, each with a TokenRequest token; then a first sync.
import { expect } from "vitest";
import type { KubeConfig } from "@kubernetes/client-node";
import { registerCluster } from "@/lib/clusters/register-cluster";
import { issueRemediationToken, issueSyncToken } from "@/lib/demo/connect-cluster";
import type { KubeSim } from "@/lib/kube-sim";
import { syncCluster } from "@/lib/sync/sync-cluster";

export async function connectSimCluster(
  sim: KubeSim,
  admin: KubeConfig,
  options: { name?: string; remediation?: boolean } = {},
): Promise<string> {
  const { id } = await registerCluster({
    name: options.name ?? "sim",
    apiServerUrl: sim.url,
    caCertPem: sim.caPem,
    sync: { type: "token", token: await issueSyncToken(admin, 3600) },
    ...(options.remediation === false ? {} : { remediation: { type: "token" as const, token: await issueRemediationToken(admin, 3600) } }),
  });
  expect(await syncCluster(id, "registration")).toMatchObject({ ok: true });
  return id;
}
