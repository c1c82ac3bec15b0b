// The pure parts of the usage findings (unused, unused-permissions, human-use): the window, what counts as a
// human client, which source addresses are the cluster's own, and which grants an identity can give up.
import { BlockList, isIPv4, isIPv6 } from "node:net";
import type { EffectiveRule } from "@/lib/rbac";
import type { UsageRecord } from "@/lib/usage/types";

const DAY_MS = 86_400_000;

/**
 * The first day (UTC midnight) of a `days`-long window ending today: rollups are per UTC day, so the window is
 * whole days, today included.
 */
export function usageWindowStart(now: Date, days: number): Date {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(today - (days - 1) * DAY_MS);
}

/**
 * User agents of interactive clients: a person at a terminal or in a browser. client-go programs (controllers,
 * operators) send `<binary>/<version> (os/arch) kubernetes/<commit>`, so only kubectl's binary name counts.
 * curl and wget are left out on purpose: in-cluster init containers and scripts call the API with them and a
 * mounted token; curl from a laptop is still caught by the source address when the cluster's CIDRs are set.
 */
export const HUMAN_USER_AGENTS: readonly { client: string; pattern: RegExp }[] = [
  // kubectl, kubectl.exe on Windows, and old kubectl1.x builds.
  { client: "kubectl", pattern: /^kubectl[^/\s]*\//i },
  { client: "browser", pattern: /^Mozilla\// },
  { client: "k9s", pattern: /^k9s\//i },
  { client: "Lens", pattern: /^(open|free)?lens\//i },
  { client: "Postman", pattern: /^PostmanRuntime\//i },
  { client: "Insomnia", pattern: /^insomnia\//i },
];

/** The interactive client a user agent names, or null for programs. */
export function humanClient(userAgent: string): string | null {
  return HUMAN_USER_AGENTS.find(({ pattern }) => pattern.test(userAgent))?.client ?? null;
}

/** A test for "outside the cluster's networks", or null when no CIDR is configured (then nothing is outside). */
export function outsideCidrs(cidrs: readonly string[]): ((ip: string) => boolean) | null {
  if (cidrs.length === 0) return null;
  const inside = new BlockList();
  for (const cidr of cidrs) {
    const [network, prefix] = cidr.split("/");
    inside.addSubnet(network, Number(prefix), isIPv6(network) ? "ipv6" : "ipv4");
  }
  return (ip) => {
    // An unparseable address is not evidence of anything: the audit log wrote something odd, not an attacker.
    if (isIPv4(ip)) return !inside.check(ip, "ipv4");
    if (isIPv6(ip)) return !inside.check(ip, "ipv6");
    return false;
  };
}

/**
 * The grants an identity holds for itself: Kubernetes' own groups (system:authenticated, system:serviceaccounts,
 * system:serviceaccounts:<ns>) give every identity the same discovery and defaults, which no review of one identity
 * can take away, so they are neither "unused permissions" nor part of what a least-privilege role replaces.
 */
export function ownGrants(rules: readonly EffectiveRule[]): EffectiveRule[] {
  return rules.filter((grant) => !(grant.viaSubject.kind === "Group" && grant.viaSubject.name.startsWith("system:")));
}

/** One line per rule, as `kubectl describe role` would say it: `get,list core/secrets [a,b] in apps`. */
export function compactRule(grant: EffectiveRule): string {
  const { rule } = grant;
  const verbs = rule.verbs.join(",");
  const scope = grant.namespace === null ? "cluster-wide" : `in ${grant.namespace}`;
  if ((rule.nonResourceURLs ?? []).length > 0) return `${verbs} ${rule.nonResourceURLs!.join(",")}`;
  const targets = (rule.apiGroups ?? []).flatMap((group) => (rule.resources ?? []).map((resource) => `${group || "core"}/${resource}`));
  const names = (rule.resourceNames ?? []).length > 0 ? ` [${rule.resourceNames!.join(",")}]` : "";
  return `${verbs} ${targets.join(",")}${names} ${scope}`;
}

/** Where a grant comes from, for finding details: `RoleBinding apps/x → Role read-secrets`. */
export function grantProvenance(grant: EffectiveRule): { binding: string; role: string } {
  const ns = (namespace?: string) => (namespace ? `${namespace}/` : "");
  return {
    binding: `${grant.binding.kind} ${ns(grant.binding.namespace)}${grant.binding.name}`,
    role: `${grant.role.kind} ${ns(grant.role.namespace)}${grant.role.name}`,
  };
}

/** When, and from what, an identity was seen in the window: one row per distinct user agent or source address. */
export interface UsageSource {
  value: string;
  /** Requests of the rollup rows that carried it (a row keeps up to 10 agents and addresses, so an upper bound). */
  count: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/** What the usage findings know of one identity in the window. */
export interface IdentityUsageFacts {
  /** Allowed requests, aggregated over the window (denied ones used nothing). */
  records: UsageRecord[];
  userAgents: UsageSource[];
  sourceIps: UsageSource[];
  /** Users that made requests as the identity; their clients and addresses are not in the two lists above. */
  impersonators: UsageSource[];
}

export interface UsageInput {
  windowStart: Date;
  /** The cluster's first ingested event: before it, no absence of events means anything. */
  observedSince: Date | null;
  /** Identities with at least one event (allowed or denied) in the window. */
  byIdentity: ReadonlyMap<string, IdentityUsageFacts>;
}
