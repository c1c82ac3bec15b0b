import { describe, expect, it } from "vitest";
import { setupTestDatabase } from "@/lib/testing/database";
import { recordAudit, systemActor, verifyAuditChain } from "./log";

const db = setupTestDatabase();

describe("audit trail", () => {
  it("chains entries and verifies an untouched chain", async () => {
    for (let i = 0; i < 5; i++) {
      await recordAudit(db.prisma, { actor: systemActor("test"), action: "test.step", outcome: "success", details: { i, nested: { b: 1, a: [1, "x"] } } });
    }
    const entries = await db.prisma.auditLogEntry.findMany({ orderBy: { seq: "asc" } });
    expect(entries).toHaveLength(5);
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.prevHash).toBe(entries[i - 1]!.hash);
    expect(await verifyAuditChain(db.prisma)).toEqual({ ok: true, entries: 5 });
  });

  it("keeps one unbroken chain under concurrent appends", async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => recordAudit(db.prisma, { actor: systemActor(`w${i}`), action: "test.concurrent", outcome: "success" })),
    );
    const result = await verifyAuditChain(db.prisma, 7);
    expect(result).toEqual({ ok: true, entries: 25 });
  });

  it("detects an edited entry", async () => {
    const victim = await db.prisma.auditLogEntry.findFirstOrThrow({ where: { action: "test.step" }, orderBy: { seq: "asc" }, skip: 2 });
    await db.prisma.$executeRaw`UPDATE "AuditLogEntry" SET "outcome" = 'denied' WHERE "seq" = ${victim.seq}`;
    const result = await verifyAuditChain(db.prisma);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.brokenAtSeq).toBe(victim.seq);
      expect(result.reason).toMatch(/content/);
    }
    await db.prisma.$executeRaw`UPDATE "AuditLogEntry" SET "outcome" = 'success' WHERE "seq" = ${victim.seq}`;
    expect((await verifyAuditChain(db.prisma)).ok).toBe(true);
  });

  it("detects a deleted entry", async () => {
    const victim = await db.prisma.auditLogEntry.findFirstOrThrow({ where: { action: "test.step" }, orderBy: { seq: "asc" }, skip: 1 });
    await db.prisma.$executeRaw`DELETE FROM "AuditLogEntry" WHERE "seq" = ${victim.seq}`;
    const result = await verifyAuditChain(db.prisma);
    expect(result).toMatchObject({ ok: false, reason: "previous-hash link does not match" });
  });
});
