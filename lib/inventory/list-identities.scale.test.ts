import { beforeAll, expect, it } from "vitest";
import { setupTestDatabase } from "@/lib/testing/database";
import { identityFilterSchema, listIdentities } from "./list-identities";
import { getInventoryOverview } from "./overview";

// Many identities, to see that the inventory's queries stay on indexes and denormalised columns. Timings and a
// query plan are printed, not asserted (CI machines are shared and loaded); the answers are asserted.
// CI runs 20k to stay fast; `KEYWARD_SCALE_IDENTITIES=100000 npx vitest run lib/inventory` measures the target.
const database = setupTestDatabase();
const COUNT = Math.max(1000, Math.round(Number(process.env.KEYWARD_SCALE_IDENTITIES ?? 20_000) / 1000) * 1000);
const admin = { id: "u-admin", role: "admin" as const };
const owner = { id: "u-owner", role: "owner" as const };

beforeAll(async () => {
  const db = database.prisma;
  await db.user.createMany({ data: [{ id: admin.id, email: "a@x.test", name: "a", role: "admin" }, { id: owner.id, email: "o@x.test", name: "o", role: "owner" }] });
  await db.cluster.create({ data: { id: "c1", name: "big", apiServerUrl: "https://big" } });
  await db.$executeRawUnsafe(`INSERT INTO "Team" ("id", "name", "slug") SELECT 'team-' || t, 'Team ' || t, 'team-' || t FROM generate_series(0, 49) t`);
  await db.teamMember.create({ data: { teamId: "team-7", userId: owner.id } });
  // Every 10th identity has no owner; severities cycle; one in 7 has a legacy token; credential ages spread over 2 years.
  await db.$executeRawUnsafe(`
    INSERT INTO "Identity" ("id", "clusterId", "kind", "namespace", "name", "username", "ownerTeamId", "ownerSource",
      "maxSeverity", "openFindingCount", "hasLegacyToken", "oldestCredentialAt", "firstSeenAt", "lastSeenAt")
    SELECT 'id-' || g, 'c1', 'ServiceAccount', 'ns-' || (g % 500), 'sa-' || g, 'system:serviceaccount:ns-' || (g % 500) || ':sa-' || g,
      CASE WHEN g % 10 = 0 THEN NULL ELSE 'team-' || (g % 50) END,
      CASE WHEN g % 10 = 0 THEN NULL ELSE 'annotation'::"OwnerSource" END,
      (ARRAY[NULL, 'info', 'low', 'medium', 'high', 'critical'])[(g % 6) + 1]::"Severity",
      g % 6, g % 7 = 0, now() - ((g % 730) || ' days')::interval, now(), now()
    FROM generate_series(1, ${COUNT}) g`);
  await db.$executeRawUnsafe(`ANALYZE "Identity"`);
});

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await run();
  console.log(`${label}: ${(performance.now() - started).toFixed(1)} ms`);
  return result;
}

it(`answers filtered, sorted pages over ${COUNT} identities`, async () => {
  const page = { page: 1, pageSize: 50 };
  // The first query pays for the connection and the query compiler's start-up: not what a user waits for.
  await timed("warm-up", () => listIdentities(admin, identityFilterSchema.parse({ kind: "Group" }), page));
  const first = await timed("default page (severity desc) with total", () => listIdentities(admin, identityFilterSchema.parse({}), page));
  expect(first.total).toBe(COUNT);
  expect(first.items[0]!.maxSeverity).toBe("critical");

  const critical = await timed("severity>=critical, legacy token, ns-5", () =>
    listIdentities(admin, identityFilterSchema.parse({ severity: "critical", hasLegacyToken: "true", namespace: "ns-5" }), page),
  );
  expect(critical.items.every((i) => i.maxSeverity === "critical" && i.hasLegacyToken && i.namespace === "ns-5")).toBe(true);

  const old = await timed("credential older than a year, unowned, by name", () =>
    listIdentities(admin, identityFilterSchema.parse({ credentialAgeDays: "365", owner: "unowned", sort: "name" }), page),
  );
  expect(old.total).toBeGreaterThan(0);
  expect(old.items.every((i) => i.ownerTeam === null)).toBe(true);

  const search = await timed("free text 'sa-4242'", () => listIdentities(admin, identityFilterSchema.parse({ q: "sa-4242" }), page));
  expect(search.items.map((i) => i.name)).toContain("sa-4242");

  const deep = await timed("offset page in the middle", () => listIdentities(admin, identityFilterSchema.parse({ sort: "name" }), { page: COUNT / 100, pageSize: 50 }));
  expect(deep.items).toHaveLength(50);

  const cursorPage = await timed("keyset cursor page", () => listIdentities(admin, identityFilterSchema.parse({ sort: "name" }), { cursor: Buffer.from("id-5000").toString("base64url"), limit: 50 }));
  expect(cursorPage.items).toHaveLength(50);

  const mine = await timed("owner-scoped page", () => listIdentities(owner, identityFilterSchema.parse({}), page));
  expect(mine.total).toBe(COUNT / 50);
  expect(mine.items.every((i) => i.ownerTeam?.id === "team-7")).toBe(true);

  const overview = await timed("overview aggregates", () => getInventoryOverview(admin));
  expect(overview.total).toBe(COUNT);
  expect(overview.unowned).toBe(COUNT / 10);

  const plan = await database.prisma.$queryRawUnsafe<{ "QUERY PLAN": string }[]>(`
    EXPLAIN ANALYZE SELECT "id", "name" FROM "Identity"
    WHERE "deletedAt" IS NULL AND "maxSeverity" IN ('critical') AND "hasLegacyToken" AND "namespace" = 'ns-5'
    ORDER BY "maxSeverity" DESC NULLS LAST, "openFindingCount" DESC, "namespace", "name", "id" LIMIT 50`);
  console.log(plan.map((row) => row["QUERY PLAN"]).join("\n"));
});
