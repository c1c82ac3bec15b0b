import { z } from "zod";
import type { Prisma } from "@/lib/db";

export const identityKinds = ["ServiceAccount", "CertificateUser", "User", "Group"] as const;
/** Lowest first: the order of the Postgres enum, so "at least high" is a set of values. */
export const severities = ["info", "low", "medium", "high", "critical"] as const;
export type SeverityName = (typeof severities)[number];
export const identitySortKeys = ["severity", "findings", "name", "namespace", "kind", "cluster", "credentialAge", "lastSeen", "lastUsed"] as const;

/** A query-string value: absent, or an empty form field, means "no filter". */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === "" || v === null ? undefined : v), schema.optional());
const flag = z.preprocess((v) => (v === "true" || v === "1" ? true : v === "false" || v === "0" ? false : v), z.boolean());

/**
 * The inventory's filters, shared by the dashboard (URL search params) and the API (query string).
 * Invalid values are errors, not silently dropped: a filter that was ignored would show the wrong identities.
 */
export const identityFilterSchema = z.object({
  /** Cluster id or name. */
  cluster: optional(z.string().trim().min(1).max(253)),
  namespace: optional(z.string().trim().max(253)),
  kind: optional(z.enum(identityKinds)),
  /** Team id or slug, or "unowned". */
  owner: optional(z.string().trim().min(1).max(200)),
  /** Minimum severity of the identity's open, unaccepted findings. */
  severity: optional(z.enum(severities)),
  /** Only identities whose oldest credential was issued more than this many days ago. */
  credentialAgeDays: optional(z.coerce.number().int().min(0).max(36_500)),
  hasLegacyToken: optional(flag),
  /**
   * Only identities not used for this many days: last used before then, or never used in a cluster whose audit
   * events Keyward has received for at least that long (as the "unused" finding decides).
   */
  unusedDays: optional(z.coerce.number().int().min(1).max(3650)),
  /** Only identities with an open, unaccepted finding of this rule id. */
  findingType: optional(z.string().trim().min(1).max(100)),
  /** Free text over name, namespace and username. */
  q: optional(z.string().trim().min(1).max(200)),
  /** Also list identities deleted from their cluster (kept for their history). */
  includeDeleted: optional(flag),
  sort: optional(z.enum(identitySortKeys)),
  dir: optional(z.enum(["asc", "desc"])),
});
export type IdentityFilter = z.infer<typeof identityFilterSchema>;

const DAY_MS = 86_400_000;

/** The filter as a Prisma where-clause (without the role scope, which the caller ANDs in). */
export function identityFilterWhere(filter: IdentityFilter, now = new Date()): Prisma.IdentityWhereInput {
  const and: Prisma.IdentityWhereInput[] = [];
  if (!filter.includeDeleted) and.push({ deletedAt: null });
  if (filter.cluster) and.push({ OR: [{ clusterId: filter.cluster }, { cluster: { is: { name: filter.cluster } } }] });
  if (filter.namespace !== undefined) and.push({ namespace: filter.namespace });
  if (filter.kind) and.push({ kind: filter.kind });
  if (filter.owner === "unowned") and.push({ ownerTeamId: null });
  else if (filter.owner) and.push({ OR: [{ ownerTeamId: filter.owner }, { ownerTeam: { is: { slug: filter.owner } } }] });
  if (filter.severity) and.push({ maxSeverity: { in: [...severities.slice(severities.indexOf(filter.severity))] } });
  if (filter.credentialAgeDays !== undefined) and.push({ oldestCredentialAt: { lt: new Date(now.getTime() - filter.credentialAgeDays * DAY_MS) } });
  if (filter.hasLegacyToken !== undefined) and.push({ hasLegacyToken: filter.hasLegacyToken });
  if (filter.unusedDays !== undefined) {
    const before = new Date(now.getTime() - filter.unusedDays * DAY_MS);
    and.push({ OR: [{ lastUsedAt: { lt: before } }, { lastUsedAt: null, cluster: { is: { usageObservedSince: { lte: before } } } }] });
  }
  if (filter.findingType) {
    and.push({
      findings: {
        some: { type: filter.findingType, resolvedAt: null, OR: [{ acceptedUntil: null }, { acceptedUntil: { lte: now } }] },
      },
    });
  }
  if (filter.q) {
    const contains = { contains: filter.q, mode: "insensitive" as const };
    and.push({ OR: [{ name: contains }, { namespace: contains }, { username: contains }] });
  }
  return { AND: and };
}

/** Sort order with a unique tie-breaker, so offset pages and keyset cursors are stable. */
export function identityOrderBy(filter: IdentityFilter): Prisma.IdentityOrderByWithRelationInput[] {
  const sort = filter.sort ?? "severity";
  // Riskiest, most-findings and oldest-credential first by default; names A→Z.
  const dir = filter.dir ?? (sort === "severity" || sort === "findings" ? "desc" : "asc");
  const tail: Prisma.IdentityOrderByWithRelationInput[] = [{ namespace: "asc" }, { name: "asc" }, { id: "asc" }];
  switch (sort) {
    case "severity":
      return [{ maxSeverity: { sort: dir, nulls: "last" } }, { openFindingCount: "desc" }, ...tail];
    case "findings":
      return [{ openFindingCount: dir }, ...tail];
    case "name":
      return [{ name: dir }, { namespace: "asc" }, { id: "asc" }];
    case "namespace":
      return [{ namespace: dir }, { name: "asc" }, { id: "asc" }];
    case "kind":
      return [{ kind: dir }, ...tail];
    case "cluster":
      return [{ cluster: { name: dir } }, ...tail];
    case "credentialAge":
      // Ascending age = newest credential first, so the timestamp sorts the other way.
      return [{ oldestCredentialAt: { sort: dir === "asc" ? "desc" : "asc", nulls: "last" } }, ...tail];
    case "lastSeen":
      return [{ lastSeenAt: dir }, ...tail];
    case "lastUsed":
      // Never used sorts as the oldest use.
      return [{ lastUsedAt: { sort: dir, nulls: dir === "asc" ? "first" : "last" } }, ...tail];
  }
}
