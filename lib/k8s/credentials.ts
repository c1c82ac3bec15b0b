import { z } from "zod";

/** How Keyward authenticates to a cluster. Stored sealed (lib/crypto/secret-box); never sent to the browser. */
export const clusterSecretSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("token"), token: z.string().min(1).max(16_384) }),
  z.object({
    type: z.literal("clientCertificate"),
    certificatePem: z.string().includes("BEGIN CERTIFICATE"),
    privateKeyPem: z.string().includes("PRIVATE KEY"),
  }),
]);
export type ClusterSecret = z.infer<typeof clusterSecretSchema>;

export interface ClusterEndpoint {
  apiServerUrl: string;
  caCertPem: string | null;
}
