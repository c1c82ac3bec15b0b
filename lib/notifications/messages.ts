// What each campaign notification says: a subject and a plain-text body (senders derive HTML or chat text from
// it), with a link into Keyward when its public URL is known. Pure, so every wording is testable.

export const NOTIFICATION_KINDS = ["launch", "reminder", "escalation", "close"] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** What a message says about its campaign, counted for its audience (one reviewer team, or the whole campaign). */
export interface CampaignFacts {
  campaignId: string;
  campaignName: string;
  deadline: Date | null;
  /** The reviewer team addressed; null for the security team. */
  teamName: string | null;
  /** Items still waiting for a decision. */
  pending: number;
  total: number;
  undecidedPolicy: "keep" | "revoke";
}

export interface MessageContent {
  subject: string;
  text: string;
  link: string | null;
}

const DAY_MS = 86_400_000;

const day = (date: Date) => date.toISOString().slice(0, 10);
const items = (count: number) => `${count} ${count === 1 ? "identity" : "identities"}`;
const wait = (count: number) => (count === 1 ? "waits" : "wait");

function dueIn(deadline: Date, now: Date): string {
  const days = Math.ceil((deadline.getTime() - now.getTime()) / DAY_MS);
  if (days <= 0) return "today";
  return days === 1 ? "in 1 day" : `in ${days} days`;
}

export function campaignLink(linkBase: string | null, campaignId: string): string | null {
  return linkBase ? `${linkBase}/campaigns/${encodeURIComponent(campaignId)}` : null;
}

export function campaignMessage(
  kind: NotificationKind,
  facts: CampaignFacts,
  linkBase: string | null,
  now: Date = new Date(),
): MessageContent {
  const name = facts.campaignName;
  const team = facts.teamName ? ` for ${facts.teamName}` : "";
  const deadline = facts.deadline ? ` by ${day(facts.deadline)}` : "";
  const lines: string[] = [];
  let subject: string;
  switch (kind) {
    case "launch":
      subject = `Access review "${name}": ${items(facts.pending)} to review${deadline}`;
      lines.push(
        `The access review "${name}" has started. ${items(facts.pending)}${team} ${wait(facts.pending)} for a decision${deadline}.`,
        "For each one, approve its access, shrink it to what it uses, or revoke it. The evidence is frozen as of the launch.",
      );
      break;
    case "reminder": {
      const when = facts.deadline
        ? ` The deadline is ${day(facts.deadline)} (${dueIn(facts.deadline, now)}).`
        : "";
      subject = `Reminder: ${items(facts.pending)} still to review in "${name}"`;
      lines.push(
        `${items(facts.pending)}${team} in the access review "${name}" still ${wait(facts.pending)} for a decision.${when}`,
      );
      break;
    }
    case "escalation":
      subject = `Overdue: ${items(facts.pending)} undecided in "${name}"`;
      lines.push(
        `The access review "${name}" passed its deadline${facts.deadline ? ` (${day(facts.deadline)})` : ""} with ${items(facts.pending)} of ${facts.total} undecided.`,
        facts.undecidedPolicy === "revoke"
          ? "The campaign's policy revokes undecided access: Keyward carries the revocations out."
          : "The campaign's policy keeps undecided access: those items are flagged for follow-up.",
      );
      break;
    case "close":
      subject = `Access review "${name}" closed: ${facts.total - facts.pending} of ${facts.total} decided`;
      lines.push(
        `The access review "${name}" is closed. ${facts.total - facts.pending} of ${facts.total} items were decided; ${facts.pending} were not.`,
        "The decisions and their evidence can be exported as CSV from the campaign page.",
      );
      break;
  }
  const link = campaignLink(linkBase, facts.campaignId);
  if (link) lines.push(`Open it in Keyward: ${link}`);
  return { subject, text: lines.join("\n\n"), link };
}
