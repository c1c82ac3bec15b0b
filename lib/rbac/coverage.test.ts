import { describe, expect, it } from "vitest";
import { breakdownRule, ruleCovers, uncoveredSubrules } from "./index";
import type { PolicyRule } from "./index";

describe("breakdownRule", () => {
  it("splits into one group × resource × verb × name each", () => {
    const subrules = breakdownRule({
      apiGroups: ["", "apps"],
      resources: ["pods", "deployments"],
      verbs: ["get", "update", "delete"],
      resourceNames: ["a", "b"],
    });
    expect(subrules).toHaveLength(2 * 2 * 3 * 2);
    expect(subrules[0]).toEqual({
      apiGroups: [""],
      resources: ["pods"],
      verbs: ["get"],
      resourceNames: ["a"],
    });
    expect(subrules[1]).toEqual({
      apiGroups: [""],
      resources: ["pods"],
      verbs: ["get"],
      resourceNames: ["b"],
    });
  });

  it("splits nonResourceURLs by verb only", () => {
    expect(breakdownRule({ nonResourceURLs: ["/healthz", "/version"], verbs: ["get", "head"] })).toEqual([
      { nonResourceURLs: ["/healthz"], verbs: ["get"] },
      { nonResourceURLs: ["/healthz"], verbs: ["head"] },
      { nonResourceURLs: ["/version"], verbs: ["get"] },
      { nonResourceURLs: ["/version"], verbs: ["head"] },
    ]);
  });

  it("yields nothing for a rule without apiGroups (it grants nothing either)", () => {
    expect(breakdownRule({ resources: ["pods"], verbs: ["get"] })).toEqual([]);
  });
});

const clusterAdmin: PolicyRule[] = [
  { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
  { nonResourceURLs: ["*"], verbs: ["*"] },
];

const coverageCases: Array<[string, PolicyRule[], PolicyRule[], number]> = [
  [
    "cluster-admin covers anything",
    clusterAdmin,
    [
      { apiGroups: ["apps"], resources: ["deployments/scale"], verbs: ["patch"], resourceNames: ["x"] },
      { nonResourceURLs: ["/metrics"], verbs: ["get"] },
    ],
    0,
  ],
  [
    "a * resource rule does not cover nonResourceURLs",
    [clusterAdmin[0]],
    [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }],
    1,
  ],
  [
    "verbs across several owner rules",
    [
      { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
    ],
    [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }],
    0,
  ],
  [
    "missing verb",
    [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }],
    [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }],
    2,
  ],
  [
    "requested * verb needs owner *",
    [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }],
    [{ apiGroups: [""], resources: ["pods"], verbs: ["*"] }],
    1,
  ],
  [
    "requested * group needs owner *",
    [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"] }],
    [{ apiGroups: ["*"], resources: ["deployments"], verbs: ["get"] }],
    1,
  ],
  [
    "requested * resource needs owner *",
    [{ apiGroups: [""], resources: ["pods", "secrets"], verbs: ["get"] }],
    [{ apiGroups: [""], resources: ["*"], verbs: ["get"] }],
    1,
  ],
  [
    "resource does not cover its subresource",
    [{ apiGroups: [""], resources: ["pods"], verbs: ["create"] }],
    [{ apiGroups: [""], resources: ["pods/exec"], verbs: ["create"] }],
    1,
  ],
  [
    "*/subresource covers resource/subresource",
    [{ apiGroups: ["apps"], resources: ["*/scale"], verbs: ["update"] }],
    [{ apiGroups: ["apps"], resources: ["deployments/scale", "statefulsets/scale"], verbs: ["update"] }],
    0,
  ],
  [
    "*/subresource does not cover the resource",
    [{ apiGroups: ["apps"], resources: ["*/scale"], verbs: ["update"] }],
    [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["update"] }],
    1,
  ],
  [
    "resource/* does not cover resource/subresource",
    [{ apiGroups: [""], resources: ["pods/*"], verbs: ["get"] }],
    [{ apiGroups: [""], resources: ["pods/log"], verbs: ["get"] }],
    1,
  ],
  [
    "owner without names covers named",
    [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }],
    [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"], resourceNames: ["a", "b"] }],
    0,
  ],
  [
    "owner names cover the same names",
    [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"], resourceNames: ["a", "b"] }],
    [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"], resourceNames: ["b"] }],
    0,
  ],
  [
    "owner names do not cover other names",
    [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"], resourceNames: ["a"] }],
    [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"], resourceNames: ["a", "c"] }],
    1,
  ],
  [
    "owner names do not cover all names",
    [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"], resourceNames: ["a"] }],
    [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }],
    1,
  ],
  [
    "nonResourceURL prefix covers longer paths",
    [{ nonResourceURLs: ["/apis/*"], verbs: ["get"] }],
    [{ nonResourceURLs: ["/apis/apps", "/apis/*"], verbs: ["get"] }],
    0,
  ],
  [
    "exact nonResourceURL does not cover a prefix",
    [{ nonResourceURLs: ["/apis"], verbs: ["get"] }],
    [{ nonResourceURLs: ["/apis/*"], verbs: ["get"] }],
    1,
  ],
  ["nothing owned", [], [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }], 2],
  ["nothing requested", [], [], 0],
];

describe("uncoveredSubrules (Covers)", () => {
  it.each(coverageCases)("%s", (_name, owner, requested, uncoveredCount) => {
    const uncovered = uncoveredSubrules(owner, requested);
    expect(uncovered).toHaveLength(uncoveredCount);
    for (const subrule of uncovered) expect(owner.some((rule) => ruleCovers(rule, subrule))).toBe(false);
  });

  it("returns the uncovered pieces, broken down", () => {
    const uncovered = uncoveredSubrules(
      [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }],
      [{ apiGroups: [""], resources: ["pods", "secrets"], verbs: ["get", "delete"] }],
    );
    expect(uncovered).toEqual([
      { apiGroups: [""], resources: ["pods"], verbs: ["delete"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["get"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["delete"] },
    ]);
  });
});
