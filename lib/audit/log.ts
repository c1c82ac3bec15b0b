import { createHash } from "node:crypto";
import type { Prisma, PrismaClient } from "@/lib/db";

/** Who did something: a dashboard user, an API token, or Keyward itself (jobs, the CLI). */
export interface Actor {
  type: "user" | "apiToken" | "system";
  id: string | null;
  label: string;
}

export const systemActor = (label: string): Actor => ({ type: "system", id: null, label });

export interface AuditEntryInput {
  actor: Actor;
  action: string;
  target?: { type: string; id: string };
  outcome: "success" | "denied" | "failure";
  details?: Prisma.InputJsonObject;
}

export const GENESIS_HASH = "0".repeat(64);
// Serialises appends so each entry links to the one before it, across processes and replicas.
const AUDIT_CHAIN_LOCK = 0x6b657977; // "keyw"

type Db = PrismaClient | Prisma.TransactionClient;

/** JSON with object keys sorted, so the hash does not depend on key order after a round trip through JSONB. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

interface HashedFields {
  at: Date;
  actorType: string;
  actorId: string | null;
  actorLabel: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  details: unknown;
}

export function entryHash(prevHash: string, e: HashedFields): string {
  const body = canonicalJson({
    at: e.at.toISOString(),
    actorType: e.actorType,
    actorId: e.actorId,
    actorLabel: e.actorLabel,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    outcome: e.outcome,
    details: e.details,
  });
  return createHash("sha256").update(prevHash).update("\n").update(body).digest("hex");
}

/** Appends one entry to Keyward's append-only, hash-chained audit trail. */
export async function recordAudit(db: PrismaClient, input: AuditEntryInput): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`;
    const last = await tx.auditLogEntry.findFirst({ orderBy: { seq: "desc" }, select: { hash: true } });
    const prevHash = last?.hash ?? GENESIS_HASH;
    const fields: HashedFields = {
      at: new Date(),
      actorType: input.actor.type,
      actorId: input.actor.id,
      actorLabel: input.actor.label,
      action: input.action,
      targetType: input.target?.type ?? null,
      targetId: input.target?.id ?? null,
      outcome: input.outcome,
      details: input.details ?? {},
    };
    await tx.auditLogEntry.create({
      data: {
        ...fields,
        outcome: input.outcome,
        details: input.details ?? {},
        prevHash,
        hash: entryHash(prevHash, fields),
      },
    });
  }, { maxWait: 15_000, timeout: 15_000 }); // appends queue on the chain lock; busy moments must not drop entries
}

export type ChainVerification = { ok: true; entries: number } | { ok: false; entries: number; brokenAtSeq: bigint; reason: string };

/** Walks the chain in order and recomputes every hash: any edited, deleted or reordered entry breaks it. */
export async function verifyAuditChain(db: Db, batchSize = 1000): Promise<ChainVerification> {
  let prevHash = GENESIS_HASH;
  let count = 0;
  let cursor: bigint | undefined;
  for (;;) {
    const batch = await db.auditLogEntry.findMany({
      where: cursor === undefined ? {} : { seq: { gt: cursor } },
      orderBy: { seq: "asc" },
      take: batchSize,
    });
    if (batch.length === 0) return { ok: true, entries: count };
    for (const e of batch) {
      if (e.prevHash !== prevHash) {
        return { ok: false, entries: count, brokenAtSeq: e.seq, reason: "previous-hash link does not match" };
      }
      if (entryHash(prevHash, e) !== e.hash) {
        return { ok: false, entries: count, brokenAtSeq: e.seq, reason: "entry content does not match its hash" };
      }
      prevHash = e.hash;
      count++;
      cursor = e.seq;
    }
  }
}
