// The evidence a review item is judged on, frozen at launch: the identity, its grants with where they come from,
// its credentials and their ages, its usage summary and its open findings. Read in bulk per cluster.
import type { CredentialKind, IdentityKind, OwnerSource, Prisma, PrismaClient, Severity } from "@/lib/db";
import { analysisSettings } from "@/lib/findings/settings";
import { compactRule, ownGrants, usageWindowStart } from "@/lib/findings/usage-rules";
import { loadClusterPolicy } from "@/lib/permissions/cluster-policy";
import type { PolicyRule, RuleSource, Subject } from "@/lib/rbac";

const DAY_MS = 86_400_000;

export interface ReviewEvidence {
  version: 1;
  frozenAt: string;
  identity: {
    id: string;
    clusterId: string;
    clusterName: string;
    kind: IdentityKind;
    namespace: string;
    name: string;
    username: string;
    groups: string[];
    ownerTeam: { id: string; name: string } | null;
    ownerSource: OwnerSource | null;
    createdInClusterAt: string | null;
    discoveredByUsage: boolean;
  };
  /** The identity's own grants (not those every identity gets from system groups), one per rule. */
  grants: {
    rule: PolicyRule;
    text: string;
    /** null: cluster-wide. */
    namespace: string | null;
    binding: RuleSource["binding"];
    role: RuleSource["role"];
    viaSubject: Subject;
  }[];
  credentials: {
    id: string;
    kind: CredentialKind;
    namespace: string;
    name: string;
    issuedAt: string | null;
    expiresAt: string | null;
    ageDays: number | null;
    lastUsedAt: string | null;
  }[];
  usage: {
    windowDays: number;
    since: string;
    lastUsedAt: string | null;
    observedSince: string | null;
    requests: number;
    denied: number;
    activeDays: number;
    /** From the open "unused-permissions" finding; null when it has none. */
    unusedRules: number | null;
  };
  findings: { id: string; type: string; severity: Severity; title: string; csf: string[]; owasp: string[] }[];
}

interface UsageTotalsRow {
  identityId: string;
  requests: bigint;
  denied: bigint;
  activeDays: bigint;
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

function unusedRulesOf(details: Prisma.JsonValue): number | null {
  const count = details && typeof details === "object" && !Array.isArray(details) ? details.removedCount : null;
  return typeof count === "number" ? count : null;
}

/** Evidence for the identities of one cluster (ids all in that cluster), keyed by identity id. */
export async function freezeClusterEvidence(
  db: PrismaClient,
  clusterId: string,
  identityIds: readonly string[],
  now: Date,
): Promise<Map<string, ReviewEvidence>> {
  const result = new Map<string, ReviewEvidence>();
  if (identityIds.length === 0) return result;
  const cluster = await db.cluster.findUniqueOrThrow({
    where: { id: clusterId },
    select: { name: true, settings: true, usageObservedSince: true },
  });
  const windowDays = analysisSettings(cluster.settings).usageWindowDays;
  const since = usageWindowStart(now, windowDays);
  const [policy, identities, totals] = await Promise.all([
    loadClusterPolicy(db, clusterId),
    db.identity.findMany({
      where: { id: { in: [...identityIds] }, clusterId },
      include: {
        ownerTeam: { select: { id: true, name: true } },
        credentials: { where: { deletedAt: null }, orderBy: [{ kind: "asc" }, { name: "asc" }] },
        findings: {
          where: { resolvedAt: null, OR: [{ acceptedUntil: null }, { acceptedUntil: { lte: now } }] },
          orderBy: [{ severity: "desc" }, { type: "asc" }],
        },
      },
    }),
    db.$queryRaw<UsageTotalsRow[]>`
      SELECT "identityId", sum("count" - "deniedCount")::int8 AS requests, sum("deniedCount")::int8 AS denied,
        count(DISTINCT "day")::int8 AS "activeDays"
      FROM "UsageRollup"
      WHERE "clusterId" = ${clusterId} AND "day" >= ${since.toISOString().slice(0, 10)}::date
        AND "identityId" = ANY(${[...identityIds]}::text[])
      GROUP BY "identityId"`,
  ]);
  const totalsById = new Map(totals.map((row) => [row.identityId, row]));
  for (const identity of identities) {
    const usage = totalsById.get(identity.id);
    const unusedPermissions = identity.findings.find((finding) => finding.type === "unused-permissions");
    result.set(identity.id, {
      version: 1,
      frozenAt: now.toISOString(),
      identity: {
        id: identity.id,
        clusterId,
        clusterName: cluster.name,
        kind: identity.kind,
        namespace: identity.namespace,
        name: identity.name,
        username: identity.username,
        groups: identity.groups,
        ownerTeam: identity.ownerTeam,
        ownerSource: identity.ownerSource,
        createdInClusterAt: iso(identity.createdInClusterAt),
        discoveredByUsage: identity.discoveredByUsage,
      },
      grants: ownGrants(policy.effectiveRules(identity)).map((grant) => ({
        rule: grant.rule,
        text: compactRule(grant),
        namespace: grant.namespace,
        binding: grant.binding,
        role: grant.role,
        viaSubject: grant.viaSubject,
      })),
      credentials: identity.credentials.map((credential) => ({
        id: credential.id,
        kind: credential.kind,
        namespace: credential.namespace,
        name: credential.name,
        issuedAt: iso(credential.issuedAt),
        expiresAt: iso(credential.expiresAt),
        ageDays: credential.issuedAt ? Math.floor((now.getTime() - credential.issuedAt.getTime()) / DAY_MS) : null,
        lastUsedAt: iso(credential.lastUsedAt),
      })),
      usage: {
        windowDays,
        since: since.toISOString(),
        lastUsedAt: iso(identity.lastUsedAt),
        observedSince: iso(cluster.usageObservedSince),
        requests: Number(usage?.requests ?? 0),
        denied: Number(usage?.denied ?? 0),
        activeDays: Number(usage?.activeDays ?? 0),
        unusedRules: unusedPermissions ? unusedRulesOf(unusedPermissions.details) : null,
      },
      findings: identity.findings.map((finding) => ({
        id: finding.id,
        type: finding.type,
        severity: finding.severity,
        title: finding.title,
        csf: finding.csf,
        owasp: finding.owasp,
      })),
    });
  }
  return result;
}
