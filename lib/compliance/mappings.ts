// Which NIST CSF 2.0 subcategories and OWASP NHI Top 10 (2025) risks each evidence row speaks to (DESIGN.md):
// the one place exports and reports read them from. Finding mappings come from lib/findings/rules.ts.
import { OWASP_NHI_2025 } from "@/lib/findings/rules";

export const CSF_2_0: Readonly<Record<string, string>> = {
  "PR.AA-01": "Identities and credentials for authorized users, services, and hardware are managed by the organization",
  "PR.AA-05":
    "Access permissions, entitlements, and authorizations are defined in a policy, managed, enforced, and reviewed, and incorporate the principles of least privilege and separation of duties",
  "GV.RR-02": "Roles, responsibilities, and authorities related to cybersecurity risk management are established, communicated, understood, and enforced",
  "ID.AM-08": "Systems, hardware, software, services, and data are managed throughout their life cycles",
  "DE.CM-03": "Personnel activity and technology usage are monitored to find potentially adverse events",
  "PR.PS-04": "Log records are generated and made available for continuous monitoring",
  "ID.RA-07": "Changes and exceptions are managed, assessed for risk impact, recorded, and tracked",
};

export { OWASP_NHI_2025 };

export interface Mapping {
  csf: string[];
  owasp: string[];
}

interface Mapped {
  csf: readonly string[];
  owasp: readonly string[];
}

const csfOrder = Object.keys(CSF_2_0);
const owaspOrder = Object.keys(OWASP_NHI_2025);

function ordered(values: Iterable<string>, order: readonly string[]): string[] {
  const rank = (v: string) => (order.includes(v) ? order.indexOf(v) : order.length);
  return [...new Set(values)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function merge(base: Mapping, findings: readonly Mapped[]): Mapping {
  return {
    csf: ordered([...base.csf, ...findings.flatMap((f) => f.csf)], csfOrder),
    owasp: ordered([...base.owasp, ...findings.flatMap((f) => f.owasp)], owaspOrder),
  };
}

export type ReviewDecisionKind = "approve" | "shrink" | "revoke";

/**
 * A campaign decision evidences the access review and least privilege (PR.AA-05), ownership (GV.RR-02: the owner
 * decided), credential management when credentials were reviewed (PR.AA-01), a recorded, tracked change when the
 * cluster was changed (ID.RA-07), and whatever its findings map to. Shrink answers NHI5, revoke NHI1 (and NHI7
 * when long-lived tokens went with it).
 */
export function decisionMapping(input: {
  decision: ReviewDecisionKind | null;
  findings: readonly Mapped[];
  hasCredentials: boolean;
  changedCluster: boolean;
  deletedLegacyTokens?: boolean;
}): Mapping {
  const csf = ["PR.AA-05", "GV.RR-02"];
  if (input.hasCredentials) csf.push("PR.AA-01");
  if (input.changedCluster) csf.push("ID.RA-07");
  const owasp: string[] = [];
  if (input.decision === "shrink") owasp.push("NHI5");
  if (input.decision === "revoke") owasp.push("NHI1", ...(input.deletedLegacyTokens ? ["NHI7"] : []));
  return merge({ csf, owasp }, input.findings);
}

/** An inventory row evidences the NHI inventory over its life cycle (ID.AM-08), its owner and its credentials. */
export function inventoryMapping(input: { findings: readonly Mapped[]; hasCredentials: boolean }): Mapping {
  return merge({ csf: ["ID.AM-08", "GV.RR-02", ...(input.hasCredentials ? ["PR.AA-01"] : [])], owasp: [] }, input.findings);
}

/** A finding row carries its rule's mappings; an accepted risk is a tracked exception (ID.RA-07). */
export function findingMapping(rule: Mapped, accepted: boolean): Mapping {
  return merge({ csf: accepted ? ["ID.RA-07"] : [], owasp: [] }, [rule]);
}
