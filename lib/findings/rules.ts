// The risk rules of DESIGN.md, with their severity and their OWASP NHI Top 10 (2025) and NIST CSF 2.0 mappings:
// the one place the UI, the API and the evidence exports read them from.
import type { Severity } from "@/lib/db";

export interface FindingRule {
  id: string;
  title: string;
  severity: Severity;
  owasp: readonly string[];
  csf: readonly string[];
  /**
   * Computed from usage (the cluster's audit events, lib/usage): emitted only for clusters that send them, and
   * "unused" only once Keyward has observed a whole usage window (or the identity's last known use is older).
   */
  needsUsage?: boolean;
}

export const OWASP_NHI_2025: Readonly<Record<string, string>> = {
  NHI1: "Improper Offboarding",
  NHI2: "Secret Leakage",
  NHI5: "Overprivileged NHI",
  NHI7: "Long-Lived Secrets",
  NHI9: "NHI Reuse",
  NHI10: "Human Use of NHI",
};

export const findingRules = [
  { id: "cluster-admin", title: "Full control: cluster-admin or * verbs on * resources", severity: "critical", owasp: ["NHI5"], csf: ["PR.AA-05"] },
  { id: "privilege-escalation", title: "Can escalate privileges (escalate/bind roles, impersonate, create tokens, approve client CSRs, write admission webhooks)", severity: "critical", owasp: ["NHI5"], csf: ["PR.AA-05"] },
  { id: "secrets-read", title: "Can read secrets", severity: "high", owasp: ["NHI5", "NHI2"], csf: ["PR.AA-05"] },
  { id: "workload-create", title: "Can run code: create workloads, exec/attach into pods or proxy to nodes", severity: "high", owasp: ["NHI5"], csf: ["PR.AA-05"] },
  { id: "legacy-token", title: "Legacy long-lived token Secret exists", severity: "high", owasp: ["NHI7"], csf: ["PR.AA-01"] },
  { id: "credential-age", title: "Credential older than the rotation policy", severity: "medium", owasp: ["NHI7"], csf: ["PR.AA-01"] },
  { id: "certificate-validity", title: "Certificate valid for longer than the rotation policy", severity: "medium", owasp: ["NHI7"], csf: ["PR.AA-01"] },
  { id: "credential-expiring", title: "Credential expiring soon or expired", severity: "medium", owasp: ["NHI7"], csf: ["PR.AA-01"] },
  { id: "no-owner", title: "No owner", severity: "medium", owasp: ["NHI1"], csf: ["GV.RR-02", "ID.AM-08"] },
  { id: "unused", title: "Unused: no audit events in the usage window", severity: "medium", owasp: ["NHI1"], csf: ["PR.AA-05"], needsUsage: true },
  { id: "bindings-without-workload", title: "Service account has bindings but no workload runs as it", severity: "medium", owasp: ["NHI1"], csf: ["PR.AA-05"] },
  { id: "unused-permissions", title: "Granted permissions never used in the usage window", severity: "medium", owasp: ["NHI5"], csf: ["PR.AA-05"], needsUsage: true },
  { id: "shared-service-account", title: "Service account shared by many workloads", severity: "medium", owasp: ["NHI9"], csf: ["PR.AA-05"] },
  { id: "default-sa-bindings", title: "The default service account has bindings", severity: "medium", owasp: ["NHI9"], csf: ["PR.AA-05"] },
  { id: "human-use", title: "Service account token used by a human client from outside the cluster", severity: "high", owasp: ["NHI10"], csf: ["DE.CM-03"], needsUsage: true },
  { id: "broad-group-binding", title: "Permissions granted to a broad group (system:authenticated, system:serviceaccounts)", severity: "high", owasp: ["NHI5"], csf: ["PR.AA-05"] },
  { id: "dangling-binding", title: "Binding to a role that does not exist", severity: "low", owasp: ["NHI1"], csf: ["PR.AA-05"] },
  { id: "missing-subject", title: "Binding to a service account that no longer exists", severity: "low", owasp: ["NHI1"], csf: ["PR.AA-05"] },
] as const satisfies readonly FindingRule[];

export type FindingRuleId = (typeof findingRules)[number]["id"];

const rulesById = new Map<string, FindingRule>(findingRules.map((rule) => [rule.id, rule]));

export function findingRule(id: FindingRuleId): FindingRule {
  const rule = rulesById.get(id);
  if (!rule) throw new Error(`unknown finding rule ${id}`);
  return rule;
}

export const SEVERITY_ORDER: readonly Severity[] = ["info", "low", "medium", "high", "critical"];

export function severityRank(severity: Severity): number {
  return SEVERITY_ORDER.indexOf(severity);
}
