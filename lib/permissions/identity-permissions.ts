// An identity's effective permissions for the identity page and the API: every rule with its provenance, and a
// resources × verbs matrix saying where each verb is granted (cluster-wide or in which namespaces).
import type { EffectiveRule, PolicyRule } from "@/lib/rbac";
import type { PrismaClient } from "@/lib/db";
import { ruleUsedBy } from "@/lib/usage/grant-usage";
import type { UsageRecord } from "@/lib/usage/types";
import { loadClusterPolicy } from "./cluster-policy";

/** The verbs the matrix always shows, in kubectl's order; any other granted verb is appended. */
export const STANDARD_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];

export interface PermissionCell {
  /** Granted in every namespace and for cluster-scoped objects (through a ClusterRoleBinding). */
  clusterWide: boolean;
  /** Namespaces where a RoleBinding grants it. */
  namespaces: string[];
  /** True when every grant of this cell is limited to named objects (resourceNames). */
  limitedByResourceNames: boolean;
  resourceNames: string[];
}

export interface PermissionMatrixRow {
  /** `apiGroup/resource[/subresource]`, "" group written as "core". */
  key: string;
  apiGroup: string;
  resource: string;
  subresource?: string;
  cells: Record<string, PermissionCell>;
}

export interface PermissionMatrix {
  verbs: string[];
  rows: PermissionMatrixRow[];
  /** Non-resource URLs (only ClusterRoleBindings grant them): path → verbs. */
  nonResourceUrls: { path: string; verbs: string[] }[];
}

export interface IdentityPermissions {
  rules: EffectiveRule[];
  matrix: PermissionMatrix;
}

function rowKey(apiGroup: string, resource: string): string {
  return `${apiGroup || "core"}/${resource}`;
}

function addGrant(cell: PermissionCell, rule: PolicyRule, namespace: string | null): void {
  const names = rule.resourceNames ?? [];
  // A cell is limited only while all of its grants are; one unrestricted grant lifts the limit.
  const wasEmpty = !cell.clusterWide && cell.namespaces.length === 0;
  cell.limitedByResourceNames = names.length > 0 && (wasEmpty || cell.limitedByResourceNames);
  if (names.length > 0) for (const name of names) if (!cell.resourceNames.includes(name)) cell.resourceNames.push(name);
  if (namespace === null) cell.clusterWide = true;
  else if (!cell.namespaces.includes(namespace)) cell.namespaces.push(namespace);
}

export function buildPermissionMatrix(rules: readonly EffectiveRule[]): PermissionMatrix {
  const rows = new Map<string, PermissionMatrixRow>();
  const verbs = new Set<string>();
  const nonResource = new Map<string, Set<string>>();
  for (const { rule, namespace } of rules) {
    for (const url of rule.nonResourceURLs ?? []) {
      const granted = nonResource.get(url) ?? new Set<string>();
      for (const verb of rule.verbs) granted.add(verb);
      nonResource.set(url, granted);
    }
    for (const apiGroup of rule.apiGroups ?? []) {
      for (const combined of rule.resources ?? []) {
        const [resource, subresource] = combined.split("/", 2);
        const key = rowKey(apiGroup, combined);
        let row = rows.get(key);
        if (!row) {
          row = { key, apiGroup, resource, ...(subresource ? { subresource } : {}), cells: {} };
          rows.set(key, row);
        }
        for (const verb of rule.verbs) {
          verbs.add(verb);
          row.cells[verb] ??= { clusterWide: false, namespaces: [], limitedByResourceNames: false, resourceNames: [] };
          addGrant(row.cells[verb], rule, namespace);
        }
      }
    }
  }
  for (const row of rows.values()) for (const cell of Object.values(row.cells)) cell.namespaces.sort();
  const extraVerbs = [...verbs].filter((verb) => !STANDARD_VERBS.includes(verb)).sort();
  return {
    verbs: [...STANDARD_VERBS, ...extraVerbs],
    rows: [...rows.values()].sort((a, b) => a.key.localeCompare(b.key)),
    nonResourceUrls: [...nonResource.entries()]
      .map(([path, granted]) => ({ path, verbs: [...granted].sort() }))
      .sort((a, b) => a.path.localeCompare(b.path)),
  };
}

export interface UsedPermissionCell extends PermissionCell {
  /** Some allowed request of the window falls under this cell. */
  used: boolean;
  requests: number;
}

export interface UsedPermissionMatrix {
  verbs: string[];
  rows: (Omit<PermissionMatrixRow, "cells"> & { cells: Record<string, UsedPermissionCell> })[];
  nonResourceUrls: { path: string; verbs: string[]; usedVerbs: string[] }[];
}

/** Requests (allowed, in the window) that this cell could have let through: its verb, resource, scope and names. */
function cellRequests(row: PermissionMatrixRow, verb: string, cell: PermissionCell, records: readonly UsageRecord[]): number {
  const rule: PolicyRule = {
    verbs: [verb],
    apiGroups: [row.apiGroup],
    resources: [row.subresource ? `${row.resource}/${row.subresource}` : row.resource],
    ...(cell.limitedByResourceNames ? { resourceNames: cell.resourceNames } : {}),
  };
  const scopes = cell.clusterWide ? [null] : cell.namespaces;
  return records.reduce((sum, record) => (scopes.some((scope) => ruleUsedBy(rule, scope, [record])) ? sum + record.count : sum), 0);
}

/** The matrix with every granted cell marked used or unused by a window's requests (lib/usage/queries.ts). */
export function markUsedCells(matrix: PermissionMatrix, records: readonly UsageRecord[]): UsedPermissionMatrix {
  return {
    verbs: matrix.verbs,
    rows: matrix.rows.map((row) => ({
      ...row,
      cells: Object.fromEntries(
        Object.entries(row.cells).map(([verb, cell]) => {
          const requests = cellRequests(row, verb, cell, records);
          return [verb, { ...cell, used: requests > 0, requests }];
        }),
      ),
    })),
    nonResourceUrls: matrix.nonResourceUrls.map((entry) => ({
      ...entry,
      usedVerbs: entry.verbs.filter((verb) => ruleUsedBy({ verbs: [verb], nonResourceURLs: [entry.path] }, null, records)),
    })),
  };
}

/** Null when the identity does not exist. */
export async function getIdentityPermissions(
  db: PrismaClient,
  identityId: string,
): Promise<IdentityPermissions | null> {
  const identity = await db.identity.findUnique({
    where: { id: identityId },
    select: { clusterId: true, kind: true, namespace: true, name: true, username: true, groups: true },
  });
  if (!identity) return null;
  const policy = await loadClusterPolicy(db, identity.clusterId);
  const rules = policy.effectiveRules(identity);
  return { rules, matrix: buildPermissionMatrix(rules) };
}
