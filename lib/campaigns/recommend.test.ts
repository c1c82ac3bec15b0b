import { describe, expect, it } from "vitest";
import { maxSeverity, recommend, riskScore, type RecommendationInput } from "./recommend";

const NOW = new Date("2026-12-02T00:00:00Z");
const DAY = 86_400_000;
const ago = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();

const input = (usage: Partial<RecommendationInput["usage"]>, types: string[] = []): RecommendationInput => ({
  usage: { windowDays: 90, lastUsedAt: ago(1), observedSince: ago(200), unusedRules: null, ...usage },
  findings: types.map((type) => ({ type, severity: "medium" as const })),
});

describe("recommend", () => {
  it("revokes an unused identity, counting the days since its last use (or since usage was observed)", () => {
    expect(recommend(input({ lastUsedAt: ago(120) }, ["unused"]), NOW)).toEqual({ decision: "revoke", reason: "no use in 120 days" });
    expect(recommend(input({ lastUsedAt: null, observedSince: ago(100) }, ["unused"]), NOW)).toEqual({ decision: "revoke", reason: "no use in 100 days" });
    // Never less than the window the finding was judged on.
    expect(recommend(input({ lastUsedAt: null, observedSince: ago(30) }, ["unused"]), NOW).reason).toBe("no use in 90 days");
  });

  it("revokes a service account a person uses, before looking at its grants", () => {
    expect(recommend(input({ unusedRules: 3 }, ["human-use", "unused-permissions"]), NOW)).toEqual({
      decision: "revoke",
      reason: "used by a person: give them their own identity",
    });
  });

  it("shrinks unused grants, saying how many rules over how many observed days", () => {
    expect(recommend(input({ unusedRules: 4 }, ["unused-permissions"]), NOW)).toEqual({ decision: "shrink", reason: "4 granted rules unused in 90 days" });
    expect(recommend(input({ unusedRules: 1, observedSince: ago(12) }, ["unused-permissions"]), NOW)).toEqual({ decision: "shrink", reason: "1 granted rule unused in 12 days" });
  });

  it("approves what is used as granted, and says so only when usage was recorded", () => {
    expect(recommend(input({}, ["secrets-read"]), NOW)).toEqual({ decision: "approve", reason: "in use; grants match use" });
    expect(recommend(input({ lastUsedAt: null, observedSince: null }), NOW)).toEqual({ decision: "approve", reason: "no usage recorded: judge on grants and findings" });
  });

  it("scores risk from the open findings, capped at 100, and finds the highest severity", () => {
    expect(riskScore([])).toBe(0);
    expect(riskScore([{ severity: "high" }, { severity: "medium" }])).toBe(28);
    expect(riskScore([{ severity: "critical" }, { severity: "critical" }, { severity: "critical" }])).toBe(100);
    expect(maxSeverity([{ severity: "low" }, { severity: "critical" }, { severity: "high" }])).toBe("critical");
    expect(maxSeverity([])).toBeNull();
  });
});
