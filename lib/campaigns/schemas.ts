// The campaign boundary: what a campaign, a schedule and a decision accept from the UI, the API and templates.
import parser from "cron-parser";
import { z } from "zod";
import { campaignScopeSchema } from "./scope";

export const SCHEDULE_PRESETS: Readonly<Record<string, string>> = {
  quarterly: "0 9 1 1,4,7,10 *",
  monthly: "0 9 1 * *",
};

/** The next time `cron` comes due after `after`, in UTC. Throws on an invalid expression. */
export function nextCronRun(cron: string, after: Date): Date {
  return parser.parseExpression(cron, { currentDate: after, tz: "UTC" }).next().toDate();
}

const cronSchema = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .transform((value) => SCHEDULE_PRESETS[value] ?? value)
  .refine(
    (cron) => {
      try {
        nextCronRun(cron, new Date());
        return true;
      } catch {
        return false;
      }
    },
    { message: 'Use a cron expression (minute hour day month weekday) or "quarterly" / "monthly".' },
  );

/** The settings every launch of a campaign starts from: what a schedule's template stores. */
export const campaignSettingsSchema = z.object({
  name: z.string().trim().min(1, "Give the campaign a name.").max(200, "Keep the name under 200 characters."),
  scope: campaignScopeSchema.default({ clusterIds: [], namespaces: [], kinds: [], onlyUnowned: false, onlyUnusedAccess: false }),
  durationDays: z.number().int().min(1, "A campaign runs for 1 day at least.").max(365, "A campaign runs for 365 days at most.").default(14),
  reminderDaysBefore: z
    .array(z.number().int().min(1, "Remind 1 day before the deadline or earlier.").max(365, "Remind at most 365 days before."))
    .max(10, "Ten reminders at most.")
    .default([])
    .transform((days) => [...new Set(days)].sort((a, b) => b - a)),
  escalateAfterDeadline: z.boolean().default(true),
  undecidedPolicy: z.enum(["keep", "revoke"]).default("keep"),
  defaultReviewerTeamId: z.string().min(1).max(64).optional(),
});
export type CampaignSettings = z.output<typeof campaignSettingsSchema>;

export const campaignInputSchema = campaignSettingsSchema
  .extend({
    /** An absolute deadline (ISO 8601); otherwise durationDays after the launch. */
    deadline: z.iso.datetime({ offset: true }).transform((value) => new Date(value)).optional(),
    schedule: z.object({ cron: cronSchema }).optional(),
    launch: z.boolean().default(false),
  })
  .refine((input) => !(input.schedule && input.deadline), {
    message: "A recurring campaign runs for durationDays from each launch; leave the deadline out.",
    path: ["deadline"],
  });
export type CampaignInput = z.input<typeof campaignInputSchema>;

export const decisionInputSchema = z.object({
  decision: z.enum(["approve", "shrink", "revoke"]),
  comment: z
    .string()
    .trim()
    .max(4000)
    .optional()
    .transform((value) => value || undefined),
  /** The item version the reviewer saw: a decision made on stale evidence loses. */
  expectedVersion: z.number().int().min(0),
});
export type DecisionInput = z.input<typeof decisionInputSchema>;
