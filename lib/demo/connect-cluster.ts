import path from "node:path";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { applyManifestFile } from "@/lib/k8s/apply-manifests";

export const SYNC_MANIFEST = path.resolve(import.meta.dirname, "../../deploy/keyward-sync.yaml");

/**
 * What an operator does to connect a cluster: apply Keyward's read-only identity from deploy/ with an admin
 * kubeconfig, then request a short-lived token for it (TokenRequest), never a long-lived Secret.
 */
export async function issueSyncToken(adminKc: KubeConfig, ttlSeconds = 24 * 3600): Promise<string> {
  await applyManifestFile(adminKc, SYNC_MANIFEST);
  const core = adminKc.makeApiClient(CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({
    name: "keyward-sync",
    namespace: "keyward-system",
    body: { spec: { expirationSeconds: ttlSeconds, audiences: [] } },
  });
  const token = request.status?.token;
  if (!token) throw new Error("the cluster returned no token for keyward-sync");
  return token;
}
