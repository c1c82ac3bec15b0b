// Owner resolution order and namespace rule matching, as pure functions (the database paths are covered by
// lib/findings/analyze-cluster.test.ts).
import { describe, expect, it } from "vitest";
import { compareRules, namespaceMatches, teamForNamespace } from "./ownership-rules";
import { declaredOwner, resolveOwner, type OwnerInput } from "./resolve-owners";
import { teamSlug } from "./teams";

const KEY = "keyward.io/owner";
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));
const rules = [
  { id: "global-team", clusterId: null, priority: 100, createdAt: at(0), namespacePattern: "team-*", teamId: "teams" },
  { id: "cluster-team", clusterId: "c1", priority: 100, createdAt: at(5), namespacePattern: "team-a*", teamId: "team-a" },
  { id: "urgent", clusterId: null, priority: 10, createdAt: at(9), namespacePattern: "team-a-prod", teamId: "prod" },
].sort(compareRules);

const identity = (overrides: Partial<OwnerInput>): OwnerInput => ({
  id: "i1",
  namespace: "team-a-dev",
  labels: {},
  annotations: {},
  ownerTeamId: null,
  ownerSource: null,
  ...overrides,
});
const context = { key: KEY, teamByValue: new Map([["payments", "t-payments"], ["Data Team", "t-data"]]), rules };

describe("namespace rules", () => {
  it("globs match whole names", () => {
    expect(namespaceMatches("team-*", "team-a")).toBe(true);
    expect(namespaceMatches("team-*", "my-team-a")).toBe(false);
    expect(namespaceMatches("team-?", "team-ab")).toBe(false);
    expect(namespaceMatches("kube.system", "kube-system")).toBe(false);
  });

  it("lowest priority number first, then a cluster's own rule before a global one", () => {
    expect(rules.map((rule) => rule.id)).toEqual(["urgent", "cluster-team", "global-team"]);
    expect(teamForNamespace(rules, "team-a-prod")).toBe("prod");
    expect(teamForNamespace(rules, "team-a-dev")).toBe("team-a");
    expect(teamForNamespace(rules, "team-b")).toBe("teams");
    expect(teamForNamespace(rules, "other")).toBeNull();
    expect(teamForNamespace(rules, "")).toBeNull();
  });
});

describe("resolveOwner", () => {
  it("manual wins, then the annotation, then the label, then namespace rules", () => {
    expect(resolveOwner(identity({ ownerSource: "manual", ownerTeamId: "t-x", annotations: { [KEY]: "payments" } }), context)).toEqual({ teamId: "t-x", source: "manual" });
    expect(resolveOwner(identity({ annotations: { [KEY]: "Data Team" }, labels: { [KEY]: "payments" } }), context)).toEqual({ teamId: "t-data", source: "annotation" });
    expect(resolveOwner(identity({ labels: { [KEY]: "payments" } }), context)).toEqual({ teamId: "t-payments", source: "label" });
    expect(resolveOwner(identity({ labels: { other: "payments" } }), context)).toEqual({ teamId: "team-a", source: "namespaceRule" });
    expect(resolveOwner(identity({ namespace: "elsewhere" }), context)).toEqual({ teamId: null, source: null });
  });

  it("reads only non-empty string values under the configured key", () => {
    expect(declaredOwner(identity({ annotations: { [KEY]: "  " }, labels: { [KEY]: "payments" } }), KEY)).toEqual({ value: "payments", source: "label" });
    expect(declaredOwner(identity({ annotations: { "example.com/team": "payments" } }), "example.com/team")).toEqual({ value: "payments", source: "annotation" });
    expect(declaredOwner(identity({ annotations: null }), KEY)).toBeNull();
  });

  it("team slugs are URL-safe", () => {
    expect(teamSlug(" Payments  Team! ")).toBe("payments-team");
  });
});
