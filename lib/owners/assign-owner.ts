// Manual owner assignment from the UI or the API. A manual owner wins over annotations and namespace rules;
// clearing it (teamId null) hands the identity back to automatic resolution right away.
import { UserFacingError } from "@/lib/auth/errors";
import type { OwnerSource, PrismaClient } from "@/lib/db";
import { refreshNoOwnerFinding } from "@/lib/findings/no-owner";
import { analysisSettings } from "@/lib/findings/settings";
import { ownerResolutionContext, resolveOwner } from "./resolve-owners";

export interface AssignOwnerInput {
  identityId: string;
  teamId: string | null;
  /** The user making the change; the calling action's audit entry records it. */
  assignedBy: string;
}

export async function assignOwner(
  db: PrismaClient,
  input: AssignOwnerInput,
  now: Date = new Date(),
): Promise<{ ownerTeamId: string | null; ownerSource: OwnerSource | null }> {
  const identity = await db.identity.findUnique({
    where: { id: input.identityId },
    select: {
      id: true,
      clusterId: true,
      kind: true,
      namespace: true,
      name: true,
      labels: true,
      annotations: true,
      deletedAt: true,
      cluster: { select: { settings: true } },
    },
  });
  if (!identity) throw new UserFacingError("This identity does not exist.", 404);
  let owner: { teamId: string | null; source: OwnerSource | null };
  if (input.teamId) {
    const team = await db.team.findUnique({ where: { id: input.teamId }, select: { id: true } });
    if (!team) throw new UserFacingError("This team does not exist.", 404);
    owner = { teamId: team.id, source: "manual" };
  } else {
    const automatic = { ...identity, ownerTeamId: null, ownerSource: null };
    const { ownerAnnotationKey } = analysisSettings(identity.cluster.settings);
    const context = await ownerResolutionContext(db, identity.clusterId, ownerAnnotationKey, [automatic]);
    owner = resolveOwner(automatic, context);
  }
  await db.identity.update({
    where: { id: identity.id },
    data: { ownerTeamId: owner.teamId, ownerSource: owner.source },
  });
  await refreshNoOwnerFinding(db, identity, owner.teamId, now);
  return { ownerTeamId: owner.teamId, ownerSource: owner.source };
}
