import { z } from "zod";

/** Dashboard roles, from DESIGN.md: security team (admin, security), identity owners, auditors. */
export const userRoles = ["admin", "security", "owner", "auditor"] as const;
export const userRoleSchema = z.enum(userRoles);
export type Role = z.infer<typeof userRoleSchema>;

/**
 * What each role may do. The single source of truth for authorization: pages, server actions and API routes
 * all ask `can(role, permission)`. Unknown roles and permissions fail closed.
 */
const grants = {
  "inventory:read": ["admin", "security", "owner", "auditor"],
  // Assign owners and accept risks on identities' findings.
  "inventory:manage": ["admin", "security"],
  "clusters:read": ["admin", "security", "auditor"],
  "clusters:manage": ["admin", "security"],
  "clusters:sync": ["admin", "security"],
  "audit:read": ["admin", "security", "auditor"],
  "users:read": ["admin"],
  "users:manage": ["admin"],
  "tokens:manage": ["admin"],
  // Access reviews: every role sees campaigns (an owner only its own team's items, narrowed per item); the security
  // team runs them; owners decide their team's items; auditors read and export, and change nothing.
  "campaigns:read": ["admin", "security", "owner", "auditor"],
  "campaigns:manage": ["admin", "security"],
  "campaigns:decide": ["admin", "security", "owner"],
  "campaigns:export": ["admin", "security", "auditor"],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof grants;

export function can(role: string | null | undefined, permission: Permission): boolean {
  const allowed: readonly string[] | undefined = grants[permission];
  return !!role && !!allowed && allowed.includes(role);
}

export const roleLabels: Record<Role, string> = {
  admin: "Administrator",
  security: "Security engineer",
  owner: "Identity owner",
  auditor: "Auditor",
};
