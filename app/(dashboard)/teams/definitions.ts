import { z } from "zod";
import type { ActionDefinition } from "@/lib/auth/action";
import { UserFacingError } from "@/lib/auth/errors";
import { getPrisma, Prisma, type PrismaClient } from "@/lib/db";
import { analyzeCluster } from "@/lib/findings/analyze-cluster";
import {
  createOwnershipRule,
  createOwnershipRuleSchema,
  deleteOwnershipRule,
} from "@/lib/owners/ownership-rules";
import { createTeam, createTeamSchema } from "@/lib/owners/teams";

// The teams page's actions, apart from actions.ts ("use server" files may export only functions) so they can be tested.

export const createTeamAction: ActionDefinition<
  typeof createTeamSchema,
  { id: string; name: string; slug: string }
> = {
  name: "team.create",
  permission: "inventory:manage",
  input: createTeamSchema,
  target: (input) => ({ type: "team", id: input.slug ?? input.name }),
  async handler(input) {
    try {
      const team = await createTeam(getPrisma(), input);
      return { id: team.id, name: team.name, slug: team.slug };
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002") {
        throw new UserFacingError(
          `A team named "${input.name}" (or with the same slug) already exists.`,
          409,
        );
      }
      if (err instanceof Error && /empty slug/.test(err.message))
        throw new UserFacingError("Give the team a name with letters or digits.", 422);
      throw err;
    }
  },
};

/**
 * Owners are resolved during analysis, so a changed rule is applied by analysing the clusters it covers now
 * rather than at their next sync: the page shows the new owners at once.
 */
async function reanalyze(db: PrismaClient, clusterId: string | null): Promise<number> {
  const clusters = await db.cluster.findMany({
    where: clusterId ? { id: clusterId } : {},
    select: { id: true },
  });
  for (const cluster of clusters) await analyzeCluster(db, cluster.id);
  return clusters.length;
}

export const createRuleAction: ActionDefinition<
  typeof createOwnershipRuleSchema,
  { id: string; reanalyzedClusters: number }
> = {
  name: "ownershipRule.create",
  permission: "inventory:manage",
  input: createOwnershipRuleSchema,
  target: (input) => ({ type: "ownershipRule", id: `${input.clusterId ?? "*"}:${input.namespacePattern}` }),
  async handler(input) {
    const db = getPrisma();
    const [team, cluster] = await Promise.all([
      db.team.findUnique({ where: { id: input.teamId }, select: { id: true } }),
      input.clusterId
        ? db.cluster.findUnique({ where: { id: input.clusterId }, select: { id: true } })
        : null,
    ]);
    if (!team) throw new UserFacingError("This team does not exist.", 404);
    if (input.clusterId && !cluster) throw new UserFacingError("This cluster does not exist.", 404);
    const rule = await createOwnershipRule(db, input);
    return { id: rule.id, reanalyzedClusters: await reanalyze(db, rule.clusterId) };
  },
};

const deleteRuleInput = z.object({ id: z.string().min(1).max(64) });

export const deleteRuleAction: ActionDefinition<
  typeof deleteRuleInput,
  { id: string; reanalyzedClusters: number }
> = {
  name: "ownershipRule.delete",
  permission: "inventory:manage",
  input: deleteRuleInput,
  target: (input) => ({ type: "ownershipRule", id: input.id }),
  async handler({ id }) {
    const db = getPrisma();
    const rule = await db.ownershipRule.findUnique({ where: { id }, select: { id: true, clusterId: true } });
    if (!rule) throw new UserFacingError("This rule does not exist (any more).", 404);
    await deleteOwnershipRule(db, id);
    return { id, reanalyzedClusters: await reanalyze(db, rule.clusterId) };
  },
};
