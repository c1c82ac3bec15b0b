// "Who can VERB RESOURCE in NAMESPACE?" answered from the synced RBAC rows, across one cluster or all of them.
import { z } from "zod";
import { serviceAccountUsername, type RuleSource } from "@/lib/rbac";
import type { PrismaClient } from "@/lib/db";
import { loadClusterPolicy } from "./cluster-policy";

export const whoCanQuerySchema = z.object({
  clusterId: z.string().min(1).optional(),
  verb: z.string().min(1),
  group: z.string().default(""),
  resource: z.string().min(1),
  subresource: z.string().optional(),
  /** Absent or "" = cluster-wide: only ClusterRoleBindings count. */
  namespace: z.string().optional(),
});
export type WhoCanQuery = z.input<typeof whoCanQuerySchema>;

export interface WhoCanSubject {
  kind: "User" | "Group" | "ServiceAccount";
  namespace: string;
  name: string;
  username: string;
  identityId?: string;
  clusterId: string;
  via: RuleSource[];
}

export async function whoCan(db: PrismaClient, query: WhoCanQuery): Promise<{ subjects: WhoCanSubject[] }> {
  const { clusterId, verb, group, resource, subresource, namespace } = whoCanQuerySchema.parse(query);
  const clusters = await db.cluster.findMany({
    where: clusterId ? { id: clusterId } : {},
    select: { id: true },
    orderBy: { name: "asc" },
  });
  const subjects: WhoCanSubject[] = [];
  for (const cluster of clusters) {
    const policy = await loadClusterPolicy(db, cluster.id);
    const grants = policy.whoCan({ verb, group, resource, subresource, namespace: namespace ?? "" });
    if (grants.length === 0) continue;
    const identities = await db.identity.findMany({
      where: { clusterId: cluster.id, deletedAt: null, username: { in: grants.map(({ subject }) => usernameOf(subject)) } },
      select: { id: true, kind: true, username: true },
    });
    // A Group subject maps to a Group identity; a User or SA subject to the non-group identity of that username.
    const identityByKey = new Map(identities.map((identity) => [`${identity.kind === "Group"}\u0000${identity.username}`, identity]));
    for (const { subject, via } of grants) {
      const username = usernameOf(subject);
      const identity = identityByKey.get(`${subject.kind === "Group"}\u0000${username}`);
      subjects.push({
        kind: subject.kind,
        namespace: subject.namespace ?? "",
        name: subject.name,
        username,
        ...(identity ? { identityId: identity.id } : {}),
        clusterId: cluster.id,
        via,
      });
    }
  }
  return { subjects };
}

function usernameOf(subject: { kind: string; namespace?: string; name: string }): string {
  return subject.kind === "ServiceAccount" ? serviceAccountUsername(subject.namespace ?? "", subject.name) : subject.name;
}
