import { describe, expect, it } from "vitest";
import { buildPermissionMatrix, markUsedCells } from "@/lib/permissions/identity-permissions";
import type { EffectiveRule, PolicyRule } from "@/lib/rbac";
import type { UsageRecord } from "@/lib/usage/types";
import { buildUsedVsGranted, identityPageParamsSchema, usageCellKey, type DeniedRequests } from "./usage-view";

function grant(rule: PolicyRule, namespace: string | null): EffectiveRule {
  return {
    rule,
    namespace,
    viaSubject: { kind: "ServiceAccount", name: "api", namespace: "payments" },
    binding: namespace === null ? { kind: "ClusterRoleBinding", name: "b" } : { kind: "RoleBinding", namespace, name: "b" },
    role: { kind: "ClusterRole", name: "r" },
  };
}

function used(verb: string, resource: string, count: number, namespace = "payments", apiGroup = "", subresource = ""): UsageRecord {
  return { verb, apiGroup, resource, subresource, namespace, path: "", resourceNames: [], resourceNamesComplete: false, count };
}
const refused = (verb: string, resource: string, count: number, apiGroup = "", subresource = ""): DeniedRequests => ({ verb, apiGroup, resource, subresource, count });

function view(grants: EffectiveRule[], records: UsageRecord[], denied: DeniedRequests[] = []) {
  return buildUsedVsGranted(markUsedCells(buildPermissionMatrix(grants), records), records, denied);
}

describe("identityPageParamsSchema", () => {
  it("reads the tab and the window, the first of repeated parameters", () => {
    expect(identityPageParamsSchema.parse({ tab: "usage", days: "7" })).toEqual({ tab: "usage", days: 7 });
    expect(identityPageParamsSchema.parse({ tab: ["usage", "overview"], days: ["90", "7"] })).toEqual({ tab: "usage", days: 90 });
  });

  it("falls back to the overview tab and the cluster's window for anything else", () => {
    expect(identityPageParamsSchema.parse({})).toEqual({ tab: "overview" });
    expect(identityPageParamsSchema.parse({ tab: "secrets", days: "13" })).toEqual({ tab: "overview", days: undefined });
    expect(identityPageParamsSchema.parse({ tab: "usage", days: "-1" })).toEqual({ tab: "usage", days: undefined });
  });
});

describe("buildUsedVsGranted", () => {
  it("marks granted cells used or unused, adds refused requests in red and rows for resources it was never granted", () => {
    const grid = view(
      [grant({ verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] }, "payments"), grant({ verbs: ["get"], apiGroups: [""], resources: ["secrets"] }, "payments")],
      [used("get", "pods", 5)],
      [refused("list", "secrets", 2), refused("get", "configmaps", 1)],
    );
    // Rows with refused requests first, then used ones, then untouched grants.
    expect(grid.matrix.rows.map((r) => r.key)).toEqual(["core/configmaps", "core/secrets", "core/pods"]);
    expect(grid.cells.get(usageCellKey("core/pods", "get"))).toEqual({ state: "used", allowed: 5, denied: 0 });
    expect(grid.cells.get(usageCellKey("core/pods", "list"))).toEqual({ state: "unused", allowed: 0, denied: 0 });
    expect(grid.cells.get(usageCellKey("core/secrets", "get"))?.state).toBe("unused");
    expect(grid.cells.get(usageCellKey("core/secrets", "list"))).toEqual({ state: "denied", allowed: 0, denied: 2 });
    expect(grid.cells.get(usageCellKey("core/configmaps", "get"))).toEqual({ state: "denied", allowed: 0, denied: 1 });
    expect(grid.cells.has(usageCellKey("core/configmaps", "list"))).toBe(false);
    expect(grid.counts).toEqual({ used: 1, unused: 2, denied: 2 });
  });

  it("shows what a wildcard grant is really used for, and appends verbs nobody granted", () => {
    const grid = view(
      [grant({ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }, null)],
      [used("get", "pods", 3), used("update", "deployments", 1, "shop", "apps", "scale")],
      [refused("frobnicate", "widgets", 4, "example.com")],
    );
    expect(grid.matrix.verbs.at(-1)).toBe("frobnicate");
    expect(grid.cells.get(usageCellKey("*/*", "*"))).toMatchObject({ state: "used", allowed: 4 });
    expect(grid.cells.get(usageCellKey("core/pods", "get"))).toEqual({ state: "used", allowed: 3, denied: 0 });
    expect(grid.cells.get(usageCellKey("apps/deployments/scale", "update"))).toEqual({ state: "used", allowed: 1, denied: 0 });
    expect(grid.cells.get(usageCellKey("example.com/widgets", "frobnicate"))?.state).toBe("denied");
  });

  it("keeps a grant unused when the request was refused on it (another namespace), and shows the refusal", () => {
    const grid = view([grant({ verbs: ["get"], apiGroups: [""], resources: ["secrets"] }, "ci")], [], [refused("get", "secrets", 3)]);
    expect(grid.cells.get(usageCellKey("core/secrets", "get"))).toEqual({ state: "denied", allowed: 0, denied: 3 });
    expect(grid.counts).toEqual({ used: 0, unused: 0, denied: 1 });
  });
});
