import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import type { ApiTokenScope, PrismaClient } from "@/lib/db";

/**
 * Keyward's own non-human identities follow the rules Keyward checks for: one per client, scoped, expiring,
 * revocable, stored only as a hash, last use recorded. The plaintext exists once, in createApiToken's answer.
 */

// A recognisable prefix lets secret scanners (and people) spot a leaked Keyward token.
export const API_TOKEN_PREFIX = "kw_";
export const MAX_API_TOKEN_LIFETIME_MS = 366 * 24 * 3600 * 1000;
// lastUsedAt is for humans deciding what to revoke: minute precision is enough and spares a write per request.
const LAST_USED_WRITE_INTERVAL_MS = 60 * 1000;

export const apiTokenScopes = ["read", "write"] as const satisfies readonly ApiTokenScope[];
export const apiTokenScopeSchema = z.enum(apiTokenScopes);

export const createApiTokenInput = z
  .object({
    name: z.string().trim().min(1).max(100),
    scope: apiTokenScopeSchema,
    expiresAt: z.coerce.date(),
    createdById: z.string().min(1),
  })
  .superRefine((input, ctx) => {
    const lifetime = input.expiresAt.getTime() - Date.now();
    if (lifetime <= 0) ctx.addIssue({ code: "custom", path: ["expiresAt"], message: "must be in the future" });
    if (lifetime > MAX_API_TOKEN_LIFETIME_MS) ctx.addIssue({ code: "custom", path: ["expiresAt"], message: "must be within a year" });
  });
export type CreateApiTokenInput = z.input<typeof createApiTokenInput>;

export function hashApiToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Issues a token. The answer holds the only copy of the plaintext: show it once and forget it. */
export async function createApiToken(db: PrismaClient, input: CreateApiTokenInput): Promise<{ id: string; token: string; expiresAt: Date }> {
  const data = createApiTokenInput.parse(input);
  const token = API_TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const row = await db.apiToken.create({
    data: { name: data.name, scope: data.scope, expiresAt: data.expiresAt, createdById: data.createdById, tokenHash: hashApiToken(token) },
    select: { id: true, expiresAt: true },
  });
  return { id: row.id, token, expiresAt: row.expiresAt };
}

export interface AuthenticatedApiToken {
  id: string;
  name: string;
  scope: ApiTokenScope;
  /** The admin who issued it: what the token does is done in their name (decisions, approvals). */
  issuer: { id: string; email: string; name: string };
}

/** "orphaned": its issuer is disabled or no longer an admin, so nobody stands behind it any more. */
export type ApiTokenRejection = "unknown" | "expired" | "revoked" | "orphaned";

/** Looks a presented token up by its hash; records its use at most once a minute. */
export async function authenticateApiToken(
  db: PrismaClient,
  presented: string,
  now = new Date(),
): Promise<{ ok: true; token: AuthenticatedApiToken } | { ok: false; reason: ApiTokenRejection }> {
  if (!presented.startsWith(API_TOKEN_PREFIX)) return { ok: false, reason: "unknown" };
  const row = await db.apiToken.findUnique({
    where: { tokenHash: hashApiToken(presented) },
    select: {
      id: true,
      name: true,
      scope: true,
      expiresAt: true,
      revokedAt: true,
      lastUsedAt: true,
      createdBy: { select: { id: true, email: true, name: true, role: true, disabled: true } },
    },
  });
  if (!row) return { ok: false, reason: "unknown" };
  if (row.revokedAt) return { ok: false, reason: "revoked" };
  if (row.expiresAt <= now) return { ok: false, reason: "expired" };
  if (row.createdBy.disabled || row.createdBy.role !== "admin") return { ok: false, reason: "orphaned" };
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_WRITE_INTERVAL_MS) {
    await db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: now } });
  }
  const { id, email, name } = row.createdBy;
  return { ok: true, token: { id: row.id, name: row.name, scope: row.scope, issuer: { id, email, name } } };
}

/** Revokes a token for good; revoking one already revoked keeps the first revocation time. */
export async function revokeApiToken(db: PrismaClient, id: string, now = new Date()): Promise<{ id: string; name: string; revokedAt: Date } | null> {
  const existing = await db.apiToken.findUnique({ where: { id }, select: { id: true, name: true, revokedAt: true } });
  if (!existing) return null;
  if (existing.revokedAt) return { id: existing.id, name: existing.name, revokedAt: existing.revokedAt };
  const row = await db.apiToken.update({ where: { id }, data: { revokedAt: now }, select: { id: true, name: true, revokedAt: true } });
  return { id: row.id, name: row.name, revokedAt: row.revokedAt ?? now };
}

/** Every token for the admin page and the CLI: never the hash. */
export async function listApiTokens(db: PrismaClient) {
  return db.apiToken.findMany({
    orderBy: { createdAt: "desc" },
    select: {
      id: true,
      name: true,
      scope: true,
      createdAt: true,
      expiresAt: true,
      revokedAt: true,
      lastUsedAt: true,
      createdBy: { select: { email: true } },
    },
  });
}

/** "30d", "12h", "1y" or an ISO date, as the CLI and the admin page accept it. */
export function parseExpiry(value: string, now = new Date()): Date {
  const relative = /^(\d+)([hdwy])$/.exec(value.trim());
  if (relative) {
    const unitMs = { h: 3600e3, d: 86400e3, w: 7 * 86400e3, y: 365 * 86400e3 }[relative[2] as "h" | "d" | "w" | "y"];
    return new Date(now.getTime() + Number(relative[1]) * unitMs);
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new Error(`expiry "${value}" is neither a duration like 30d nor a date like 2027-01-31`);
  return date;
}
