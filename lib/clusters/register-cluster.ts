import { z } from "zod";
import { getPrisma } from "@/lib/db";
import { seal } from "@/lib/crypto/secret-box";
import { clusterSecretSchema } from "@/lib/k8s/credentials";

export const registerClusterInput = z.object({
  name: z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "lowercase letters, digits and dashes"),
  apiServerUrl: z.url({ protocol: /^https$/ }),
  caCertPem: z.string().includes("BEGIN CERTIFICATE").nullable(),
  sync: clusterSecretSchema,
  remediation: clusterSecretSchema.optional(),
});
export type RegisterClusterInput = z.infer<typeof registerClusterInput>;

export const credentialContext = (clusterId: string, purpose: "sync" | "remediation") => `cluster:${clusterId}:${purpose}`;

/** Registers a cluster (or updates one with the same name) with its credentials sealed at rest. */
export async function registerCluster(input: RegisterClusterInput): Promise<{ id: string; name: string }> {
  const db = getPrisma();
  return db.$transaction(async (tx) => {
    const cluster = await tx.cluster.upsert({
      where: { name: input.name },
      create: { name: input.name, apiServerUrl: input.apiServerUrl, caCertPem: input.caCertPem },
      update: { apiServerUrl: input.apiServerUrl, caCertPem: input.caCertPem },
      select: { id: true, name: true },
    });
    const purposes = [["sync", input.sync] as const, ...(input.remediation ? [["remediation", input.remediation] as const] : [])];
    for (const [purpose, secret] of purposes) {
      const data = {
        authType: secret.type,
        secretCiphertext: seal(JSON.stringify(secret), credentialContext(cluster.id, purpose)),
      };
      await tx.clusterCredential.upsert({
        where: { clusterId_purpose: { clusterId: cluster.id, purpose } },
        create: { clusterId: cluster.id, purpose, ...data },
        update: data,
      });
    }
    return cluster;
  });
}
