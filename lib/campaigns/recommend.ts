// The recommended decision for a review item and why, from its frozen evidence; and its risk score. Pure, so
// the reviewer's screen, the API and the tests agree on what Keyward suggested.
import type { ReviewDecision, Severity } from "@/lib/db";
import { severityRank } from "@/lib/findings/rules";

const DAY_MS = 86_400_000;

/** Items of these severities need a look of their own (and a critical one a comment): never in a bulk approve. */
export const NOT_LOW_RISK: readonly Severity[] = ["high", "critical"];

/** What the recommendation looks at: the usage summary and the open findings, as frozen at launch. */
export interface RecommendationInput {
  usage: {
    windowDays: number;
    lastUsedAt: string | null;
    /** When Keyward started receiving the cluster's audit events (null: never, so usage says nothing). */
    observedSince: string | null;
    /** Granted rules the identity did not use in the window (from the "unused-permissions" finding). */
    unusedRules: number | null;
  };
  findings: { type: string; severity: Severity }[];
}

export interface Recommendation {
  decision: ReviewDecision;
  reason: string;
}

const days = (n: number) => `${n} ${n === 1 ? "day" : "days"}`;
const daysBetween = (from: Date, to: Date) => Math.max(1, Math.floor((to.getTime() - from.getTime()) / DAY_MS));

/**
 * Unused identity → revoke; a service account used by a person → revoke (the person needs their own
 * identity); grants unused → shrink to what is used; otherwise approve. "Unused" is the analysis's verdict
 * (its finding), which only claims it once Keyward has observed a whole window.
 */
export function recommend(input: RecommendationInput, now: Date): Recommendation {
  const { usage } = input;
  const has = (type: string) => input.findings.some((finding) => finding.type === type);
  const observedSince = usage.observedSince ? new Date(usage.observedSince) : null;
  if (has("unused")) {
    const since = usage.lastUsedAt ? new Date(usage.lastUsedAt) : observedSince;
    const idle = since ? Math.max(usage.windowDays, daysBetween(since, now)) : usage.windowDays;
    return { decision: "revoke", reason: `no use in ${days(idle)}` };
  }
  if (has("human-use")) return { decision: "revoke", reason: "used by a person: give them their own identity" };
  if (has("unused-permissions") && usage.unusedRules) {
    // Until a whole window has been observed, the claim rests on fewer days: say how many.
    const window = observedSince ? Math.min(usage.windowDays, daysBetween(observedSince, now)) : usage.windowDays;
    return {
      decision: "shrink",
      reason: `${usage.unusedRules} granted ${usage.unusedRules === 1 ? "rule" : "rules"} unused in ${days(window)}`,
    };
  }
  if (!observedSince && !usage.lastUsedAt) return { decision: "approve", reason: "no usage recorded: judge on grants and findings" };
  return { decision: "approve", reason: "in use; grants match use" };
}

const SEVERITY_POINTS: Record<Severity, number> = { info: 1, low: 3, medium: 8, high: 20, critical: 40 };

/** 0–100: the open findings' weight, so the inbox puts the riskiest identity first. */
export function riskScore(findings: readonly { severity: Severity }[]): number {
  return Math.min(100, findings.reduce((sum, finding) => sum + SEVERITY_POINTS[finding.severity], 0));
}

/** The highest severity among the findings (null: none). */
export function maxSeverity(findings: readonly { severity: Severity }[]): Severity | null {
  return findings.reduce<Severity | null>(
    (max, { severity }) => (max === null || severityRank(severity) > severityRank(max) ? severity : max),
    null,
  );
}
