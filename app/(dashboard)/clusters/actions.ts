"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { authorizedAction } from "@/lib/auth/server-action";
import { UserFacingError } from "@/lib/auth/errors";
import { getPrisma } from "@/lib/db";
import { syncCluster } from "@/lib/sync/sync-cluster";
import { registerCluster, registerClusterInput } from "@/lib/clusters/register-cluster";
import { testClusterConnection } from "@/lib/clusters/test-connection";
import { clusterInputFromKubeconfig, KubeconfigError, parseKubeconfig } from "@/lib/k8s/kubeconfig";
import { clusterSecretSchema, type ClusterSecret } from "@/lib/k8s/credentials";

const clusterId = z.object({ clusterId: z.string().min(1).max(64) });

async function requireCluster(id: string): Promise<void> {
  const exists = await getPrisma().cluster.findUnique({ where: { id }, select: { id: true } });
  if (!exists) throw new UserFacingError("This cluster does not exist.", 404);
}

const syncNow = authorizedAction({
  name: "cluster.sync",
  permission: "clusters:sync",
  input: clusterId,
  target: (input) => ({ type: "cluster", id: input.clusterId }),
  async handler({ clusterId }) {
    await requireCluster(clusterId);
    const outcome = await syncCluster(clusterId, "manual");
    revalidatePath("/clusters");
    revalidatePath(`/clusters/${clusterId}`);
    revalidatePath("/");
    if (!outcome.ok) throw new UserFacingError(`Sync failed: ${outcome.error}`, 502);
    return { counts: outcome.counts, durationMs: outcome.durationMs };
  },
});

export async function syncClusterNow(input: z.input<typeof clusterId>) {
  return syncNow(input);
}

const testConnection = authorizedAction({
  name: "cluster.test_connection",
  permission: "clusters:manage",
  input: clusterId,
  target: (input) => ({ type: "cluster", id: input.clusterId }),
  async handler({ clusterId }) {
    const result = await testClusterConnection(clusterId);
    if (!result) throw new UserFacingError("This cluster does not exist.", 404);
    return result;
  },
});

export async function testClusterConnectionNow(input: z.input<typeof clusterId>) {
  return testConnection(input);
}

const kubeconfigText = z.string().min(1, "Choose a kubeconfig file.").max(256_000);

const inspect = authorizedAction({
  name: "cluster.inspect_kubeconfig",
  permission: "clusters:manage",
  input: z.object({ kubeconfig: kubeconfigText }),
  async handler({ kubeconfig }) {
    try {
      const parsed = parseKubeconfig(kubeconfig);
      // Names and servers only: the credentials stay on the server.
      return { users: parsed.users, clusters: parsed.clusters, currentUser: parsed.contexts.find((c) => c.name === parsed.currentContext)?.user ?? null };
    } catch (error) {
      if (error instanceof KubeconfigError) throw new UserFacingError(error.message, 422);
      throw error;
    }
  },
});

/** Lists a kubeconfig's users (and how each authenticates) so the form can offer them. */
export async function inspectKubeconfig(input: { kubeconfig: string }) {
  return inspect(input);
}

/** A credential typed in the form, or taken from an uploaded kubeconfig's user. */
const credentialInput = z.discriminatedUnion("source", [
  z.object({ source: z.literal("token"), token: z.string().trim().min(1, "Paste the token.").max(16_384) }),
  z.object({
    source: z.literal("clientCertificate"),
    certificatePem: z.string().includes("BEGIN CERTIFICATE", "Paste a PEM certificate."),
    privateKeyPem: z.string().includes("PRIVATE KEY", "Paste a PEM private key."),
  }),
  z.object({ source: z.literal("kubeconfig"), kubeconfig: kubeconfigText, user: z.string().min(1, "Pick a user.").max(253) }),
]);
type CredentialInput = z.infer<typeof credentialInput>;

const registerInput = z.object({
  name: registerClusterInput.shape.name,
  apiServerUrl: z.string().trim().max(2048).optional(),
  caCertPem: z.string().trim().max(64_000).optional(),
  sync: credentialInput,
  remediation: credentialInput.optional(),
});

function fromKubeconfig(credential: CredentialInput): { secret: ClusterSecret; apiServerUrl?: string; caCertPem?: string | null } {
  if (credential.source === "token") return { secret: { type: "token", token: credential.token } };
  if (credential.source === "clientCertificate") {
    return { secret: clusterSecretSchema.parse({ type: "clientCertificate", certificatePem: credential.certificatePem, privateKeyPem: credential.privateKeyPem }) };
  }
  try {
    const input = clusterInputFromKubeconfig(credential.kubeconfig, credential.user);
    return { secret: input.secret, apiServerUrl: input.apiServerUrl, caCertPem: input.caCertPem };
  } catch (error) {
    if (error instanceof KubeconfigError) throw new UserFacingError(error.message, 422);
    throw error;
  }
}

const register = authorizedAction({
  name: "cluster.register",
  permission: "clusters:manage",
  input: registerInput,
  target: (input) => ({ type: "cluster", id: input.name }),
  async handler(input) {
    const sync = fromKubeconfig(input.sync);
    const remediation = input.remediation ? fromKubeconfig(input.remediation) : undefined;
    // Typed fields win; a kubeconfig fills in what was left empty.
    const parsed = registerClusterInput.safeParse({
      name: input.name,
      apiServerUrl: input.apiServerUrl || sync.apiServerUrl || remediation?.apiServerUrl,
      caCertPem: input.caCertPem || sync.caCertPem || remediation?.caCertPem || null,
      sync: sync.secret,
      remediation: remediation?.secret,
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new UserFacingError(`${issue.path.join(".") === "apiServerUrl" ? "API server URL" : issue.path.join(".")}: ${issue.message}`, 422);
    }
    const existing = await getPrisma().cluster.findUnique({ where: { name: parsed.data.name }, select: { id: true } });
    if (existing) throw new UserFacingError(`A cluster named ${parsed.data.name} is already registered.`, 409);
    const cluster = await registerCluster(parsed.data);
    revalidatePath("/clusters");
    return cluster;
  },
});

export async function registerClusterFromForm(input: z.input<typeof registerInput>) {
  return register(input);
}
