// Teams own identities; their members are dashboard users.
import { z } from "zod";
import type { PrismaClient, Team } from "@/lib/db";

export function teamSlug(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

export const createTeamSchema = z.object({
  name: z.string().trim().min(1).max(100),
  slug: z
    .string()
    .trim()
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "lowercase letters, digits and dashes")
    .max(100)
    .optional(),
});

export async function createTeam(db: PrismaClient, input: z.input<typeof createTeamSchema>): Promise<Team> {
  const { name, slug } = createTeamSchema.parse(input);
  const finalSlug = slug ?? teamSlug(name);
  if (!finalSlug) throw new Error(`team name "${name}" gives an empty slug`);
  return db.team.create({ data: { name, slug: finalSlug } });
}

export async function listTeams(db: PrismaClient) {
  return db.team.findMany({
    orderBy: { name: "asc" },
    include: { _count: { select: { members: true, identities: true } } },
  });
}

export async function addTeamMember(db: PrismaClient, teamId: string, userId: string): Promise<void> {
  await db.teamMember.upsert({
    where: { teamId_userId: { teamId, userId } },
    create: { teamId, userId },
    update: {},
  });
}

export async function removeTeamMember(db: PrismaClient, teamId: string, userId: string): Promise<void> {
  await db.teamMember.deleteMany({ where: { teamId, userId } });
}

/**
 * The team each owner value names (a slug or a name, as written in an annotation), creating the teams that do
 * not exist yet in one statement. Returns value → team id.
 */
export async function ensureTeams(db: PrismaClient, values: readonly string[]): Promise<Map<string, string>> {
  const wanted = [...new Set(values.map((value) => value.trim()).filter((value) => teamSlug(value) !== ""))];
  const result = new Map<string, string>();
  if (wanted.length === 0) return result;
  const find = () =>
    db.team.findMany({
      where: { OR: [{ slug: { in: wanted.map(teamSlug) } }, { name: { in: wanted } }] },
      select: { id: true, name: true, slug: true },
    });
  let teams = await find();
  const match = (value: string) =>
    teams.find((team) => team.name === value) ?? teams.find((team) => team.slug === teamSlug(value));
  const missing = wanted.filter((value) => !match(value));
  if (missing.length > 0) {
    // Several values can share a slug ("Team A", "team-a"): the first one names the new team.
    const bySlug = new Map<string, string>();
    for (const value of missing) if (!bySlug.has(teamSlug(value))) bySlug.set(teamSlug(value), value);
    await db.team.createMany({
      data: [...bySlug].map(([slug, name]) => ({ slug, name })),
      skipDuplicates: true,
    });
    teams = await find();
  }
  for (const value of wanted) {
    const team = match(value);
    if (team) result.set(value, team.id);
  }
  return result;
}
