// Bulk approve for the inbox's low-risk items: each item is decided on its own (same checks, same optimistic
// version), so one refused or lost item does not undo the others, and the answer says what happened to each.
import { z } from "zod";
import { UserFacingError } from "@/lib/auth/errors";
import type { PrismaClient } from "@/lib/db";
import type { CampaignActor } from "./access";
import { decideItem } from "./decide-item";
import { CampaignAccessError, DecisionConflictError } from "./errors";
import { NOT_LOW_RISK } from "./recommend";


export const bulkApproveSchema = z.object({
  items: z.array(z.object({ id: z.string().min(1).max(64), expectedVersion: z.number().int().min(0) })).min(1).max(200),
  comment: z.string().trim().max(4000).optional(),
});
export type BulkApproveInput = z.input<typeof bulkApproveSchema>;

export type BulkApproveResult = { id: string } & (
  | { outcome: "approved"; version: number }
  | { outcome: "conflict" | "refused" | "notLowRisk" | "invalid"; message: string }
);

export async function bulkApprove(db: PrismaClient, who: CampaignActor, input: BulkApproveInput, now: Date = new Date()): Promise<BulkApproveResult[]> {
  const { items, comment } = bulkApproveSchema.parse(input);
  const severities = new Map(
    (await db.reviewItem.findMany({ where: { id: { in: items.map((item) => item.id) } }, select: { id: true, severity: true } })).map((item) => [item.id, item.severity]),
  );
  const results: BulkApproveResult[] = [];
  for (const { id, expectedVersion } of items) {
    const severity = severities.get(id);
    if (severity && (NOT_LOW_RISK as readonly string[]).includes(severity)) {
      results.push({ id, outcome: "notLowRisk", message: `A ${severity} item is approved on its own, not in bulk.` });
      continue;
    }
    try {
      const decided = await decideItem(db, who, id, { decision: "approve", comment, expectedVersion }, now);
      results.push({ id, outcome: "approved", version: decided.version });
    } catch (error) {
      if (error instanceof DecisionConflictError) results.push({ id, outcome: "conflict", message: error.message });
      else if (error instanceof CampaignAccessError) results.push({ id, outcome: "refused", message: error.message });
      else if (error instanceof UserFacingError) results.push({ id, outcome: "invalid", message: error.message });
      else throw error;
    }
  }
  return results;
}
