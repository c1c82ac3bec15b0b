// Namespace rules: a glob over namespace names → the team that owns the identities there, unless an identity
// names its owner itself or was assigned one by hand.
import { z } from "zod";
import type { OwnershipRule, PrismaClient } from "@/lib/db";

export const createOwnershipRuleSchema = z.object({
  clusterId: z.string().min(1).nullish(),
  namespacePattern: z
    .string()
    .trim()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9*?-]+$/, "namespace characters, * and ? only"),
  teamId: z.string().min(1),
  priority: z.number().int().min(0).max(10_000).default(100),
});

export async function createOwnershipRule(
  db: PrismaClient,
  input: z.input<typeof createOwnershipRuleSchema>,
): Promise<OwnershipRule> {
  const { clusterId, namespacePattern, teamId, priority } = createOwnershipRuleSchema.parse(input);
  return db.ownershipRule.create({ data: { clusterId: clusterId ?? null, namespacePattern, teamId, priority } });
}

/** The rules that apply to a cluster (its own and the global ones), in the order they are tried. */
export async function listOwnershipRules(db: PrismaClient, options: { clusterId?: string } = {}) {
  const rules = await db.ownershipRule.findMany({
    where: options.clusterId ? { OR: [{ clusterId: options.clusterId }, { clusterId: null }] } : {},
    include: { team: { select: { id: true, name: true, slug: true } } },
  });
  return rules.sort(compareRules);
}

export async function deleteOwnershipRule(db: PrismaClient, id: string): Promise<void> {
  await db.ownershipRule.deleteMany({ where: { id } });
}

type RuleOrderFields = Pick<OwnershipRule, "priority" | "clusterId" | "createdAt" | "id">;

/** Lowest priority number first; at equal priority a cluster's own rule before a global one; then oldest first. */
export function compareRules(a: RuleOrderFields, b: RuleOrderFields): number {
  return (
    a.priority - b.priority ||
    Number(a.clusterId === null) - Number(b.clusterId === null) ||
    a.createdAt.getTime() - b.createdAt.getTime() ||
    a.id.localeCompare(b.id)
  );
}

const globCache = new Map<string, RegExp>();

/** `*` matches any run of characters, `?` one character; the whole namespace name must match. */
export function namespaceMatches(pattern: string, namespace: string): boolean {
  let regex = globCache.get(pattern);
  if (!regex) {
    const body = pattern
      .split("")
      .map((char) => (char === "*" ? ".*" : char === "?" ? "." : char.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
      .join("");
    regex = new RegExp(`^${body}$`);
    globCache.set(pattern, regex);
  }
  return regex.test(namespace);
}

/** The team of the first rule (in `compareRules` order) whose pattern matches the namespace. */
export function teamForNamespace(
  sortedRules: readonly (RuleOrderFields & { namespacePattern: string; teamId: string })[],
  namespace: string,
): string | null {
  if (!namespace) return null;
  return sortedRules.find((rule) => namespaceMatches(rule.namespacePattern, namespace))?.teamId ?? null;
}
