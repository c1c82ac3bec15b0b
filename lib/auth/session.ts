import "server-only";
import { cache } from "react";
import { forbidden, redirect } from "next/navigation";
import { getPrisma } from "@/lib/db";
import { auth } from "./next-auth";
import { can, type Permission } from "./permissions";
import { sessionUserSelect, type SessionUser } from "./users";

/**
 * The signed-in user, re-read from the database on every request: a disabled user or a changed role takes
 * effect at once, whatever the session cookie still says.
 */
export const getSessionUser = cache(async (): Promise<SessionUser | null> => {
  const session = await auth();
  const id = session?.user?.id;
  if (!id) return null;
  const user = await getPrisma().user.findUnique({ where: { id }, select: sessionUserSelect });
  if (!user || user.disabled) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role };
});

/** For pages: the signed-in user, or a redirect to the sign-in page. */
export async function requireUser(): Promise<SessionUser> {
  const user = await getSessionUser();
  if (!user) redirect("/login");
  return user;
}

/** For pages: the signed-in user holding `permission`, or a 403 page. */
export async function requirePermission(permission: Permission): Promise<SessionUser> {
  const user = await requireUser();
  if (!can(user.role, permission)) forbidden();
  return user;
}
