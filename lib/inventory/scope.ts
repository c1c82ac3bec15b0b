import { Prisma } from "@/lib/db";
import type { SessionUser } from "@/lib/auth/users";

export type Viewer = Pick<SessionUser, "id" | "role">;

/** Roles that see every identity; everyone else sees only what their teams own. */
const seesEverything = new Set<string>(["admin", "security", "auditor"]);

/**
 * The identities `user` may see, as a where-clause to AND into every identity query (lists, detail,
 * aggregates). Owners see the identities owned by a team they belong to; unknown roles see nothing.
 */
export function identityScopeWhere(user: Viewer): Prisma.IdentityWhereInput {
  if (seesEverything.has(user.role)) return {};
  if (user.role === "owner") return { ownerTeam: { is: { members: { some: { userId: user.id } } } } };
  return { id: { in: [] } };
}

/** The same scope for raw SQL over "Identity" aliased `alias`: a condition, TRUE for roles that see everything. */
export function identityScopeSql(user: Viewer, alias = "i"): Prisma.Sql {
  if (seesEverything.has(user.role)) return Prisma.sql`TRUE`;
  if (user.role === "owner") {
    const ownerColumn = Prisma.raw(`"${alias}"."ownerTeamId"`);
    return Prisma.sql`${ownerColumn} IN (SELECT "teamId" FROM "TeamMember" WHERE "userId" = ${user.id})`;
  }
  return Prisma.sql`FALSE`;
}
