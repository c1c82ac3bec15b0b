import { beforeAll, describe, expect, it } from "vitest";
import { setupTestDatabase } from "@/lib/testing/database";
import { executeAction } from "@/lib/auth/action";
import { authenticateApiToken } from "@/lib/auth/api-tokens";
import type { SessionUser } from "@/lib/auth/users";
import { createTokenAction, revokeTokenAction } from "./definitions";

const database = setupTestDatabase();
const admin: SessionUser = { id: "u-admin", email: "admin@example.test", name: "Admin", role: "admin" };
const security: SessionUser = { id: "u-sec", email: "sec@example.test", name: "Sec", role: "security" };
const inDays = (days: number) => new Date(Date.now() + days * 86400e3).toISOString().slice(0, 10);

beforeAll(async () => {
  await database.prisma.user.createMany({ data: [admin, security].map(({ id, email, name, role }) => ({ id, email, name, role })) });
});

describe("admin token actions", () => {
  it("an admin creates a token that works, sees it once, and revokes it", async () => {
    const created = await executeAction(createTokenAction, admin, { name: "grafana", scope: "read", expiresOn: inDays(90) });
    if (!created.ok) throw new Error(created.error);
    expect(created.data.token).toMatch(/^kw_/);
    expect(await authenticateApiToken(database.prisma, created.data.token)).toMatchObject({ ok: true, token: { name: "grafana", scope: "read" } });
    expect(await database.prisma.apiToken.findUniqueOrThrow({ where: { id: created.data.id } })).toMatchObject({ createdById: admin.id });

    expect(await executeAction(revokeTokenAction, admin, { id: created.data.id })).toEqual({ ok: true, data: { id: created.data.id } });
    expect(await authenticateApiToken(database.prisma, created.data.token)).toEqual({ ok: false, reason: "revoked" });
    expect(await executeAction(revokeTokenAction, admin, { id: "missing" })).toMatchObject({ ok: false, status: 404 });
  });

  it("refuses other roles and expiries beyond a year, changing nothing", async () => {
    const before = await database.prisma.apiToken.count();
    expect(await executeAction(createTokenAction, security, { name: "x", scope: "write", expiresOn: inDays(30) })).toMatchObject({ ok: false, status: 403 });
    expect(await executeAction(createTokenAction, admin, { name: "forever", scope: "write", expiresOn: inDays(400) })).toMatchObject({
      ok: false,
      status: 422,
      error: expect.stringMatching(/within a year/),
    });
    expect(await executeAction(createTokenAction, admin, { name: "", scope: "root", expiresOn: "soon" })).toMatchObject({
      ok: false,
      status: 400,
      fieldErrors: { name: [expect.any(String)], scope: [expect.any(String)], expiresOn: [expect.any(String)] },
    });
    expect(await database.prisma.apiToken.count()).toBe(before);
  });
});
