import { describe, expect, it } from "vitest";
import { labelSelectorError, labelSelectorMatches } from "./index";
import type { LabelSelector } from "./index";

const labels = { app: "web", tier: "frontend", "rbac.example.com/aggregate": "true" };

const cases: Array<[string, LabelSelector, Record<string, string> | undefined, boolean]> = [
  ["empty selector matches everything", {}, labels, true],
  ["empty selector matches no labels", {}, undefined, true],
  ["matchLabels equal", { matchLabels: { app: "web" } }, labels, true],
  ["matchLabels all must match", { matchLabels: { app: "web", tier: "backend" } }, labels, false],
  ["matchLabels missing key", { matchLabels: { team: "a" } }, labels, false],
  ["matchLabels against no labels", { matchLabels: { app: "web" } }, undefined, false],
  [
    "In",
    { matchExpressions: [{ key: "tier", operator: "In", values: ["frontend", "backend"] }] },
    labels,
    true,
  ],
  [
    "In other values",
    { matchExpressions: [{ key: "tier", operator: "In", values: ["backend"] }] },
    labels,
    false,
  ],
  ["In missing key", { matchExpressions: [{ key: "team", operator: "In", values: ["a"] }] }, labels, false],
  ["NotIn", { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["backend"] }] }, labels, true],
  [
    "NotIn listed value",
    { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["frontend"] }] },
    labels,
    false,
  ],
  [
    "NotIn missing key matches",
    { matchExpressions: [{ key: "team", operator: "NotIn", values: ["a"] }] },
    labels,
    true,
  ],
  ["Exists", { matchExpressions: [{ key: "app", operator: "Exists" }] }, labels, true],
  ["Exists missing", { matchExpressions: [{ key: "team", operator: "Exists" }] }, labels, false],
  ["DoesNotExist", { matchExpressions: [{ key: "team", operator: "DoesNotExist" }] }, labels, true],
  ["DoesNotExist present", { matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, labels, false],
  [
    "matchLabels and matchExpressions are ANDed",
    { matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["backend"] }] },
    labels,
    false,
  ],
  [
    "invalid: In without values matches nothing",
    { matchExpressions: [{ key: "app", operator: "In", values: [] }] },
    labels,
    false,
  ],
  [
    "invalid: Exists with values matches nothing",
    { matchExpressions: [{ key: "app", operator: "Exists", values: ["web"] }] },
    labels,
    false,
  ],
];

describe("labelSelectorMatches", () => {
  it.each(cases)("%s", (_name, selector, subject, expected) => {
    expect(labelSelectorMatches(selector, subject)).toBe(expected);
  });

  it("explains invalid selectors", () => {
    expect(labelSelectorError({ matchExpressions: [{ key: "a", operator: "NotIn" }] })).toMatch(
      /can't be empty/,
    );
    expect(
      labelSelectorError({ matchExpressions: [{ key: "a", operator: "DoesNotExist", values: ["x"] }] }),
    ).toMatch(/must be empty/);
    const bogus = {
      matchExpressions: [{ key: "a", operator: "Gt", values: ["1"] }],
    } as unknown as LabelSelector;
    expect(labelSelectorError(bogus)).toMatch(/not a valid label selector operator/);
    expect(labelSelectorMatches(bogus, { a: "2" })).toBe(false);
    expect(labelSelectorError({ matchLabels: { a: "b" } })).toBeNull();
  });
});
