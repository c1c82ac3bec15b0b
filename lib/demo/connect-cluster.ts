import path from "node:path";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { applyManifestFile } from "@/lib/k8s/apply-manifests";

const deployDir = path.resolve(import.meta.dirname, "../../deploy");
export const SYNC_MANIFEST = path.join(deployDir, "keyward-sync.yaml");
export const REMEDIATION_MANIFEST = path.join(deployDir, "keyward-remediation.yaml");

/**
 * What an operator does to connect a cluster: apply one of Keyward's identities from deploy/ with an admin
 * kubeconfig, then request a short-lived token for it (TokenRequest), never a long-lived Secret.
 */
async function issueIdentityToken(adminKc: KubeConfig, manifest: string, name: string, ttlSeconds: number): Promise<string> {
  await applyManifestFile(adminKc, manifest);
  const request = await adminKc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name,
    namespace: "keyward-system",
    body: { spec: { expirationSeconds: ttlSeconds, audiences: [] } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`the cluster returned no token for ${name}`);
  return token;
}

/** The read-only sync identity (deploy/keyward-sync.yaml). */
export function issueSyncToken(adminKc: KubeConfig, ttlSeconds = 24 * 3600): Promise<string> {
  return issueIdentityToken(adminKc, SYNC_MANIFEST, "keyward-sync", ttlSeconds);
}

/** The remediation identity (deploy/keyward-remediation.yaml): shorter-lived, it can change RBAC. */
export function issueRemediationToken(adminKc: KubeConfig, ttlSeconds = 3600): Promise<string> {
  return issueIdentityToken(adminKc, REMEDIATION_MANIFEST, "keyward-remediation", ttlSeconds);
}
