import { describe, expect, it } from "vitest";
import { aggregateClusterRoles, clusterRoleRulesChanged, policyRulesEqual } from "./index";
import type { ClusterRole, PolicyRule } from "./index";

const getPods: PolicyRule = { apiGroups: [""], resources: ["pods"], verbs: ["get"] };
const listPods: PolicyRule = { apiGroups: [""], resources: ["pods"], verbs: ["list"] };
const getDeployments: PolicyRule = { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"] };
const createSecrets: PolicyRule = { apiGroups: [""], resources: ["secrets"], verbs: ["create"] };

function clusterRole(
  name: string,
  labels: Record<string, string>,
  rules: PolicyRule[] | null,
  aggregateLabels?: Array<Record<string, string>>,
): ClusterRole {
  return {
    metadata: { name, labels },
    rules,
    ...(aggregateLabels
      ? { aggregationRule: { clusterRoleSelectors: aggregateLabels.map((matchLabels) => ({ matchLabels })) } }
      : {}),
  };
}

function byName(roles: ClusterRole[], name: string): ClusterRole {
  const role = roles.find((candidate) => candidate.metadata.name === name);
  if (!role) throw new Error(`no ClusterRole ${name}`);
  return role;
}

describe("aggregateClusterRoles", () => {
  it("unions the selected roles' rules in name order, deduplicated, excluding itself", () => {
    const input = [
      clusterRole("z-extra", { agg: "yes" }, [getDeployments, getPods]),
      clusterRole("a-base", { agg: "yes" }, [getPods, listPods]),
      clusterRole("unlabelled", {}, [createSecrets]),
      clusterRole("aggregate", { agg: "yes" }, [createSecrets], [{ agg: "yes" }]),
    ];
    const output = aggregateClusterRoles(input);
    expect(byName(output, "aggregate").rules).toEqual([getPods, listPods, getDeployments]);
    expect(output.map((role) => role.metadata.name)).toEqual(input.map((role) => role.metadata.name));
    // Non-aggregated roles are passed through; the input is not modified.
    expect(byName(output, "a-base")).toBe(input[1]);
    expect(input[3].rules).toEqual([createSecrets]);
    expect(byName(output, "aggregate")).not.toBe(input[3]);
    expect(clusterRoleRulesChanged(input[3], byName(output, "aggregate"))).toBe(true);
  });

  it("goes selector by selector", () => {
    const output = aggregateClusterRoles([
      clusterRole("a", { first: "x" }, [getPods]),
      clusterRole("b", { second: "x" }, [createSecrets]),
      clusterRole("c", { first: "x", second: "x" }, [listPods, createSecrets]),
      clusterRole("agg", {}, null, [{ second: "x" }, { first: "x" }]),
    ]);
    expect(byName(output, "agg").rules).toEqual([createSecrets, listPods, getPods]);
  });

  it("resolves chains like admin ← edit ← view whatever the input order", () => {
    const input = [
      clusterRole("admin", {}, null, [{ "to-admin": "true" }]),
      clusterRole("edit", { "to-admin": "true" }, null, [{ "to-edit": "true" }]),
      clusterRole("view", { "to-edit": "true" }, null, [{ "to-view": "true" }]),
      clusterRole("admin-extra", { "to-admin": "true" }, [createSecrets]),
      clusterRole("edit-extra", { "to-edit": "true" }, [getDeployments]),
      clusterRole("view-extra", { "to-view": "true" }, [getPods]),
    ];
    const output = aggregateClusterRoles(input);
    expect(byName(output, "view").rules).toEqual([getPods]);
    expect(byName(output, "edit").rules).toEqual([getDeployments, getPods]);
    // Selected roles in name order: admin-extra, then edit (already aggregated).
    expect(byName(output, "admin").rules).toEqual([createSecrets, getDeployments, getPods]);
  });

  it("terminates on selector cycles", () => {
    const output = aggregateClusterRoles([
      clusterRole("a", { ring: "x" }, [getPods], [{ ring: "x" }]),
      clusterRole("b", { ring: "x" }, [listPods], [{ ring: "x" }]),
      clusterRole("c", { ring: "x" }, [createSecrets]),
    ]);
    for (const role of output) expect(role.rules?.length).toBeGreaterThan(0);
    expect(byName(output, "c").rules).toEqual([createSecrets]);
  });

  it("replaces stored rules, and empties them when nothing is selected", () => {
    const output = aggregateClusterRoles([clusterRole("agg", {}, [getPods], [{ none: "x" }])]);
    expect(output[0].rules ?? []).toEqual([]);
  });

  it("leaves a role with an invalid selector as it is (the controller fails to sync it)", () => {
    const broken: ClusterRole = {
      metadata: { name: "broken" },
      rules: [getPods],
      aggregationRule: {
        clusterRoleSelectors: [{ matchExpressions: [{ key: "x", operator: "In", values: [] }] }],
      },
    };
    const output = aggregateClusterRoles([broken, clusterRole("other", { x: "y" }, [listPods])]);
    expect(output[0].rules).toEqual([getPods]);
    expect(clusterRoleRulesChanged(broken, output[0])).toBe(false);
  });

  it("treats aggregationRule: null as no aggregation", () => {
    const role: ClusterRole = { metadata: { name: "plain" }, rules: [getPods], aggregationRule: null };
    expect(aggregateClusterRoles([role])[0]).toBe(role);
  });
});

describe("policyRulesEqual", () => {
  it("treats missing and empty lists alike, and order as significant", () => {
    expect(policyRulesEqual(null, [])).toBe(true);
    expect(
      policyRulesEqual(
        [{ verbs: ["get"], apiGroups: [""], resources: ["pods"], resourceNames: [] }],
        [getPods],
      ),
    ).toBe(true);
    expect(policyRulesEqual([getPods, listPods], [listPods, getPods])).toBe(false);
    expect(
      policyRulesEqual([{ ...getPods, verbs: ["get", "list"] }], [{ ...getPods, verbs: ["list", "get"] }]),
    ).toBe(false);
  });
});
