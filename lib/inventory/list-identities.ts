import { getPrisma } from "@/lib/db";
import { identityFilterWhere, identityOrderBy, type IdentityFilter } from "./filters";
import { identityScopeWhere, type Viewer } from "./scope";

export { identityFilterSchema, type IdentityFilter } from "./filters";

/** Offset pages for the dashboard (with a total), or a keyset cursor for the API (no count). */
export type IdentityPageRequest = { page: number; pageSize: number } | { cursor?: string; limit: number };

/** Only the columns the inventory shows. */
const identityListSelect = {
  id: true,
  kind: true,
  namespace: true,
  name: true,
  username: true,
  maxSeverity: true,
  openFindingCount: true,
  hasLegacyToken: true,
  oldestCredentialAt: true,
  lastSeenAt: true,
  lastUsedAt: true,
  deletedAt: true,
  ownerSource: true,
  ownerTeam: { select: { id: true, name: true, slug: true } },
  cluster: { select: { id: true, name: true } },
} as const;

const encodeCursor = (id: string) => Buffer.from(id, "utf8").toString("base64url");
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, "base64url").toString("utf8");
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new RangeError("invalid cursor");
  return id;
}

/**
 * One page of the identities `user` may see, filtered, sorted and paged in the database. The cursor is the
 * last row's id: Prisma turns it into a keyset condition on the sort columns (with id as the tie-breaker).
 */
export async function listIdentities(user: Viewer, filter: IdentityFilter, page: IdentityPageRequest, now = new Date()) {
  const db = getPrisma();
  const where = { AND: [identityScopeWhere(user), identityFilterWhere(filter, now)] };
  const orderBy = identityOrderBy(filter);
  if ("page" in page) {
    const [total, items] = await Promise.all([
      db.identity.count({ where }),
      db.identity.findMany({ where, orderBy, skip: (page.page - 1) * page.pageSize, take: page.pageSize, select: identityListSelect }),
    ]);
    return { items, total };
  }
  const rows = await db.identity.findMany({
    where,
    orderBy,
    take: page.limit + 1,
    ...(page.cursor ? { cursor: { id: decodeCursor(page.cursor) }, skip: 1 } : {}),
    select: identityListSelect,
  });
  const items = rows.slice(0, page.limit);
  const nextCursor = rows.length > page.limit ? encodeCursor(items.at(-1)!.id) : undefined;
  return { items, nextCursor };
}

export type IdentityListItem = Awaited<ReturnType<typeof listIdentities>>["items"][number];
