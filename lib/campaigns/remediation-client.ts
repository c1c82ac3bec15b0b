// The cluster's remediation identity (deploy/keyward-remediation.yaml): the only credential that changes a cluster.
// Kept apart from the read-only sync credential; a cluster without one can be reviewed but not remediated.
import "server-only";
import type { KubeConfig } from "@kubernetes/client-node";
import { UserFacingError } from "@/lib/auth/errors";
import { credentialContext } from "@/lib/clusters/register-cluster";
import { open } from "@/lib/crypto/secret-box";
import type { PrismaClient } from "@/lib/db";
import { kubeConfigFor } from "@/lib/k8s/client";
import { clusterSecretSchema } from "@/lib/k8s/credentials";

/** The cluster has no remediation credential: decisions stay decided until one is connected. */
export class RemediationIdentityMissingError extends UserFacingError {
  constructor(readonly clusterId: string) {
    super("Connect a remediation identity to carry decisions out", 422);
    this.name = "RemediationIdentityMissingError";
  }
}

/** A client configuration that acts as the cluster's remediation identity (decrypted here, never stored). */
export async function remediationKubeConfig(db: PrismaClient, clusterId: string): Promise<KubeConfig> {
  const cluster = await db.cluster.findUniqueOrThrow({
    where: { id: clusterId },
    select: {
      apiServerUrl: true,
      caCertPem: true,
      credentials: { where: { purpose: "remediation" }, select: { secretCiphertext: true } },
    },
  });
  const sealed = cluster.credentials[0]?.secretCiphertext;
  if (!sealed) throw new RemediationIdentityMissingError(clusterId);
  // The context binds the ciphertext to this cluster and purpose: a sync credential copied here fails to open.
  const secret = clusterSecretSchema.parse(JSON.parse(open(sealed, credentialContext(clusterId, "remediation"))));
  return kubeConfigFor({ apiServerUrl: cluster.apiServerUrl, caCertPem: cluster.caCertPem }, secret, "keyward-remediation");
}
