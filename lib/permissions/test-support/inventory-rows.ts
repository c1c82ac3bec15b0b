// Test helper: puts Kubernetes objects into the inventory tables the way a full sync stores them, so the
// permission and finding code can be tested on real-world manifests without depending on lib/sync.
import type { KubeObject } from "@/lib/kube-sim";
import type { Prisma, PrismaClient } from "@/lib/db";
import { serviceAccountUsername, type Subject } from "@/lib/rbac";

const LEGACY_TOKEN_TYPE = "kubernetes.io/service-account-token";
const SA_NAME_ANNOTATION = "kubernetes.io/service-account.name";

function createdAt(object: KubeObject): Date | null {
  const stamp = object.metadata.creationTimestamp;
  return typeof stamp === "string" ? new Date(stamp) : null;
}

function subjectsOf(object: KubeObject): Subject[] {
  return Array.isArray(object.subjects) ? (object.subjects as Subject[]) : [];
}

export async function insertCluster(db: PrismaClient, name: string, settings: Prisma.InputJsonValue = {}) {
  return db.cluster.create({ data: { name, apiServerUrl: "https://127.0.0.1:6443", settings } });
}

/**
 * Inserts namespaces, service accounts, roles, bindings, legacy token Secrets and pods as inventory rows.
 * With `subjectIdentities`, User and Group subjects of bindings become Identity rows too (as the sync records
 * RBAC subjects that have no object).
 */
export async function insertKubeObjects(
  db: PrismaClient,
  clusterId: string,
  objects: readonly KubeObject[],
  options: { subjectIdentities?: boolean } = {},
): Promise<void> {
  const of = (kind: string) => objects.filter((object) => object.kind === kind);
  const namespaceOf = (object: KubeObject) => object.metadata.namespace ?? "";
  await db.kubeNamespace.createMany({
    data: of("Namespace").map((ns) => ({ clusterId, name: ns.metadata.name, labels: ns.metadata.labels ?? {} })),
    skipDuplicates: true,
  });
  await db.identity.createMany({
    data: of("ServiceAccount").map((sa) => ({
      clusterId,
      kind: "ServiceAccount" as const,
      namespace: namespaceOf(sa),
      name: sa.metadata.name,
      username: serviceAccountUsername(namespaceOf(sa), sa.metadata.name),
      labels: sa.metadata.labels ?? {},
      annotations: sa.metadata.annotations ?? {},
      createdInClusterAt: createdAt(sa),
    })),
    skipDuplicates: true,
  });
  await db.rbacRole.createMany({
    data: [...of("Role"), ...of("ClusterRole")].map((role) => ({
      clusterId,
      kind: role.kind as "Role" | "ClusterRole",
      namespace: role.kind === "Role" ? namespaceOf(role) : "",
      name: role.metadata.name,
      labels: role.metadata.labels ?? {},
      rules: (role.rules ?? []) as Prisma.InputJsonValue,
      aggregationRule: (role.aggregationRule ?? undefined) as Prisma.InputJsonValue | undefined,
    })),
    skipDuplicates: true,
  });
  const bindings = [...of("RoleBinding"), ...of("ClusterRoleBinding")];
  await db.rbacBinding.createMany({
    data: bindings.map((binding) => {
      const roleRef = binding.roleRef as { kind: "Role" | "ClusterRole"; name: string };
      return {
        clusterId,
        kind: binding.kind as "RoleBinding" | "ClusterRoleBinding",
        namespace: binding.kind === "RoleBinding" ? namespaceOf(binding) : "",
        name: binding.metadata.name,
        labels: binding.metadata.labels ?? {},
        roleRefKind: roleRef.kind,
        roleRefName: roleRef.name,
        subjects: subjectsOf(binding) as unknown as Prisma.InputJsonValue,
      };
    }),
    skipDuplicates: true,
  });
  if (options.subjectIdentities) {
    const subjects = bindings.flatMap(subjectsOf).filter((subject) => subject.kind !== "ServiceAccount");
    await db.identity.createMany({
      data: subjects.map((subject) => ({
        clusterId,
        kind: subject.kind as "User" | "Group",
        name: subject.name,
        username: subject.name,
      })),
      skipDuplicates: true,
    });
  }
  const identities = await db.identity.findMany({
    where: { clusterId, kind: "ServiceAccount" },
    select: { id: true, namespace: true, name: true },
  });
  const identityIds = new Map(identities.map((identity) => [`${identity.namespace}/${identity.name}`, identity.id]));
  const identityIdOf = (namespace: string, name: string) => identityIds.get(`${namespace}/${name}`) ?? null;
  await db.credential.createMany({
    data: of("Secret")
      .filter((secret) => secret.type === LEGACY_TOKEN_TYPE)
      .map((secret) => ({
        clusterId,
        kind: "legacyTokenSecret" as const,
        namespace: namespaceOf(secret),
        name: secret.metadata.name,
        identityId: identityIdOf(namespaceOf(secret), secret.metadata.annotations?.[SA_NAME_ANNOTATION] ?? ""),
        issuedAt: createdAt(secret),
        details: { type: LEGACY_TOKEN_TYPE },
      })),
    skipDuplicates: true,
  });
  await db.workload.createMany({
    data: of("Pod").map((pod) => {
      const spec = (pod.spec ?? {}) as { serviceAccountName?: string };
      const serviceAccountName = spec.serviceAccountName ?? "default";
      const owner = pod.metadata.ownerReferences?.[0] as { kind?: string; name?: string } | undefined;
      return {
        clusterId,
        kind: "Pod",
        namespace: namespaceOf(pod),
        name: pod.metadata.name,
        serviceAccountName,
        identityId: identityIdOf(namespaceOf(pod), serviceAccountName),
        ownerKind: owner?.kind ?? null,
        ownerName: owner?.name ?? null,
      };
    }),
    skipDuplicates: true,
  });
}
