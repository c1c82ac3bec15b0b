// Who a notification goes to: people, never identities. A reviewer team's members; for escalations and the
// security team's own messages, every security and admin user. Disabled users get nothing.
import type { PrismaClient } from "@/lib/db";

/** The email addresses of a team's active members, sorted (so dedupe keys and tests are stable). */
export async function teamRecipients(db: PrismaClient, teamId: string): Promise<string[]> {
  const members = await db.teamMember.findMany({
    where: { teamId, user: { disabled: false } },
    select: { user: { select: { email: true } } },
  });
  return members.map((member) => member.user.email).sort();
}

/** The security team: active users with the security or admin role. */
export async function securityRecipients(db: PrismaClient): Promise<string[]> {
  const users = await db.user.findMany({
    where: { role: { in: ["security", "admin"] }, disabled: false },
    select: { email: true },
    orderBy: { email: "asc" },
  });
  return users.map((user) => user.email);
}
