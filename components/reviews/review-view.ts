// What the review pages share: their URL parameters and how states and decisions read.
import { z } from "zod";
import type { Tone } from "@/components/ui/badge";
import { NOT_LOW_RISK } from "@/lib/campaigns/recommend";

export const itemStatuses = ["pending", "decided", "applying", "applied", "failed", "rolledBack"] as const;
export type ItemStatus = (typeof itemStatuses)[number];

export const statusLabel: Record<ItemStatus, string> = {
  pending: "pending",
  decided: "decided",
  applying: "applying",
  applied: "applied",
  failed: "failed",
  rolledBack: "rolled back",
};

export const itemStatusTone: Record<ItemStatus, Tone> = {
  pending: "gray",
  decided: "blue",
  applying: "blue",
  applied: "green",
  failed: "red",
  rolledBack: "amber",
};

export const changeSetStatusTone: Record<string, Tone> = {
  planned: "blue",
  applying: "blue",
  applied: "green",
  failed: "red",
  rolledBack: "amber",
};

export const decisionTone: Record<string, Tone> = { approve: "green", shrink: "amber", revoke: "red" };

/** The inbox's URL: status "all" shows every state; the default is what waits for a decision. */
export const inboxParamsSchema = z.object({
  status: z
    .enum([...itemStatuses, "all"])
    .catch("pending")
    .default("pending"),
  campaign: z.string().min(1).max(64).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100_000).catch(1).default(1),
});
export type InboxParams = z.output<typeof inboxParamsSchema>;

/** Severities bulk approve refuses (offered only what it takes; the server enforces it). */
export const NEEDS_OWN_REVIEW: ReadonlySet<string> = new Set(NOT_LOW_RISK);

/** A deadline as the reviewer reads it: the date, and how far off or overdue. */
export function isOverdue(deadline: Date | string | null, now: Date): boolean {
  return deadline !== null && new Date(deadline).getTime() < now.getTime();
}
