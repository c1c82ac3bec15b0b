import { describe, expect, it } from "vitest";
import { systemActor } from "@/lib/audit/log";
import { setupTestDatabase } from "@/lib/testing/database";
import { issueIngestToken, verifyIngestToken } from "./ingest-tokens";

const database = setupTestDatabase();

describe("audit ingest tokens", () => {
  it("issues a kwa_ token stored only as a hash, revokes the previous one, and records the issue in the audit trail", async () => {
    const db = database.prisma;
    await db.cluster.createMany({
      data: [
        { id: "c-a", name: "a", apiServerUrl: "https://a.example:6443" },
        { id: "c-b", name: "b", apiServerUrl: "https://b.example:6443" },
      ],
    });
    const first = await issueIngestToken(db, "c-a", systemActor("test"));
    expect(first.token).toMatch(/^kwa_[A-Za-z0-9_-]{43}$/);
    const stored = await db.auditIngestToken.findUniqueOrThrow({ where: { id: first.id } });
    expect(stored.tokenHash).not.toContain(first.token.slice(4));
    expect(stored.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await verifyIngestToken(db, "c-a", first.token)).toBe(true);

    const second = await issueIngestToken(db, "c-a", systemActor("test"));
    expect(await verifyIngestToken(db, "c-a", first.token)).toBe(false);
    expect(await verifyIngestToken(db, "c-a", second.token)).toBe(true);
    expect(
      (await db.auditIngestToken.findUniqueOrThrow({ where: { id: first.id } })).revokedAt,
    ).not.toBeNull();

    const audit = await db.auditLogEntry.findMany({
      where: { action: "cluster.audit_token_issue" },
      orderBy: { seq: "asc" },
    });
    expect(
      audit.map((e) => [
        e.targetId,
        (e.details as { tokenId: string; revokedPrevious: number }).tokenId,
        (e.details as { revokedPrevious: number }).revokedPrevious,
      ]),
    ).toEqual([
      ["c-a", first.id, 0],
      ["c-a", second.id, 1],
    ]);
  });

  it("accepts a token only for its own cluster, unrevoked and unexpired, and records its use at most once a minute", async () => {
    const db = database.prisma;
    const b = await issueIngestToken(db, "c-b", systemActor("test"));
    expect(await verifyIngestToken(db, "c-a", b.token)).toBe(false);
    expect(await verifyIngestToken(db, "c-missing", b.token)).toBe(false);
    expect(await verifyIngestToken(db, "c-b", b.token.slice(0, -1))).toBe(false);
    expect(await verifyIngestToken(db, "c-b", "")).toBe(false);
    expect(await verifyIngestToken(db, "c-b", "kw_" + b.token.slice(4))).toBe(false);

    const t0 = new Date("2030-01-01T00:00:00Z");
    expect(await verifyIngestToken(db, "c-b", b.token, t0)).toBe(true);
    expect((await db.auditIngestToken.findUniqueOrThrow({ where: { id: b.id } })).lastUsedAt).toEqual(t0);
    expect(await verifyIngestToken(db, "c-b", b.token, new Date(t0.getTime() + 30_000))).toBe(true);
    expect((await db.auditIngestToken.findUniqueOrThrow({ where: { id: b.id } })).lastUsedAt).toEqual(t0);
    const later = new Date(t0.getTime() + 61_000);
    expect(await verifyIngestToken(db, "c-b", b.token, later)).toBe(true);
    expect((await db.auditIngestToken.findUniqueOrThrow({ where: { id: b.id } })).lastUsedAt).toEqual(later);

    await db.auditIngestToken.update({
      where: { id: b.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect(await verifyIngestToken(db, "c-b", b.token)).toBe(false);
  });
});
