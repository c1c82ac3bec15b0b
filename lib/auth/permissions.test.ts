import { describe, expect, it } from "vitest";
import { can, userRoles, type Permission } from "./permissions";

describe("role permissions", () => {
  it("lets only admins manage users", () => {
    expect(userRoles.filter((r) => can(r, "users:manage"))).toEqual(["admin"]);
  });

  it("never lets an auditor or an owner change a cluster", () => {
    const writes: Permission[] = ["clusters:manage", "clusters:sync", "users:manage"];
    for (const role of ["auditor", "owner"] as const) for (const p of writes) expect(can(role, p)).toBe(false);
  });

  it("lets every role read the inventory and auditors read the audit trail", () => {
    for (const role of userRoles) expect(can(role, "inventory:read")).toBe(true);
    expect(can("auditor", "audit:read")).toBe(true);
    expect(can("owner", "audit:read")).toBe(false);
  });

  it("lets the security team run campaigns, owners decide, and auditors only read and export", () => {
    expect(userRoles.filter((r) => can(r, "campaigns:manage"))).toEqual(["admin", "security"]);
    expect(userRoles.filter((r) => can(r, "campaigns:decide"))).toEqual(["admin", "security", "owner"]);
    expect(userRoles.filter((r) => can(r, "campaigns:export"))).toEqual(["admin", "security", "auditor"]);
    expect(userRoles.filter((r) => can(r, "campaigns:read"))).toEqual([...userRoles]);
  });

  it("fails closed for unknown roles and permissions", () => {
    expect(can("root", "inventory:read")).toBe(false);
    expect(can(undefined, "inventory:read")).toBe(false);
    expect(can("admin", "nuke:everything" as Permission)).toBe(false);
  });
});
