// Owner resolution, run by every analysis: a manual assignment always wins; otherwise the owner annotation, then
// the owner label on the identity (key from the cluster settings), then the first matching namespace rule.
import type { OwnerSource, PrismaClient } from "@/lib/db";
import { compareRules, teamForNamespace } from "./ownership-rules";
import { ensureTeams } from "./teams";

export interface OwnerInput {
  id: string;
  namespace: string;
  labels: unknown;
  annotations: unknown;
  ownerTeamId: string | null;
  ownerSource: OwnerSource | null;
}

export interface ResolvedOwner {
  teamId: string | null;
  source: OwnerSource | null;
}

function stringValue(map: unknown, key: string): string | undefined {
  if (typeof map !== "object" || map === null) return undefined;
  const value = (map as Record<string, unknown>)[key];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/** The annotation or label value naming the owner, if the identity carries one. */
export function declaredOwner(identity: OwnerInput, key: string): { value: string; source: OwnerSource } | null {
  const annotation = stringValue(identity.annotations, key);
  if (annotation) return { value: annotation, source: "annotation" };
  const label = stringValue(identity.labels, key);
  return label ? { value: label, source: "label" } : null;
}

type SortedRules = Parameters<typeof teamForNamespace>[0];

export function resolveOwner(
  identity: OwnerInput,
  context: { key: string; teamByValue: ReadonlyMap<string, string>; rules: SortedRules },
): ResolvedOwner {
  if (identity.ownerSource === "manual") return { teamId: identity.ownerTeamId, source: "manual" };
  const declared = declaredOwner(identity, context.key);
  const declaredTeam = declared ? context.teamByValue.get(declared.value) : undefined;
  if (declared && declaredTeam) return { teamId: declaredTeam, source: declared.source };
  const ruleTeam = teamForNamespace(context.rules, identity.namespace);
  return ruleTeam ? { teamId: ruleTeam, source: "namespaceRule" } : { teamId: null, source: null };
}

async function loadRules(db: PrismaClient, clusterId: string): Promise<SortedRules> {
  const rules = await db.ownershipRule.findMany({
    where: { OR: [{ clusterId }, { clusterId: null }] },
    select: { id: true, clusterId: true, priority: true, createdAt: true, namespacePattern: true, teamId: true },
  });
  return rules.sort(compareRules);
}

/** Everything owner resolution needs for a cluster, loaded once (teams named by annotations are created). */
export async function ownerResolutionContext(
  db: PrismaClient,
  clusterId: string,
  key: string,
  identities: readonly OwnerInput[],
) {
  const declaredValues = identities.flatMap((identity) => {
    if (identity.ownerSource === "manual") return [];
    const declared = declaredOwner(identity, key);
    return declared ? [declared.value] : [];
  });
  const [teamByValue, rules] = await Promise.all([ensureTeams(db, declaredValues), loadRules(db, clusterId)]);
  return { key, teamByValue, rules };
}

const UPDATE_CHUNK = 5000;

/**
 * Resolves the owner of every live identity of the cluster and writes the changes, grouped so that each
 * (team, source) pair is one statement. Returns identity id → owning team id.
 */
export async function resolveClusterOwners(
  db: PrismaClient,
  clusterId: string,
  ownerKey: string,
  identities: readonly OwnerInput[],
): Promise<Map<string, string | null>> {
  const context = await ownerResolutionContext(db, clusterId, ownerKey, identities);
  const owners = new Map<string, string | null>();
  const changes = new Map<string, { owner: ResolvedOwner; ids: string[] }>();
  for (const identity of identities) {
    const owner = resolveOwner(identity, context);
    owners.set(identity.id, owner.teamId);
    if (owner.teamId === identity.ownerTeamId && owner.source === identity.ownerSource) continue;
    const changeKey = `${owner.teamId ?? ""}\u0000${owner.source ?? ""}`;
    const change = changes.get(changeKey) ?? { owner, ids: [] };
    change.ids.push(identity.id);
    changes.set(changeKey, change);
  }
  for (const { owner, ids } of changes.values()) {
    for (let start = 0; start < ids.length; start += UPDATE_CHUNK) {
      await db.identity.updateMany({
        where: { id: { in: ids.slice(start, start + UPDATE_CHUNK) } },
        data: { ownerTeamId: owner.teamId, ownerSource: owner.source },
      });
    }
  }
  return owners;
}
