import { describe, expect, it } from "vitest";
import { findingRule } from "@/lib/findings/rules";
import { CSF_2_0, OWASP_NHI_2025, decisionMapping, findingMapping, inventoryMapping } from "./mappings";

describe("evidence mappings", () => {
  const legacy = findingRule("legacy-token");
  const secrets = findingRule("secrets-read");

  it("a revoke with a legacy token deleted evidences review, ownership, credentials, a tracked change and offboarding", () => {
    expect(decisionMapping({ decision: "revoke", findings: [legacy], hasCredentials: true, changedCluster: true, deletedLegacyTokens: true })).toEqual({
      csf: ["PR.AA-01", "PR.AA-05", "GV.RR-02", "ID.RA-07"],
      owasp: ["NHI1", "NHI7"],
    });
  });

  it("an approval without credentials or findings still evidences the review and the owner's responsibility", () => {
    expect(decisionMapping({ decision: "approve", findings: [], hasCredentials: false, changedCluster: false })).toEqual({ csf: ["PR.AA-05", "GV.RR-02"], owasp: [] });
  });

  it("a shrink carries its findings' mappings, deduplicated", () => {
    expect(decisionMapping({ decision: "shrink", findings: [secrets, findingRule("unused-permissions")], hasCredentials: false, changedCluster: true })).toEqual({
      csf: ["PR.AA-05", "GV.RR-02", "ID.RA-07"],
      owasp: ["NHI2", "NHI5"],
    });
  });

  it("inventory and finding rows", () => {
    expect(inventoryMapping({ findings: [findingRule("no-owner")], hasCredentials: true })).toEqual({ csf: ["PR.AA-01", "GV.RR-02", "ID.AM-08"], owasp: ["NHI1"] });
    expect(findingMapping(findingRule("human-use"), true)).toEqual({ csf: ["DE.CM-03", "ID.RA-07"], owasp: ["NHI10"] });
  });

  it("every code a mapping can produce has its official wording", () => {
    const all = [decisionMapping({ decision: "revoke", findings: [legacy, secrets, findingRule("human-use"), findingRule("no-owner")], hasCredentials: true, changedCluster: true, deletedLegacyTokens: true })];
    for (const mapping of all) {
      for (const code of mapping.csf) expect(CSF_2_0[code], code).toBeTruthy();
      for (const id of mapping.owasp) expect(OWASP_NHI_2025[id], id).toBeTruthy();
    }
  });
});
