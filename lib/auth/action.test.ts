import { describe, expect, it } from "vitest";
import { z } from "zod";
import { setupTestDatabase } from "@/lib/testing/database";
import { executeAction, type ActionDefinition } from "./action";
import { UserFacingError } from "./errors";
import type { SessionUser } from "./users";

const db = setupTestDatabase();

const user = (role: SessionUser["role"]): SessionUser => ({ id: `u-${role}`, email: `${role}@example.test`, name: role, role });

/** An action that really writes, so a refused call can be shown to change nothing. */
function createTeamAction(calls: string[]): ActionDefinition<z.ZodObject<{ name: z.ZodString }>, { id: string }> {
  return {
    name: "team.create",
    permission: "clusters:manage",
    input: z.object({ name: z.string().min(2).max(40) }),
    target: (i) => ({ type: "team", id: i.name }),
    async handler({ name }) {
      calls.push(name);
      if (name === "boom") throw new Error("relation \"Secret\" does not exist at 10.0.0.7");
      if (name === "taken") throw new UserFacingError("A team with this name exists.", 409);
      return db.prisma.team.create({ data: { name, slug: name }, select: { id: true } });
    },
  };
}

describe("authorized actions", () => {
  it("refuses roles without the permission with 403, runs nothing and records the refusal", async () => {
    const calls: string[] = [];
    for (const role of ["auditor", "owner"] as const) {
      const result = await executeAction(createTeamAction(calls), user(role), { name: `team-${role}` });
      expect(result).toMatchObject({ ok: false, status: 403 });
    }
    expect(calls).toEqual([]);
    expect(await db.prisma.team.count()).toBe(0);
    const denied = await db.prisma.auditLogEntry.findMany({ where: { action: "team.create", outcome: "denied" } });
    expect(denied.map((e) => e.actorLabel).sort()).toEqual(["auditor@example.test", "owner@example.test"]);
  });

  it("answers 401 without a session", async () => {
    const calls: string[] = [];
    expect(await executeAction(createTeamAction(calls), null, { name: "x1" })).toMatchObject({ ok: false, status: 401 });
    expect(calls).toEqual([]);
  });

  it("validates input before running the handler", async () => {
    const calls: string[] = [];
    const result = await executeAction(createTeamAction(calls), user("admin"), { name: "x" });
    expect(result).toMatchObject({ ok: false, status: 400 });
    if (!result.ok) expect(result.fieldErrors?.name?.length).toBe(1);
    expect(calls).toEqual([]);
  });

  it("runs for an allowed role and audits the success", async () => {
    const calls: string[] = [];
    const result = await executeAction(createTeamAction(calls), user("security"), { name: "payments" });
    expect(result.ok).toBe(true);
    expect(await db.prisma.team.count({ where: { name: "payments" } })).toBe(1);
    const entry = await db.prisma.auditLogEntry.findFirstOrThrow({ where: { action: "team.create", outcome: "success" } });
    expect(entry).toMatchObject({ actorLabel: "security@example.test", targetType: "team", targetId: "payments" });
  });

  it("shows allow-listed messages but hides internal errors", async () => {
    const calls: string[] = [];
    expect(await executeAction(createTeamAction(calls), user("admin"), { name: "taken" })).toEqual({
      ok: false,
      status: 409,
      error: "A team with this name exists.",
    });
    const hidden = await executeAction(createTeamAction(calls), user("admin"), { name: "boom" });
    expect(hidden).toMatchObject({ ok: false, status: 500 });
    if (!hidden.ok) expect(hidden.error).not.toMatch(/Secret|10\.0\.0\.7/);
    const failure = await db.prisma.auditLogEntry.findFirstOrThrow({ where: { action: "team.create", outcome: "failure", targetId: "boom" } });
    expect(JSON.stringify(failure.details)).toContain("10.0.0.7");
  });
});
