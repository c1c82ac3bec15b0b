import type { z } from "zod";
import { getPrisma } from "@/lib/db";
import { recordAudit, type Actor } from "@/lib/audit/log";
import { can, type Permission } from "./permissions";
import { UserFacingError } from "./errors";
import type { SessionUser } from "./users";

export type ActionResult<T> =
  | { ok: true; data: T }
  | { ok: false; status: 400 | 401 | 403 | 404 | 409 | 422 | 500 | 502; error: string; fieldErrors?: Record<string, string[]> };

export interface ActionDefinition<S extends z.ZodType, T> {
  /** Verb-noun name recorded in the audit trail, e.g. "cluster.sync". */
  name: string;
  permission: Permission;
  input: S;
  handler: (input: z.output<S>, ctx: { user: SessionUser; actor: Actor }) => Promise<T>;
  /** The audited target, once the input is known. */
  target?: (input: z.output<S>) => { type: string; id: string };
}

/**
 * Runs an action for `user`: authentication, then the role check, then input validation, then the handler;
 * every attempt, allowed or not, is written to the audit trail. A refused call changes nothing.
 */
export async function executeAction<S extends z.ZodType, T>(
  def: ActionDefinition<S, T>,
  user: SessionUser | null,
  rawInput: unknown,
): Promise<ActionResult<T>> {
  if (!user) return { ok: false, status: 401, error: "Sign in to continue." };
  const db = getPrisma();
  const actor: Actor = { type: "user", id: user.id, label: user.email };
  if (!can(user.role, def.permission)) {
    await recordAudit(db, { actor, action: def.name, outcome: "denied", details: { role: user.role } });
    return { ok: false, status: 403, error: "Your role does not allow this." };
  }
  const parsed = def.input.safeParse(rawInput);
  if (!parsed.success) {
    const fieldErrors: Record<string, string[]> = {};
    for (const issue of parsed.error.issues) (fieldErrors[issue.path.join(".") || "_"] ??= []).push(issue.message);
    return { ok: false, status: 400, error: "Some fields are not valid.", fieldErrors };
  }
  const target = def.target?.(parsed.data);
  try {
    const data = await def.handler(parsed.data, { user, actor });
    await recordAudit(db, { actor, action: def.name, target, outcome: "success" });
    return { ok: true, data };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // A refusal found on the resource itself (e.g. another team's item) is a denial, not a failure.
    const outcome = err instanceof UserFacingError && err.status === 403 ? "denied" : "failure";
    await recordAudit(db, { actor, action: def.name, target, outcome, details: { error: message.slice(0, 2000) } });
    if (err instanceof UserFacingError) return { ok: false, status: err.status, error: err.message };
    console.error(`action ${def.name} failed`, err);
    return { ok: false, status: 500, error: "Something went wrong. The failure was recorded in the audit trail." };
  }
}
