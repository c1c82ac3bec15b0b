// The analysis run after every successful sync: resolve owners, compute every finding in memory, then write
// the differences in a few bulk statements (new findings, still-open ones, resolved ones, acceptance expiry,
// identity summaries) inside one transaction, so the inventory never shows a half-analysed cluster.
import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@/lib/db";
import { buildClusterPolicy, loadClusterRbacRows } from "@/lib/permissions/cluster-policy";
import { resolveClusterOwners } from "@/lib/owners/resolve-owners";
import { loadUsageFacts } from "@/lib/usage/queries";
import { computeFindings, type ComputedFinding } from "./evaluate";
import { refreshClusterIdentitySummaries } from "./identity-summary";
import { analysisSettings } from "./settings";
import { usageWindowStart } from "./usage-rules";

export interface AnalysisOutcome {
  /** Findings that appeared or came back since the last run. */
  opened: number;
  resolved: number;
  /** Open findings after the run (accepted ones included). */
  open: number;
}

const CHUNK_ROWS = 5000;

const FINDING_RECORD = `x(id text, "identityId" text, type text, severity text, title text, details jsonb, owasp text[], csf text[], fingerprint text)`;

const INSERT_SQL = `INSERT INTO "Finding" ("id", "clusterId", "identityId", "type", "severity", "title", "details", "owasp", "csf", "fingerprint", "firstSeenAt", "lastSeenAt")
SELECT x.id, $2, x."identityId", x.type, x.severity::"Severity", x.title, x.details, x.owasp, x.csf, x.fingerprint, $3::timestamp(3), $3::timestamp(3)
FROM jsonb_to_recordset($1::jsonb) AS ${FINDING_RECORD}`;

/** Existing findings (matched by id) that hold again: refreshed, and re-opened if they had been resolved. */
const UPDATE_SQL = `UPDATE "Finding" AS f SET "identityId" = x."identityId", "type" = x.type, "severity" = x.severity::"Severity",
  "title" = x.title, "details" = x.details, "owasp" = x.owasp, "csf" = x.csf, "lastSeenAt" = $3::timestamp(3), "resolvedAt" = NULL
FROM jsonb_to_recordset($1::jsonb) AS ${FINDING_RECORD}
WHERE f.id = x.id AND f."clusterId" = $2`;

const SEEN_SQL = `UPDATE "Finding" SET "lastSeenAt" = $3::timestamp(3) WHERE "clusterId" = $2 AND id = ANY($1::text[])`;

const RESOLVE_SQL = `UPDATE "Finding" SET "resolvedAt" = $3::timestamp(3) WHERE "clusterId" = $2 AND id = ANY($1::text[])`;

/** acceptedUntil = the latest expiry among a finding's active acceptances; expired or revoked ones stop silencing it. */
const ACCEPTANCE_SQL = `UPDATE "Finding" AS f SET "acceptedUntil" = a.until
FROM (
  SELECT f2.id, max(r."expiresAt") FILTER (WHERE r."revokedAt" IS NULL AND r."expiresAt" > $2::timestamp(3)) AS until
  FROM "Finding" f2 JOIN "RiskAcceptance" r ON r."findingId" = f2.id
  WHERE f2."clusterId" = $1
  GROUP BY f2.id
) AS a
WHERE f.id = a.id AND f."acceptedUntil" IS DISTINCT FROM a.until`;

function payload(rows: readonly (ComputedFinding & { id: string })[]): string {
  return JSON.stringify(
    rows.map((row) => ({
      id: row.id,
      identityId: row.identityId,
      type: row.type,
      severity: row.severity,
      title: row.title,
      details: row.details,
      owasp: row.owasp,
      csf: row.csf,
      fingerprint: row.fingerprint,
    })),
  );
}

/** JSON with object keys sorted, so a value read back from jsonb (which reorders keys) compares equal. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

async function inChunks<T>(rows: readonly T[], write: (chunk: readonly T[]) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < rows.length; start += CHUNK_ROWS) await write(rows.slice(start, start + CHUNK_ROWS));
}

export async function analyzeCluster(db: PrismaClient, clusterId: string, now: Date = new Date()): Promise<AnalysisOutcome> {
  const cluster = await db.cluster.findUniqueOrThrow({ where: { id: clusterId }, select: { settings: true, usageObservedSince: true } });
  const settings = analysisSettings(cluster.settings);
  const windowStart = usageWindowStart(now, settings.usageWindowDays);
  const [identities, credentials, workloads, rbac, usage] = await Promise.all([
    db.identity.findMany({
      where: { clusterId, deletedAt: null },
      select: {
        id: true,
        kind: true,
        namespace: true,
        name: true,
        username: true,
        groups: true,
        labels: true,
        annotations: true,
        ownerTeamId: true,
        ownerSource: true,
        lastUsedAt: true,
      },
    }),
    db.credential.findMany({
      where: { clusterId, deletedAt: null },
      select: { identityId: true, kind: true, namespace: true, name: true, issuedAt: true, expiresAt: true },
    }),
    db.workload.findMany({
      where: { clusterId, deletedAt: null },
      select: { identityId: true, name: true, ownerKind: true, ownerName: true },
    }),
    loadClusterRbacRows(db, clusterId),
    // Skipped entirely for clusters that never sent audit events.
    cluster.usageObservedSince ? loadUsageFacts(db, { clusterId, since: windowStart }) : new Map(),
  ]);
  const owners = await resolveClusterOwners(db, clusterId, settings.ownerAnnotationKey, identities);
  const computed = computeFindings({
    now,
    settings,
    policy: buildClusterPolicy(rbac.roles, rbac.bindings),
    bindings: rbac.bindings,
    identities,
    owners,
    credentials,
    workloads,
    usage: { windowStart, observedSince: cluster.usageObservedSince, byIdentity: usage },
  });

  return db.$transaction(
    async (tx) => {
      // Two analyses of one cluster (a sync and a watch update) must not interleave their writes.
      await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(hashtext($1))`, `keyward:analyze:${clusterId}`);
      const existing = await tx.finding.findMany({
        where: { clusterId },
        select: { id: true, fingerprint: true, resolvedAt: true, identityId: true, severity: true, title: true, details: true },
      });
      const byFingerprint = new Map(existing.map((finding) => [finding.fingerprint, finding]));
      const created: (ComputedFinding & { id: string })[] = [];
      const changed: (ComputedFinding & { id: string })[] = [];
      const unchangedIds: string[] = [];
      let reopened = 0;
      const stillHolding = new Set<string>();
      for (const finding of computed) {
        const previous = byFingerprint.get(finding.fingerprint);
        if (!previous) {
          created.push({ ...finding, id: randomUUID() });
          continue;
        }
        stillHolding.add(previous.id);
        if (previous.resolvedAt) reopened++;
        const same =
          previous.resolvedAt === null &&
          previous.identityId === finding.identityId &&
          previous.severity === finding.severity &&
          previous.title === finding.title &&
          stableJson(previous.details) === stableJson(finding.details);
        // Most findings hold unchanged from run to run: only their lastSeenAt moves, in one cheap statement.
        if (same) unchangedIds.push(previous.id);
        else changed.push({ ...finding, id: previous.id });
      }
      const resolvedIds = existing
        .filter((finding) => finding.resolvedAt === null && !stillHolding.has(finding.id))
        .map((finding) => finding.id);
      const stamp = now.toISOString();
      await inChunks(created, (chunk) => tx.$executeRawUnsafe(INSERT_SQL, payload(chunk), clusterId, stamp));
      await inChunks(changed, (chunk) => tx.$executeRawUnsafe(UPDATE_SQL, payload(chunk), clusterId, stamp));
      await inChunks(unchangedIds, (chunk) => tx.$executeRawUnsafe(SEEN_SQL, chunk, clusterId, stamp));
      await inChunks(resolvedIds, (chunk) => tx.$executeRawUnsafe(RESOLVE_SQL, chunk, clusterId, stamp));
      await tx.$executeRawUnsafe(ACCEPTANCE_SQL, clusterId, stamp);
      await refreshClusterIdentitySummaries(tx, clusterId, now);
      return { opened: created.length + reopened, resolved: resolvedIds.length, open: computed.length };
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
}
