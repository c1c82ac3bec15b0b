import { z } from "zod";
import { whoCan } from "@/lib/permissions/who-can";
import { ApiError } from "./errors";
import { endpoint } from "./route";

export const whoCanQuery = z.object({
  verb: z.string().trim().min(1).max(100),
  group: z.string().trim().max(253).default("").describe('API group; "" (the default) is the core group'),
  resource: z.string().trim().min(1).max(253),
  subresource: z.string().trim().min(1).max(253).optional(),
  namespace: z.string().trim().min(1).max(253).optional().describe("absent = cluster-wide (only ClusterRoleBindings count)"),
  cluster: z.string().trim().min(1).max(253).optional().describe("cluster id or name; absent = every cluster"),
});

export const whoCanEndpoint = endpoint({
  name: "rbac.who_can",
  // Who-can reveals every cluster's RBAC, not one team's share: the security team's and auditors' question.
  permission: "clusters:read",
  query: whoCanQuery,
  async handler({ query, db }) {
    const { cluster, ...attributes } = query;
    let clusterId: string | undefined;
    if (cluster) {
      const found = await db.cluster.findFirst({ where: { OR: [{ id: cluster }, { name: cluster }] }, select: { id: true } });
      if (!found) throw new ApiError("not_found", `No cluster "${cluster}".`);
      clusterId = found.id;
    }
    const { subjects } = await whoCan(db, { ...attributes, clusterId });
    const clusterNames = new Map(
      (await db.cluster.findMany({ where: { id: { in: [...new Set(subjects.map((s) => s.clusterId))] } }, select: { id: true, name: true } })).map(
        (c) => [c.id, c.name],
      ),
    );
    return {
      subjects: subjects.map((subject) => ({
        kind: subject.kind,
        namespace: subject.namespace,
        name: subject.name,
        username: subject.username,
        identityId: subject.identityId ?? null,
        cluster: clusterNames.get(subject.clusterId) ?? null,
        clusterId: subject.clusterId,
        via: subject.via.map(({ binding, role }) => ({ binding, role })),
      })),
    };
  },
});
