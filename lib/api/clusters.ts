import { z } from "zod";
import { registerCluster, registerClusterInput } from "@/lib/clusters/register-cluster";
import { listClustersWithHistory } from "@/lib/clusters/queries";
import { testClusterConnection } from "@/lib/clusters/test-connection";
import { clusterInputFromKubeconfig, KubeconfigError } from "@/lib/k8s/kubeconfig";
import { enqueueClusterSync } from "@/lib/jobs";
import type { PrismaClient } from "@/lib/db";
import { ApiError } from "./errors";
import { endpoint } from "./route";

export const clusterIdParams = z.object({ id: z.string().min(1).max(64) });

/** Register with the parts spelled out, or with kubeconfigs and the user (or context) to take from each. */
export const registerClusterBody = z.union([
  registerClusterInput,
  z.object({
    name: registerClusterInput.shape.name,
    kubeconfig: z.string().min(1).max(500_000).describe("a kubeconfig (YAML) holding the read-only sync identity"),
    user: z.string().min(1).optional().describe("user or context in `kubeconfig`; default its current context"),
    remediationKubeconfig: z.string().min(1).max(500_000).optional(),
    remediationUser: z.string().min(1).optional(),
  }),
]);
export type RegisterClusterBody = z.infer<typeof registerClusterBody>;

/** Turns either form into registerCluster's input; kubeconfig problems are the caller's to fix (422). */
export function registrationFromBody(body: RegisterClusterBody, options: { baseDir?: string; remediationBaseDir?: string } = {}) {
  if (!("kubeconfig" in body)) return registerClusterInput.parse(body);
  try {
    const sync = clusterInputFromKubeconfig(body.kubeconfig, body.user, { baseDir: options.baseDir });
    const remediation = body.remediationKubeconfig
      ? clusterInputFromKubeconfig(body.remediationKubeconfig, body.remediationUser, { baseDir: options.remediationBaseDir })
      : undefined;
    if (remediation && remediation.apiServerUrl !== sync.apiServerUrl) {
      throw new KubeconfigError(`The remediation kubeconfig points at ${remediation.apiServerUrl}, not ${sync.apiServerUrl}.`);
    }
    const parsed = registerClusterInput.safeParse({
      name: body.name,
      apiServerUrl: sync.apiServerUrl,
      caCertPem: sync.caCertPem,
      sync: sync.secret,
      remediation: remediation?.secret,
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new KubeconfigError(`The kubeconfig's ${issue.path.join(".")} is not usable: ${issue.message}`);
    }
    return parsed.data;
  } catch (error) {
    if (error instanceof KubeconfigError) throw new ApiError("unprocessable", error.message);
    throw error;
  }
}

async function requireCluster(db: PrismaClient, id: string) {
  const cluster = await db.cluster.findUnique({ where: { id }, select: { id: true, name: true } });
  if (!cluster) throw new ApiError("not_found", "No such cluster.");
  return cluster;
}

const credentialSummary = (credentials: { purpose: string; authType: string; updatedAt: Date }[]) =>
  credentials.map(({ purpose, authType, updatedAt }) => ({ purpose, authType, updatedAt }));

export const listClustersEndpoint = endpoint({
  name: "cluster.list",
  permission: "clusters:read",
  async handler() {
    const clusters = await listClustersWithHistory(1);
    return {
      items: clusters.map((cluster) => ({
        id: cluster.id,
        name: cluster.name,
        apiServerUrl: cluster.apiServerUrl,
        status: cluster.status,
        statusMessage: cluster.statusMessage,
        createdAt: cluster.createdAt,
        lastSyncAt: cluster.lastSyncAt,
        identityCount: cluster._count.identities,
        credentials: credentialSummary(cluster.credentials),
        lastSyncRun: cluster.syncRuns[0] ?? null,
      })),
    };
  },
});

export const registerClusterEndpoint = endpoint({
  name: "cluster.register",
  permission: "clusters:manage",
  body: registerClusterBody,
  successStatus: 201,
  target: ({ body }) => ({ type: "cluster", id: body.name }),
  async handler({ body, db }) {
    const input = registrationFromBody(body);
    // POST creates: re-registering an existing name over the API would silently replace its credentials.
    if (await db.cluster.findUnique({ where: { name: input.name }, select: { id: true } })) {
      throw new ApiError("conflict", `A cluster named "${input.name}" is already registered.`);
    }
    const cluster = await registerCluster(input);
    const credentials = await db.clusterCredential.findMany({
      where: { clusterId: cluster.id },
      orderBy: { purpose: "asc" },
      select: { purpose: true, authType: true, updatedAt: true },
    });
    return { id: cluster.id, name: cluster.name, apiServerUrl: input.apiServerUrl, credentials: credentialSummary(credentials) };
  },
});

export const testConnectionEndpoint = endpoint({
  name: "cluster.test_connection",
  permission: "clusters:manage",
  params: clusterIdParams,
  target: ({ params }) => ({ type: "cluster", id: params.id }),
  async handler({ params, db }) {
    await requireCluster(db, params.id);
    const result = await testClusterConnection(params.id);
    if (!result) throw new ApiError("not_found", "No such cluster.");
    return result;
  },
});

export const syncNowEndpoint = endpoint({
  name: "cluster.sync",
  permission: "clusters:sync",
  params: clusterIdParams,
  successStatus: 202,
  target: ({ params }) => ({ type: "cluster", id: params.id }),
  async handler({ params, db }) {
    await requireCluster(db, params.id);
    // The worker runs it (npm run worker); a sync already queued for this cluster is reused, not doubled.
    const jobId = await enqueueClusterSync(params.id, "manual");
    return { jobId, status: "queued" as const, syncRuns: `/api/v1/clusters/${params.id}/sync-runs` };
  },
});

export const syncRunsQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) });

export const syncRunsEndpoint = endpoint({
  name: "cluster.sync_runs",
  permission: "clusters:read",
  params: clusterIdParams,
  query: syncRunsQuery,
  async handler({ params, query, db }) {
    await requireCluster(db, params.id);
    const items = await db.syncRun.findMany({
      where: { clusterId: params.id },
      orderBy: { startedAt: "desc" },
      take: query.limit,
      select: { id: true, trigger: true, status: true, startedAt: true, finishedAt: true, durationMs: true, counts: true, error: true },
    });
    return { items };
  },
});
