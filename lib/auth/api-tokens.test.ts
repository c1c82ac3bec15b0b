import { beforeAll, describe, expect, it } from "vitest";
import { setupTestDatabase } from "@/lib/testing/database";
import { authenticateApiToken, createApiToken, hashApiToken, listApiTokens, parseExpiry, revokeApiToken } from "./api-tokens";

const db = setupTestDatabase();
let adminId: string;
const inDays = (days: number) => new Date(Date.now() + days * 86400e3);

beforeAll(async () => {
  ({ id: adminId } = await db.prisma.user.create({ data: { email: "admin@example.test", name: "Admin", role: "admin" } }));
});

describe("API tokens", () => {
  it("stores only a SHA-256 hash of a prefixed high-entropy token", async () => {
    const { id, token } = await createApiToken(db.prisma, { name: "ci", scope: "read", expiresAt: inDays(30), createdById: adminId });
    expect(token).toMatch(/^kw_[A-Za-z0-9_-]{43}$/);
    const row = await db.prisma.apiToken.findUniqueOrThrow({ where: { id } });
    expect(row.tokenHash).toBe(hashApiToken(token));
    expect(JSON.stringify(row)).not.toContain(token.slice(3));
    expect(JSON.stringify(await listApiTokens(db.prisma))).not.toContain(row.tokenHash);
  });

  it("authenticates a valid token and records its last use, at most once a minute", async () => {
    const { id, token } = await createApiToken(db.prisma, { name: "grafana", scope: "write", expiresAt: inDays(1), createdById: adminId });
    const t0 = new Date();
    expect(await authenticateApiToken(db.prisma, token, t0)).toEqual({
      ok: true,
      token: { id, name: "grafana", scope: "write", issuer: { id: adminId, email: "admin@example.test", name: "Admin" } },
    });
    expect((await db.prisma.apiToken.findUniqueOrThrow({ where: { id } })).lastUsedAt).toEqual(t0);
    await authenticateApiToken(db.prisma, token, new Date(t0.getTime() + 10_000));
    expect((await db.prisma.apiToken.findUniqueOrThrow({ where: { id } })).lastUsedAt).toEqual(t0);
    const later = new Date(t0.getTime() + 61_000);
    await authenticateApiToken(db.prisma, token, later);
    expect((await db.prisma.apiToken.findUniqueOrThrow({ where: { id } })).lastUsedAt).toEqual(later);
  });

  it("rejects unknown, expired and revoked tokens", async () => {
    expect(await authenticateApiToken(db.prisma, "kw_nope")).toEqual({ ok: false, reason: "unknown" });
    expect(await authenticateApiToken(db.prisma, "Bearer x")).toEqual({ ok: false, reason: "unknown" });
    const { token } = await createApiToken(db.prisma, { name: "short", scope: "read", expiresAt: new Date(Date.now() + 5_000), createdById: adminId });
    expect(await authenticateApiToken(db.prisma, token, new Date(Date.now() + 10_000))).toEqual({ ok: false, reason: "expired" });
    const revoked = await createApiToken(db.prisma, { name: "gone", scope: "read", expiresAt: inDays(5), createdById: adminId });
    const first = await revokeApiToken(db.prisma, revoked.id);
    expect(first?.revokedAt).toBeInstanceOf(Date);
    expect((await revokeApiToken(db.prisma, revoked.id))?.revokedAt).toEqual(first?.revokedAt);
    expect(await authenticateApiToken(db.prisma, revoked.token)).toEqual({ ok: false, reason: "revoked" });
    expect(await revokeApiToken(db.prisma, "missing")).toBeNull();
  });

  it("stops accepting the tokens of an admin who is disabled or no longer an admin", async () => {
    const issuer = await db.prisma.user.create({ data: { email: "leaver@example.test", name: "Leaver", role: "admin" } });
    const { token } = await createApiToken(db.prisma, { name: "leaver-ci", scope: "write", expiresAt: inDays(5), createdById: issuer.id });
    expect((await authenticateApiToken(db.prisma, token)).ok).toBe(true);
    await db.prisma.user.update({ where: { id: issuer.id }, data: { role: "security" } });
    expect(await authenticateApiToken(db.prisma, token)).toEqual({ ok: false, reason: "orphaned" });
    await db.prisma.user.update({ where: { id: issuer.id }, data: { role: "admin", disabled: true } });
    expect(await authenticateApiToken(db.prisma, token)).toEqual({ ok: false, reason: "orphaned" });
  });

  it("requires an expiry in the future and within a year", async () => {
    await expect(createApiToken(db.prisma, { name: "old", scope: "read", expiresAt: inDays(-1), createdById: adminId })).rejects.toThrow(/future/);
    await expect(createApiToken(db.prisma, { name: "forever", scope: "read", expiresAt: inDays(400), createdById: adminId })).rejects.toThrow(/year/);
  });

  it("parses relative and absolute expiries", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    expect(parseExpiry("30d", now).toISOString()).toBe("2026-01-31T00:00:00.000Z");
    expect(parseExpiry("12h", now).toISOString()).toBe("2026-01-01T12:00:00.000Z");
    expect(parseExpiry("2026-06-01", now).toISOString()).toBe("2026-06-01T00:00:00.000Z");
    expect(() => parseExpiry("soon", now)).toThrow(/duration/);
  });
});
