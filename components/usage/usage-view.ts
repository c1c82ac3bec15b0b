// The identity page's usage tab, shaped for display: which tab and window the URL asks for, and the
// used-vs-granted grid (the permission matrix, with each cell marked by what the audit events show).
import { z } from "zod";
import type { PermissionMatrix, PermissionMatrixRow, UsedPermissionMatrix } from "@/lib/permissions/identity-permissions";
import type { UsageRecord } from "@/lib/usage/types";

export const USAGE_WINDOWS = [7, 30, 90] as const;

const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);

/**
 * `?tab=` and `?days=` of the identity page. Anything unknown falls back to the overview tab and to the cluster's
 * usage window (days undefined): a stale or hand-edited link still opens the page rather than an error.
 */
export const identityPageParamsSchema = z.object({
  tab: z.preprocess(first, z.enum(["overview", "usage"]).catch("overview")),
  days: z.preprocess(first, z.enum(USAGE_WINDOWS.map(String) as ["7", "30", "90"]).transform(Number).optional()).catch(undefined),
});
export type IdentityPageParams = z.infer<typeof identityPageParamsSchema>;

/** Requests the cluster refused, per verb and resource (all namespaces together). */
export interface DeniedRequests {
  verb: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  count: number;
}

/**
 * - used: granted and requested (or a resource requested and allowed through a wildcard grant);
 * - unused: granted and never requested in the window — the access to take away;
 * - denied: requested and refused — the identity tries something it is not allowed.
 */
export type UsageCellState = "used" | "unused" | "denied";

export interface UsageCell {
  state: UsageCellState;
  allowed: number;
  denied: number;
}

export interface UsedVsGranted {
  /** The granted matrix plus a row for every requested resource it lacks, and every requested verb. */
  matrix: PermissionMatrix;
  /** `${row.key} ${verb}` → state; absent = neither granted nor requested. */
  cells: Map<string, UsageCell>;
  counts: Record<UsageCellState, number>;
}

export const usageCellKey = (rowKey: string, verb: string) => `${rowKey} ${verb}`;

function rowKeyOf(u: { apiGroup: string; resource: string; subresource: string }): string {
  return `${u.apiGroup || "core"}/${u.resource}${u.subresource ? `/${u.subresource}` : ""}`;
}

/**
 * The used-vs-granted grid: granted cells as the usage query marked them (used or unused, see markUsedCells),
 * plus the resources the identity requested without a grant of their own — allowed ones came through a
 * wildcard grant and show what it is really used for, refused ones are red.
 */
export function buildUsedVsGranted(granted: UsedPermissionMatrix, allowed: readonly UsageRecord[], denied: readonly DeniedRequests[]): UsedVsGranted {
  const rows = new Map<string, PermissionMatrixRow>(granted.rows.map((r) => [r.key, r]));
  const requested = new Map<string, { row: string; verb: string; allowed: number; denied: number }>();
  const request = (u: { verb: string; apiGroup: string; resource: string; subresource: string }) => {
    const row = rowKeyOf(u);
    if (!rows.has(row)) rows.set(row, { key: row, apiGroup: u.apiGroup, resource: u.resource, ...(u.subresource ? { subresource: u.subresource } : {}), cells: {} });
    const key = usageCellKey(row, u.verb);
    const entry = requested.get(key) ?? { row, verb: u.verb, allowed: 0, denied: 0 };
    requested.set(key, entry);
    return entry;
  };
  for (const r of allowed) if (!r.path && r.count > 0) request(r).allowed += r.count;
  for (const d of denied) if (d.count > 0) request(d).denied += d.count;

  const cells = new Map<string, UsageCell>();
  for (const row of granted.rows) {
    for (const [verb, cell] of Object.entries(row.cells)) {
      const refused = requested.get(usageCellKey(row.key, verb))?.denied ?? 0;
      cells.set(usageCellKey(row.key, verb), { state: cell.used ? "used" : refused ? "denied" : "unused", allowed: cell.requests, denied: refused });
    }
  }
  for (const [key, r] of requested) {
    if (cells.has(key)) continue;
    cells.set(key, { state: r.allowed > 0 ? "used" : "denied", allowed: r.allowed, denied: r.denied });
  }
  const counts: Record<UsageCellState, number> = { used: 0, unused: 0, denied: 0 };
  for (const cell of cells.values()) counts[cell.state] += 1;

  const states = new Map<string, Set<UsageCellState>>();
  for (const [key, cell] of cells) {
    const row = key.slice(0, key.lastIndexOf(" "));
    states.set(row, (states.get(row) ?? new Set()).add(cell.state));
  }
  const rank = (row: PermissionMatrixRow) => (states.get(row.key)?.has("denied") ? 0 : states.get(row.key)?.has("used") ? 1 : 2);

  const extraVerbs = [...new Set([...requested.values()].map((r) => r.verb))].filter((v) => !granted.verbs.includes(v)).sort();
  return {
    matrix: {
      verbs: [...granted.verbs, ...extraVerbs],
      // Refused first, then used, then the untouched grants: what needs a look is at the top of a long grid.
      rows: [...rows.values()].sort((a, b) => rank(a) - rank(b) || a.key.localeCompare(b.key)),
      nonResourceUrls: granted.nonResourceUrls,
    },
    cells,
    counts,
  };
}
