// Risk acceptance: an exception with a reason, an expiry and who accepted it. It silences the finding (it no
// longer counts in the identity's severity and open findings) until it expires or is revoked.
import { z } from "zod";
import { UserFacingError } from "@/lib/auth/errors";
import type { Prisma, PrismaClient, RiskAcceptance } from "@/lib/db";
import { refreshIdentitySummaries } from "./identity-summary";

/** An acceptance lasts at most a year (plus a day, so "same date next year, end of day" fits). */
export const MAX_ACCEPTANCE_DAYS = 366;
const DAY_MS = 86_400_000;

export const acceptRiskSchema = z.object({
  findingId: z.string().min(1),
  reason: z.string().trim().min(3, "A reason is required.").max(2000),
  expiresAt: z.date(),
  acceptedById: z.string().min(1),
});

type Tx = Prisma.TransactionClient;

/** The latest expiry among the finding's active acceptances (null when none is active). */
async function refreshAcceptedUntil(tx: Tx, findingId: string, now: Date): Promise<Date | null> {
  const active = await tx.riskAcceptance.findFirst({
    where: { findingId, revokedAt: null, expiresAt: { gt: now } },
    orderBy: { expiresAt: "desc" },
    select: { expiresAt: true },
  });
  const finding = await tx.finding.update({
    where: { id: findingId },
    data: { acceptedUntil: active?.expiresAt ?? null },
    select: { identityId: true },
  });
  if (finding.identityId) await refreshIdentitySummaries(tx, [finding.identityId], now);
  return active?.expiresAt ?? null;
}

export async function acceptRisk(
  db: PrismaClient,
  input: z.input<typeof acceptRiskSchema>,
  now: Date = new Date(),
): Promise<RiskAcceptance> {
  const { findingId, reason, expiresAt, acceptedById } = acceptRiskSchema.parse(input);
  if (expiresAt.getTime() <= now.getTime()) throw new UserFacingError("The expiry date must be in the future.", 422);
  if (expiresAt.getTime() > now.getTime() + MAX_ACCEPTANCE_DAYS * DAY_MS) {
    throw new UserFacingError("A risk can be accepted for one year at most.", 422);
  }
  return db.$transaction(async (tx) => {
    const finding = await tx.finding.findUnique({ where: { id: findingId }, select: { resolvedAt: true } });
    if (!finding) throw new UserFacingError("This finding does not exist.", 404);
    if (finding.resolvedAt) throw new UserFacingError("This finding is already resolved.", 409);
    const acceptance = await tx.riskAcceptance.create({ data: { findingId, reason, expiresAt, acceptedById } });
    await refreshAcceptedUntil(tx, findingId, now);
    return acceptance;
  });
}

/** Ends an acceptance early: the finding counts again unless another acceptance is still active. */
export async function revokeRiskAcceptance(
  db: PrismaClient,
  input: { acceptanceId: string },
  now: Date = new Date(),
): Promise<RiskAcceptance> {
  return db.$transaction(async (tx) => {
    const existing = await tx.riskAcceptance.findUnique({ where: { id: input.acceptanceId } });
    if (!existing) throw new UserFacingError("This risk acceptance does not exist.", 404);
    if (existing.revokedAt) throw new UserFacingError("This risk acceptance is already revoked.", 409);
    const revoked = await tx.riskAcceptance.update({ where: { id: existing.id }, data: { revokedAt: now } });
    await refreshAcceptedUntil(tx, existing.findingId, now);
    return revoked;
  });
}

/** Active (unrevoked, unexpired) acceptances of a finding, newest first, for the identity page. */
export async function activeAcceptances(db: PrismaClient, findingId: string, now: Date = new Date()) {
  return db.riskAcceptance.findMany({
    where: { findingId, revokedAt: null, expiresAt: { gt: now } },
    orderBy: { createdAt: "desc" },
  });
}
