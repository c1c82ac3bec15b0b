import { z } from "zod";
import type { PrismaClient } from "@/lib/db";
import { listIdentities, identityFilterSchema } from "@/lib/inventory/list-identities";
import { getIdentityDetail } from "@/lib/inventory/identity-detail";
import { identityScopeWhere, type Viewer } from "@/lib/inventory/scope";
import { getIdentityPermissions } from "@/lib/permissions/identity-permissions";
import { getIdentityLeastPrivilege, getIdentityUsage } from "@/lib/usage/queries";
import { ApiError } from "./errors";
import { apiRoute, endpoint } from "./route";

export const listIdentitiesQuery = identityFilterSchema.extend({
  cursor: z.string().min(1).max(200).optional().describe("nextCursor of the previous page"),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const identityIdParams = z.object({ id: z.string().min(1).max(64) });

const ownerOf = (identity: { ownerTeam: { id: string; name: string; slug: string } | null; ownerSource: string | null }) =>
  identity.ownerTeam ? { team: identity.ownerTeam, source: identity.ownerSource } : null;

/** Credentials and open findings of a page of identities, in two queries rather than one per row. */
async function credentialsAndFindings(db: PrismaClient, identityIds: string[]) {
  const [credentials, findings] = await Promise.all([
    db.credential.findMany({
      where: { identityId: { in: identityIds }, deletedAt: null },
      orderBy: [{ issuedAt: { sort: "asc", nulls: "last" } }, { id: "asc" }],
      select: { identityId: true, kind: true, namespace: true, name: true, issuedAt: true, expiresAt: true, lastUsedAt: true },
    }),
    db.finding.findMany({
      where: { identityId: { in: identityIds }, resolvedAt: null },
      orderBy: [{ severity: "desc" }, { type: "asc" }],
      select: { identityId: true, type: true, severity: true, title: true, owasp: true, csf: true, firstSeenAt: true, acceptedUntil: true },
    }),
  ]);
  const group = <T extends { identityId: string | null }>(rows: T[]) => {
    const byIdentity = new Map<string, Omit<T, "identityId">[]>();
    for (const { identityId, ...rest } of rows) if (identityId) (byIdentity.get(identityId) ?? byIdentity.set(identityId, []).get(identityId)!).push(rest);
    return byIdentity;
  };
  return { credentials: group(credentials), findings: group(findings) };
}

export const listIdentitiesEndpoint = endpoint({
  name: "identity.list",
  permission: "inventory:read",
  query: listIdentitiesQuery,
  async handler({ query, principal, db }) {
    const { cursor, limit, ...filter } = query;
    let page;
    try {
      page = await listIdentities(principal.user, filter, { cursor, limit });
    } catch (error) {
      if (error instanceof RangeError) throw new ApiError("invalid_request", "The cursor is not valid.", { cursor: [error.message] });
      throw error;
    }
    const related = await credentialsAndFindings(
      db,
      page.items.map((item) => item.id),
    );
    return {
      items: page.items.map((item) => ({
        id: item.id,
        cluster: item.cluster.name,
        clusterId: item.cluster.id,
        kind: item.kind,
        namespace: item.namespace,
        name: item.name,
        username: item.username,
        owner: ownerOf(item),
        maxSeverity: item.maxSeverity,
        hasLegacyToken: item.hasLegacyToken,
        oldestCredentialAt: item.oldestCredentialAt,
        lastSeenAt: item.lastSeenAt,
        lastUsedAt: item.lastUsedAt,
        deletedAt: item.deletedAt,
        credentials: related.credentials.get(item.id) ?? [],
        findings: related.findings.get(item.id) ?? [],
      })),
      nextCursor: page.nextCursor ?? null,
    };
  },
});

export const getIdentityEndpoint = endpoint({
  name: "identity.get",
  permission: "inventory:read",
  params: identityIdParams,
  async handler({ params, principal, db }) {
    // Scoped by role: an identity the caller may not see is answered exactly like one that does not exist.
    const detail = await getIdentityDetail(principal.user, params.id);
    if (!detail) throw new ApiError("not_found", "No such identity.");
    const permissions = await getIdentityPermissions(db, detail.id);
    return {
      id: detail.id,
      cluster: detail.cluster.name,
      clusterId: detail.cluster.id,
      kind: detail.kind,
      namespace: detail.namespace,
      name: detail.name,
      username: detail.username,
      uid: detail.uid,
      groups: detail.groups,
      labels: detail.labels,
      annotations: detail.annotations,
      automountToken: detail.automountToken,
      owner: ownerOf(detail),
      createdInClusterAt: detail.createdInClusterAt,
      firstSeenAt: detail.firstSeenAt,
      lastSeenAt: detail.lastSeenAt,
      lastUsedAt: detail.lastUsedAt,
      deletedAt: detail.deletedAt,
      credentials: detail.credentials.map(({ id, kind, namespace, name, issuedAt, expiresAt, lastUsedAt, fingerprint, deletedAt }) => ({
        id,
        kind,
        namespace,
        name,
        issuedAt,
        expiresAt,
        lastUsedAt,
        fingerprint,
        deletedAt,
      })),
      workloads: detail.workloads,
      findings: detail.findings.map(({ id, type, severity, title, owasp, csf, state, firstSeenAt, resolvedAt, acceptedUntil, details }) => ({
        id,
        type,
        severity,
        title,
        owasp,
        csf,
        state,
        firstSeenAt,
        resolvedAt,
        acceptedUntil,
        details,
      })),
      permissions: {
        rules: (permissions?.rules ?? []).map(({ rule, namespace, binding, role }) => ({ rule, namespace, binding, role })),
        matrix: permissions?.matrix ?? null,
      },
    };
  },
});

/** The usage window: the cluster's (usageWindowDays) when not given; rollups are kept 400 days by default. */
const usageDays = z.coerce.number().int().min(1).max(3650).optional().describe("window in days, today included; default the cluster's usage window (90)");

export const identityUsageQuery = z.object({ days: usageDays });
export const leastPrivilegeQuery = z.object({
  days: usageDays,
  format: z.enum(["json", "yaml"]).default("json").describe("yaml: the role and bindings as a file to `kubectl apply -f`"),
});

/** The same visibility as the identity itself: an identity the caller may not see does not exist for it. */
async function requireVisibleIdentity(db: PrismaClient, user: Viewer, id: string): Promise<void> {
  const visible = await db.identity.findFirst({ where: { AND: [{ id }, identityScopeWhere(user)] }, select: { id: true } });
  if (!visible) throw new ApiError("not_found", "No such identity.");
}

export const identityUsageEndpoint = endpoint({
  name: "identity.usage",
  permission: "inventory:read",
  params: identityIdParams,
  query: identityUsageQuery,
  async handler({ params, query, principal, db }) {
    await requireVisibleIdentity(db, principal.user, params.id);
    return getIdentityUsage(db, params.id, { days: query.days });
  },
});

export const leastPrivilegeEndpoint = endpoint({
  name: "identity.least_privilege",
  permission: "inventory:read",
  params: identityIdParams,
  query: leastPrivilegeQuery,
  async handler({ params, query, principal, db }) {
    await requireVisibleIdentity(db, principal.user, params.id);
    const result = await getIdentityLeastPrivilege(db, params.id, { days: query.days });
    const summary = (grants: typeof result.kept) => grants.map(({ rule, namespace, binding, role }) => ({ rule, namespace, binding, role }));
    const { name, clusterRoles, roles, clusterRoleBindings, roleBindings, yaml } = result.role;
    return {
      days: result.days,
      since: result.since,
      observedSince: result.observedSince,
      covered: result.covered,
      role: { name, clusterRoles, roles, clusterRoleBindings, roleBindings, yaml },
      kept: summary(result.kept),
      removed: summary(result.removed),
    };
  },
});

/**
 * GET /api/v1/identities/{id}/least-privilege: JSON, or with `format=yaml` the generated objects as a download.
 * The wrapper answers (and authenticates, validates, scopes) as for JSON; only a success becomes the YAML file.
 */
export function leastPrivilegeRoute(route = apiRoute(leastPrivilegeEndpoint)) {
  return async (request: Request, context?: Parameters<typeof route>[1]): Promise<Response> => {
    const response = await route(request, context);
    if (!response.ok || new URL(request.url).searchParams.get("format") !== "yaml") return response;
    const body = (await response.json()) as { role: { name: string; yaml: string } };
    return new Response(body.role.yaml, {
      headers: {
        "content-type": "application/yaml; charset=utf-8",
        "content-disposition": `attachment; filename="${body.role.name}.yaml"`,
      },
    });
  };
}
