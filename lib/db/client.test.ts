// Smoke test of the generated client on the migrated schema through @prisma/adapter-pg.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma } from "./generated/prisma/client";
import { createTestDatabase, type TestDatabase } from "./testing";

describe("Prisma client on the migrated database", () => {
  let database: TestDatabase | undefined;
  const db = () => database!.prisma;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it("creates and reads a user, a team, a cluster and an identity with its relations", async () => {
    const user = await db().user.create({ data: { email: "ana@example.com", name: "Ana", role: "security" } });
    expect(user.id).toMatch(/^c[a-z0-9]{20,}$/); // cuid filled in by the client
    expect(user.disabled).toBe(false);
    expect(user.createdAt).toBeInstanceOf(Date);

    const team = await db().team.create({
      data: { name: "Payments", slug: "payments", members: { create: { userId: user.id } } },
    });
    const cluster = await db().cluster.create({
      data: { name: "prod-eu", apiServerUrl: "https://10.0.0.1:6443", settings: { ownerAnnotation: "keyward.io/owner" } },
    });
    expect(cluster.status).toBe("pending");

    const identity = await db().identity.create({
      data: {
        clusterId: cluster.id,
        kind: "ServiceAccount",
        namespace: "payments",
        name: "api",
        username: "system:serviceaccount:payments:api",
        ownerTeamId: team.id,
        ownerSource: "annotation",
        labels: { app: "api" },
        credentials: { create: { clusterId: cluster.id, kind: "legacyTokenSecret", namespace: "payments", name: "api-token" } },
        findings: {
          create: {
            clusterId: cluster.id,
            type: "legacy-token",
            severity: "high",
            title: "Long-lived token",
            owasp: ["NHI7"],
            csf: ["PR.AA-01"],
            fingerprint: "legacy-token:payments/api",
          },
        },
      },
    });

    const loaded = await db().identity.findUniqueOrThrow({
      where: { clusterId_kind_namespace_name: { clusterId: cluster.id, kind: "ServiceAccount", namespace: "payments", name: "api" } },
      include: { ownerTeam: { include: { members: { include: { user: true } } } }, credentials: true, findings: true, cluster: true },
    });
    expect(loaded.id).toBe(identity.id);
    expect(loaded.labels).toEqual({ app: "api" });
    expect(loaded.ownerTeam?.members.map((m) => m.user.email)).toEqual(["ana@example.com"]);
    expect(loaded.credentials.map((c) => c.name)).toEqual(["api-token"]);
    expect(loaded.findings[0].owasp).toEqual(["NHI7"]);
    expect(loaded.cluster.settings).toEqual({ ownerAnnotation: "keyward.io/owner" });
  });

  it("enforces the natural keys and the ON DELETE behaviour of the migration", async () => {
    const cluster = await db().cluster.create({ data: { name: "staging", apiServerUrl: "https://10.0.0.2:6443" } });
    const team = await db().team.create({ data: { name: "Platform", slug: "platform" } });
    const identity = await db().identity.create({
      data: { clusterId: cluster.id, kind: "User", name: "ci", username: "ci", ownerTeamId: team.id },
    });
    expect(identity.namespace).toBe("");

    const duplicate = db().identity.create({ data: { clusterId: cluster.id, kind: "User", name: "ci", username: "ci" } });
    await expect(duplicate).rejects.toSatisfy(
      (error: unknown) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002",
    );

    await db().team.delete({ where: { id: team.id } }); // SetNull
    expect((await db().identity.findUniqueOrThrow({ where: { id: identity.id } })).ownerTeamId).toBeNull();
    await db().cluster.delete({ where: { id: cluster.id } }); // Cascade
    expect(await db().identity.count({ where: { clusterId: cluster.id } })).toBe(0);
  });

  it("numbers audit entries with a BigInt sequence", async () => {
    const entry = (n: number) => ({
      actorType: "system",
      actorLabel: "test",
      action: "test.event",
      outcome: "success" as const,
      prevHash: `h${n - 1}`,
      hash: `h${n}`,
    });
    const first = await db().auditLogEntry.create({ data: entry(1) });
    const second = await db().auditLogEntry.create({ data: entry(2) });
    expect(typeof first.seq).toBe("bigint");
    expect(second.seq).toBe(first.seq + 1n);
  });
});
