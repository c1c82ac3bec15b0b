import { createHash, randomBytes } from "node:crypto";
import { recordAudit, type Actor } from "@/lib/audit/log";
import type { PrismaClient } from "@/lib/db";

/**
 * A cluster's audit ingest token: what its API server's webhook presents (`Authorization: Bearer kwa_…`). One
 * live token per cluster (issuing one revokes the others), only its hash stored, useful for one cluster only.
 */

// Recognisable, like kw_ API tokens, so a leaked one is spotted and never mistaken for an API token.
export const INGEST_TOKEN_PREFIX = "kwa_";
// The webhook posts every few seconds: minute precision is enough for "last delivery" and spares a write per batch.
const LAST_USED_WRITE_INTERVAL_MS = 60 * 1000;

function hashIngestToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Issues the cluster's new ingest token and revokes the previous ones. The answer holds the only plaintext copy. */
export async function issueIngestToken(
  db: PrismaClient,
  clusterId: string,
  actor: Actor,
  options: { expiresAt?: Date } = {},
): Promise<{ token: string; id: string }> {
  const token = INGEST_TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const now = new Date();
  const { row, revoked } = await db.$transaction(async (tx) => {
    const { count } = await tx.auditIngestToken.updateMany({
      where: { clusterId, revokedAt: null },
      data: { revokedAt: now },
    });
    const created = await tx.auditIngestToken.create({
      data: { clusterId, tokenHash: hashIngestToken(token), expiresAt: options.expiresAt ?? null },
      select: { id: true },
    });
    return { row: created, revoked: count };
  });
  await recordAudit(db, {
    actor,
    action: "cluster.audit_token_issue",
    target: { type: "cluster", id: clusterId },
    outcome: "success",
    details: {
      tokenId: row.id,
      revokedPrevious: revoked,
      ...(options.expiresAt ? { expiresAt: options.expiresAt.toISOString() } : {}),
    },
  });
  return { token, id: row.id };
}

/**
 * True when `bearer` is a live ingest token of this cluster. The lookup is by hash, so timing says nothing about
 * how much of a guess was right; a token of another cluster is as wrong as a made-up one.
 */
export async function verifyIngestToken(
  db: PrismaClient,
  clusterId: string,
  bearer: string,
  now = new Date(),
): Promise<boolean> {
  if (!bearer.startsWith(INGEST_TOKEN_PREFIX)) return false;
  const row = await db.auditIngestToken.findUnique({
    where: { tokenHash: hashIngestToken(bearer) },
    select: { id: true, clusterId: true, expiresAt: true, revokedAt: true, lastUsedAt: true },
  });
  if (!row || row.clusterId !== clusterId || row.revokedAt || (row.expiresAt && row.expiresAt <= now))
    return false;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_WRITE_INTERVAL_MS) {
    await db.auditIngestToken.update({ where: { id: row.id }, data: { lastUsedAt: now } });
  }
  return true;
}
