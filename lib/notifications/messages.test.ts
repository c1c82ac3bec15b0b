import { describe, expect, it } from "vitest";
import { campaignMessage, type CampaignFacts } from "./messages";

const NOW = new Date("2026-12-01T09:00:00Z");
const facts: CampaignFacts = {
  campaignId: "c1",
  campaignName: "Q4 review",
  deadline: new Date("2026-12-08T09:00:00Z"),
  teamName: "Payments",
  pending: 1,
  total: 4,
  undecidedPolicy: "keep",
};

describe("campaignMessage", () => {
  it("says what a launch asks of the team, with a link when Keyward's URL is known", () => {
    const message = campaignMessage("launch", facts, "https://keyward.example", NOW);
    expect(message.subject).toBe('Access review "Q4 review": 1 identity to review by 2026-12-08');
    expect(message.text.split("\n\n")).toEqual([
      'The access review "Q4 review" has started. 1 identity for Payments waits for a decision by 2026-12-08.',
      "For each one, approve its access, shrink it to what it uses, or revoke it. The evidence is frozen as of the launch.",
      "Open it in Keyward: https://keyward.example/campaigns/c1",
    ]);
    expect(message.link).toBe("https://keyward.example/campaigns/c1");
  });

  it("counts down in reminders and carries no link without a URL", () => {
    const message = campaignMessage("reminder", { ...facts, pending: 3 }, null, NOW);
    expect(message).toEqual({
      subject: 'Reminder: 3 identities still to review in "Q4 review"',
      text: '3 identities for Payments in the access review "Q4 review" still wait for a decision. The deadline is 2026-12-08 (in 7 days).',
      link: null,
    });
  });

  it("tells the security team the deadline policy on escalation, and the tally on close", () => {
    const security = { ...facts, teamName: null, pending: 2 };
    expect(campaignMessage("escalation", security, null, NOW).text).toBe(
      'The access review "Q4 review" passed its deadline (2026-12-08) with 2 identities of 4 undecided.\n\n' +
        "The campaign's policy keeps undecided access: those items are flagged for follow-up.",
    );
    const closed = campaignMessage("close", security, null, NOW);
    expect(closed.subject).toBe('Access review "Q4 review" closed: 2 of 4 decided');
    expect(closed.text).toContain("2 of 4 items were decided; 2 were not.");
  });
});
