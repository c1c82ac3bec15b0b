import type { V1Namespace, V1ServiceAccount } from "@kubernetes/client-node";
import { getPrisma, type SyncTrigger } from "@/lib/db";
import { open } from "@/lib/crypto/secret-box";
import { clusterSecretSchema } from "@/lib/k8s/credentials";
import { coreApi, kubeConfigFor, listAllPages } from "@/lib/k8s/client";
import { credentialContext } from "@/lib/clusters/register-cluster";
import { serviceAccountUsername } from "@/lib/rbac";

export interface ClusterSnapshot {
  namespaces: V1Namespace[];
  serviceAccounts: V1ServiceAccount[];
}

export type SyncOutcome =
  | { ok: true; syncRunId: string; counts: Record<string, number>; durationMs: number }
  | { ok: false; syncRunId: string; error: string; durationMs: number };

/** Reads what Keyward inventories from the cluster, with the cluster's read-only sync credential. */
async function fetchSnapshot(clusterId: string): Promise<ClusterSnapshot> {
  const db = getPrisma();
  const cluster = await db.cluster.findUniqueOrThrow({
    where: { id: clusterId },
    select: { apiServerUrl: true, caCertPem: true, credentials: { where: { purpose: "sync" }, select: { secretCiphertext: true } } },
  });
  const sealed = cluster.credentials[0]?.secretCiphertext;
  if (!sealed) throw new Error("the cluster has no sync credential");
  const secret = clusterSecretSchema.parse(JSON.parse(open(sealed, credentialContext(clusterId, "sync"))));
  const core = coreApi(kubeConfigFor(cluster, secret));
  const [namespaces, serviceAccounts] = await Promise.all([
    listAllPages((page) => core.listNamespace(page)),
    listAllPages((page) => core.listServiceAccountForAllNamespaces(page)),
  ]);
  return { namespaces, serviceAccounts };
}

const json = (v: Record<string, string> | undefined) => v ?? {};

/**
 * Replaces the cluster's inventory with the snapshot in one transaction, so readers see either the previous
 * snapshot or this one, never half of each. Objects absent from the snapshot are marked deleted, not removed,
 * so identities keep their history.
 */
async function applySnapshot(clusterId: string, snapshot: ClusterSnapshot, seenAt: Date): Promise<Record<string, number>> {
  const db = getPrisma();
  await db.$transaction(
    async (tx) => {
      for (const ns of snapshot.namespaces) {
        const name = ns.metadata?.name;
        if (!name) continue;
        const data = {
          uid: ns.metadata?.uid ?? null,
          labels: json(ns.metadata?.labels),
          annotations: json(ns.metadata?.annotations),
          createdInClusterAt: ns.metadata?.creationTimestamp ?? null,
          lastSeenAt: seenAt,
          deletedAt: null,
        };
        await tx.kubeNamespace.upsert({
          where: { clusterId_name: { clusterId, name } },
          create: { clusterId, name, firstSeenAt: seenAt, ...data },
          update: data,
        });
      }
      for (const sa of snapshot.serviceAccounts) {
        const name = sa.metadata?.name;
        const namespace = sa.metadata?.namespace;
        if (!name || !namespace) continue;
        const data = {
          username: serviceAccountUsername(namespace, name),
          uid: sa.metadata?.uid ?? null,
          labels: json(sa.metadata?.labels),
          annotations: json(sa.metadata?.annotations),
          automountToken: sa.automountServiceAccountToken ?? null,
          createdInClusterAt: sa.metadata?.creationTimestamp ?? null,
          lastSeenAt: seenAt,
          deletedAt: null,
        };
        await tx.identity.upsert({
          where: { clusterId_kind_namespace_name: { clusterId, kind: "ServiceAccount", namespace, name } },
          create: { clusterId, kind: "ServiceAccount", namespace, name, firstSeenAt: seenAt, ...data },
          update: data,
        });
      }
      const gone = { clusterId, lastSeenAt: { lt: seenAt }, deletedAt: null };
      await tx.kubeNamespace.updateMany({ where: gone, data: { deletedAt: seenAt } });
      await tx.identity.updateMany({ where: { ...gone, kind: "ServiceAccount" }, data: { deletedAt: seenAt } });
    },
    { timeout: 120_000 },
  );
  return { namespaces: snapshot.namespaces.length, serviceaccounts: snapshot.serviceAccounts.length };
}

function describeError(err: unknown): string {
  if (err && typeof err === "object" && "code" in err && "body" in err) {
    const body = (err as { body?: unknown }).body;
    let message = typeof body === "string" ? body : JSON.stringify(body);
    try {
      message = (JSON.parse(message) as { message?: string }).message ?? message;
    } catch {
      // not JSON: keep the raw body
    }
    return `the cluster answered HTTP ${(err as { code: unknown }).code}: ${message}`.slice(0, 2000);
  }
  return (err instanceof Error ? err.message : String(err)).slice(0, 2000);
}

/** One full sync of a cluster, recorded in its sync history whether it succeeds or fails. */
export async function syncCluster(clusterId: string, trigger: SyncTrigger): Promise<SyncOutcome> {
  const db = getPrisma();
  const startedAt = new Date();
  const run = await db.syncRun.create({ data: { clusterId, trigger, startedAt }, select: { id: true } });
  try {
    const snapshot = await fetchSnapshot(clusterId);
    const counts = await applySnapshot(clusterId, snapshot, startedAt);
    const durationMs = Date.now() - startedAt.getTime();
    await db.$transaction([
      db.syncRun.update({ where: { id: run.id }, data: { status: "succeeded", finishedAt: new Date(), durationMs, counts } }),
      db.cluster.update({ where: { id: clusterId }, data: { status: "healthy", statusMessage: null, lastSyncAt: startedAt } }),
    ]);
    return { ok: true, syncRunId: run.id, counts, durationMs };
  } catch (err) {
    const error = describeError(err);
    const durationMs = Date.now() - startedAt.getTime();
    await db.$transaction([
      db.syncRun.update({ where: { id: run.id }, data: { status: "failed", finishedAt: new Date(), durationMs, error } }),
      db.cluster.update({ where: { id: clusterId }, data: { status: "error", statusMessage: error } }),
    ]);
    return { ok: false, syncRunId: run.id, error, durationMs };
  }
}
