// Who may see and decide which review items. Fail closed: a role not named here sees and decides nothing.
// Reviewers are teams (people), never the identity under review, so an identity cannot certify itself.
import type { Prisma, PrismaClient } from "@/lib/db";
import type { Actor } from "@/lib/audit/log";
import { can } from "@/lib/auth/permissions";
import type { SessionUser } from "@/lib/auth/users";
import type { NotificationConfig } from "@/lib/notifications/config";
import { CampaignAccessError } from "./errors";

/** Who is acting: the audit actor and the user whose role and teams decide (an API token acts as its role). */
export interface CampaignActor {
  actor: Actor;
  user: Pick<SessionUser, "id" | "role">;
}

/** When it happens (tests pin it) and where notifications go (default: the environment's channels). */
export interface CampaignClock {
  now?: Date;
  notifications?: NotificationConfig;
}

/** Keyward itself (schedules, the deadline): acts with the security team's rights, recorded as the system. */
export const systemCampaignActor = (label: string): CampaignActor => ({
  actor: { type: "system", id: null, label },
  user: { id: "system", role: "security" },
});

/** Create, launch, close, cancel, reassign: security and admin only. */
export function mayManageCampaigns(user: CampaignActor["user"]): boolean {
  return can(user.role, "campaigns:manage");
}

export function assertMayManageCampaigns(user: CampaignActor["user"]): void {
  if (!mayManageCampaigns(user)) throw new CampaignAccessError("Only the security team manages campaigns.");
}

/** The items `user` may see, as a where-clause to AND into every item query. */
export function reviewItemScopeWhere(user: CampaignActor["user"]): Prisma.ReviewItemWhereInput {
  if (!can(user.role, "campaigns:read")) return { id: { in: [] } };
  // An owner sees its teams' items; the security team and auditors see every item.
  if (user.role === "owner") return { reviewerTeam: { is: { members: { some: { userId: user.id } } } } };
  return {};
}

/**
 * Throws unless `user` may decide an item assigned to `reviewerTeamId`: security and admin any item, an owner
 * only one assigned to a team they belong to (an unassigned item is the security team's), an auditor none.
 */
export async function assertMayDecide(
  db: PrismaClient,
  user: CampaignActor["user"],
  reviewerTeamId: string | null,
): Promise<void> {
  if (!can(user.role, "campaigns:decide")) throw new CampaignAccessError();
  if (mayManageCampaigns(user)) return;
  if (user.role === "owner" && reviewerTeamId) {
    const member = await db.teamMember.findUnique({
      where: { teamId_userId: { teamId: reviewerTeamId, userId: user.id } },
      select: { teamId: true },
    });
    if (member) return;
  }
  throw new CampaignAccessError();
}
