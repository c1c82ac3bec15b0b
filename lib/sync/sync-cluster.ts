import { getPrisma, type SyncTrigger } from "@/lib/db";
import { analyzeCluster } from "@/lib/findings/analyze-cluster";
import {
  certificateUsers,
  mapBinding,
  mapCertificateSigningRequest,
  mapNamespace,
  mapPod,
  mapRole,
  mapServiceAccount,
  mapTokenSecret,
  TOKEN_SECRET_TYPE,
  type BindingRow,
  type CredentialRow,
  type IdentityRow,
  type IssuedCertificate,
  type NamespaceRow,
  type RoleRow,
  type WorkloadRow,
} from "./snapshot";
import {
  lockClusterInventory,
  markUnseenDeleted,
  refreshCredentialColumns,
  tables,
  upsertRows,
  upsertSubjectIdentities,
} from "./snapshot-writer";
import { KubeApiError, syncReaderFor, type KubeReader, type RetryPolicy } from "./kube-reader";

export type SyncOutcome =
  | { ok: true; syncRunId: string; counts: Record<string, number>; durationMs: number }
  | { ok: false; syncRunId: string; error: string; durationMs: number };

/** The API collections a full sync lists (and the watcher watches), in their list-response form. */
export const syncedCollections = {
  namespaces: { path: "/api/v1/namespaces" },
  serviceaccounts: { path: "/api/v1/serviceaccounts" },
  // Only token Secrets, and only their metadata where the server can (PartialObjectMetadata).
  secrets: { path: "/api/v1/secrets", fieldSelector: `type=${TOKEN_SECRET_TYPE}`, metadataOnly: true },
  pods: { path: "/api/v1/pods" },
  roles: { path: "/apis/rbac.authorization.k8s.io/v1/roles" },
  clusterroles: { path: "/apis/rbac.authorization.k8s.io/v1/clusterroles" },
  rolebindings: { path: "/apis/rbac.authorization.k8s.io/v1/rolebindings" },
  clusterrolebindings: { path: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings" },
  certificatesigningrequests: { path: "/apis/certificates.k8s.io/v1/certificatesigningrequests" },
} as const;

export type CollectionName = keyof typeof syncedCollections;
export type SyncedCollection = { path: string; fieldSelector?: string; metadataOnly?: boolean };

export interface ClusterSnapshot {
  namespaces: NamespaceRow[];
  serviceAccounts: IdentityRow[];
  tokenSecrets: CredentialRow[];
  pods: WorkloadRow[];
  roles: RoleRow[];
  clusterRoles: RoleRow[];
  roleBindings: BindingRow[];
  clusterRoleBindings: BindingRow[];
  certificates: IssuedCertificate[];
  csrCount: number;
  /** Per collection, the resourceVersion of its list: where a watch picks up. */
  resourceVersions: Record<CollectionName, string>;
}

/** Lists every collection (all at once; each paged and retried) with the cluster's read-only credential. */
export async function fetchSnapshot(reader: KubeReader): Promise<ClusterSnapshot> {
  const list = <T>(name: CollectionName, map: (raw: unknown) => T | undefined) => {
    const collection: SyncedCollection = syncedCollections[name];
    return reader.listAll(collection.path, map, {
      fieldSelector: collection.fieldSelector,
      metadataOnly: collection.metadataOnly,
    });
  };
  let csrCount = 0;
  const [
    namespaces,
    serviceAccounts,
    tokenSecrets,
    pods,
    roles,
    clusterRoles,
    roleBindings,
    clusterRoleBindings,
    certificates,
  ] = await Promise.all([
    list("namespaces", mapNamespace),
    list("serviceaccounts", mapServiceAccount),
    list("secrets", mapTokenSecret),
    list("pods", mapPod),
    list("roles", mapRole("Role")),
    list("clusterroles", mapRole("ClusterRole")),
    list("rolebindings", mapBinding("RoleBinding")),
    list("clusterrolebindings", mapBinding("ClusterRoleBinding")),
    list("certificatesigningrequests", (raw) => {
      csrCount++;
      return mapCertificateSigningRequest(raw);
    }),
  ]);
  return {
    namespaces: namespaces.items,
    serviceAccounts: serviceAccounts.items,
    tokenSecrets: tokenSecrets.items,
    pods: pods.items,
    roles: roles.items,
    clusterRoles: clusterRoles.items,
    roleBindings: roleBindings.items,
    clusterRoleBindings: clusterRoleBindings.items,
    certificates: certificates.items,
    csrCount,
    resourceVersions: {
      namespaces: namespaces.resourceVersion,
      serviceaccounts: serviceAccounts.resourceVersion,
      secrets: tokenSecrets.resourceVersion,
      pods: pods.resourceVersion,
      roles: roles.resourceVersion,
      clusterroles: clusterRoles.resourceVersion,
      rolebindings: roleBindings.resourceVersion,
      clusterrolebindings: clusterRoleBindings.resourceVersion,
      certificatesigningrequests: certificates.resourceVersion,
    },
  };
}

/**
 * Replaces the cluster's inventory with the snapshot in one transaction, so readers see either the previous
 * snapshot or this one, never half of each. Objects absent from the snapshot are marked deleted, not removed,
 * so identities keep their history.
 */
async function applySnapshot(
  clusterId: string,
  snapshot: ClusterSnapshot,
  seenAt: Date,
): Promise<Record<string, number>> {
  const identities: IdentityRow[] = [...snapshot.serviceAccounts, ...certificateUsers(snapshot.certificates)];
  let subjects = 0;
  await getPrisma().$transaction(
    async (tx) => {
      await lockClusterInventory(tx, clusterId);
      await upsertRows(tx, tables.namespaces, clusterId, snapshot.namespaces, seenAt);
      await upsertRows(tx, tables.identities, clusterId, identities, seenAt);
      await upsertRows(
        tx,
        tables.credentials,
        clusterId,
        [...snapshot.tokenSecrets, ...snapshot.certificates.map((c) => c.credential)],
        seenAt,
      );
      await upsertRows(tx, tables.workloads, clusterId, snapshot.pods, seenAt);
      await upsertRows(tx, tables.roles, clusterId, [...snapshot.roles, ...snapshot.clusterRoles], seenAt);
      await upsertRows(
        tx,
        tables.bindings,
        clusterId,
        [...snapshot.roleBindings, ...snapshot.clusterRoleBindings],
        seenAt,
      );
      for (const spec of Object.values(tables)) await markUnseenDeleted(tx, spec, clusterId, seenAt);
      // After the deletions, so that only live bindings' subjects and live usernames count.
      subjects = await upsertSubjectIdentities(tx, clusterId, seenAt);
      await refreshCredentialColumns(tx, clusterId);
    },
    { timeout: 15 * 60_000, maxWait: 60_000 },
  );
  return {
    namespaces: snapshot.namespaces.length,
    serviceaccounts: snapshot.serviceAccounts.length,
    secrets: snapshot.tokenSecrets.length,
    pods: snapshot.pods.length,
    roles: snapshot.roles.length,
    clusterroles: snapshot.clusterRoles.length,
    rolebindings: snapshot.roleBindings.length,
    clusterrolebindings: snapshot.clusterRoleBindings.length,
    certificatesigningrequests: snapshot.csrCount,
    clientCertificates: snapshot.certificates.length,
    certificateUsers: identities.length - snapshot.serviceAccounts.length,
    subjectsWithoutObject: subjects,
  };
}

function describeError(err: unknown): string {
  if (err instanceof KubeApiError) return err.message.slice(0, 2000);
  return (err instanceof Error ? err.message : String(err)).slice(0, 2000);
}

/**
 * Owners, findings and identity summaries for the new snapshot. The snapshot itself is good even if this
 * fails, so a failure marks the cluster degraded instead of failing the sync.
 */
export async function analyzeAfterSync(clusterId: string): Promise<void> {
  try {
    await analyzeCluster(getPrisma(), clusterId);
  } catch (error) {
    await getPrisma().cluster.update({
      where: { id: clusterId },
      data: { status: "degraded", statusMessage: `analysis failed: ${describeError(error)}` },
    });
  }
}

export interface FullSyncResult {
  outcome: SyncOutcome;
  /** Where watches continue from, when the sync succeeded. */
  resourceVersions?: Record<CollectionName, string>;
}

/** A run still "running" this long after it started belongs to a process that died (jobs expire after 30 min). */
const ABANDONED_AFTER_MS = 60 * 60_000;

/** A full sync that also hands back the lists' resourceVersions (the watcher starts from them). */
export async function runFullSync(
  clusterId: string,
  trigger: SyncTrigger,
  options: { retry?: RetryPolicy } = {},
): Promise<FullSyncResult> {
  const db = getPrisma();
  const startedAt = new Date();
  await db.syncRun.updateMany({
    where: {
      clusterId,
      status: "running",
      startedAt: { lt: new Date(startedAt.getTime() - ABANDONED_AFTER_MS) },
    },
    data: {
      status: "failed",
      finishedAt: startedAt,
      error: "interrupted: the process running this sync stopped before it finished",
    },
  });
  const run = await db.syncRun.create({ data: { clusterId, trigger, startedAt }, select: { id: true } });
  let reader: KubeReader | undefined;
  try {
    reader = await syncReaderFor(clusterId, options.retry);
    const snapshot = await fetchSnapshot(reader);
    const counts = await applySnapshot(clusterId, snapshot, startedAt);
    const durationMs = Date.now() - startedAt.getTime();
    await db.$transaction([
      db.syncRun.update({
        where: { id: run.id },
        data: { status: "succeeded", finishedAt: new Date(), durationMs, counts },
      }),
      db.cluster.update({
        where: { id: clusterId },
        data: { status: "healthy", statusMessage: null, lastSyncAt: startedAt },
      }),
    ]);
    await analyzeAfterSync(clusterId);
    return {
      outcome: { ok: true, syncRunId: run.id, counts, durationMs },
      resourceVersions: snapshot.resourceVersions,
    };
  } catch (err) {
    const error = describeError(err);
    const durationMs = Date.now() - startedAt.getTime();
    await db.$transaction([
      db.syncRun.update({
        where: { id: run.id },
        data: { status: "failed", finishedAt: new Date(), durationMs, error },
      }),
      db.cluster.update({ where: { id: clusterId }, data: { status: "error", statusMessage: error } }),
    ]);
    return { outcome: { ok: false, syncRunId: run.id, error, durationMs } };
  } finally {
    reader?.close();
  }
}

/** One full sync of a cluster, recorded in its sync history whether it succeeds or fails. */
export async function syncCluster(clusterId: string, trigger: SyncTrigger): Promise<SyncOutcome> {
  return (await runFullSync(clusterId, trigger)).outcome;
}
