import { getPrisma } from "@/lib/db";
import { recordAudit } from "@/lib/audit/log";
import { hashPassword, verifyPassword } from "./password";
import type { Role } from "./permissions";

export const sessionUserSelect = { id: true, email: true, name: true, role: true, disabled: true } as const;
export type SessionUser = { id: string; email: string; name: string; role: Role };

// Compared against when the e-mail is unknown, so a miss costs the same time as a wrong password.
let dummyHash: Promise<string> | undefined;

export async function authenticateWithPassword(email: string, password: string): Promise<SessionUser | null> {
  const db = getPrisma();
  const normalized = email.trim().toLowerCase();
  const user = await db.user.findUnique({
    where: { email: normalized },
    select: { ...sessionUserSelect, passwordHash: true },
  });
  dummyHash ??= hashPassword("keyward-timing-equaliser");
  const valid = await verifyPassword(password, user?.passwordHash ?? (await dummyHash));
  const ok = !!user && !user.disabled && !!user.passwordHash && valid;
  await recordAudit(db, {
    actor: { type: "user", id: user?.id ?? null, label: normalized },
    action: "auth.sign_in",
    outcome: ok ? "success" : "denied",
  });
  if (!ok) return null;
  await db.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

/** Creates a dashboard user, or resets the password and role of an existing one with that e-mail. */
export async function upsertUser(input: { email: string; name: string; role: Role; password: string }): Promise<SessionUser> {
  const email = input.email.trim().toLowerCase();
  const passwordHash = await hashPassword(input.password);
  const user = await getPrisma().user.upsert({
    where: { email },
    create: { email, name: input.name, role: input.role, passwordHash },
    update: { name: input.name, role: input.role, passwordHash, disabled: false },
    select: sessionUserSelect,
  });
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}
