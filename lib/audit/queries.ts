import { getPrisma } from "@/lib/db";

export async function listRecentAuditEntries(limit = 100) {
  return getPrisma().auditLogEntry.findMany({
    orderBy: { seq: "desc" },
    take: limit,
    select: { seq: true, at: true, actorLabel: true, action: true, targetType: true, targetId: true, outcome: true, hash: true },
  });
}
