import "server-only";
import type { z } from "zod";
import { executeAction, type ActionDefinition, type ActionResult } from "./action";
import { getSessionUser } from "./session";

/**
 * The one way to write a server action: the session and the role are checked on the server for every
 * call, whatever the page that rendered the button decided to show.
 */
export function authorizedAction<S extends z.ZodType, T>(def: ActionDefinition<S, T>) {
  return async (input: z.input<S>): Promise<ActionResult<T>> => executeAction(def, await getSessionUser(), input);
}
