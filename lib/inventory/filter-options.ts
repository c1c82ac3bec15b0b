import { getPrisma } from "@/lib/db";
import type { Viewer } from "./scope";

/** Choices for the inventory's filter controls. Owners are offered only their own teams. */
export async function getFilterOptions(user: Viewer) {
  const db = getPrisma();
  const [clusters, teams, findingTypes] = await Promise.all([
    db.cluster.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true } }),
    db.team.findMany({
      where: user.role === "owner" ? { members: { some: { userId: user.id } } } : {},
      orderBy: { name: "asc" },
      select: { id: true, name: true, slug: true },
    }),
    db.finding.findMany({ distinct: ["type"], orderBy: { type: "asc" }, select: { type: true, title: true } }),
  ]);
  return { clusters, teams, findingTypes };
}
