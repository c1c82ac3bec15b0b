import { z } from "zod";
import type { ActionDefinition } from "@/lib/auth/action";
import { UserFacingError } from "@/lib/auth/errors";
import { apiTokenScopeSchema, createApiToken, createApiTokenInput, revokeApiToken } from "@/lib/auth/api-tokens";
import { getPrisma } from "@/lib/db";

// The admin page's actions, apart from actions.ts ("use server" files may export only functions) so they can be tested.

const createInput = z.object({
  name: z.string().trim().min(1, "Name the client that will use the token").max(100),
  scope: apiTokenScopeSchema,
  /** A calendar day (yyyy-mm-dd): the token stops working at the end of it, UTC. */
  expiresOn: z.iso.date(),
});

export const createTokenAction: ActionDefinition<typeof createInput, { id: string; token: string; expiresAt: string }> = {
  name: "token.create",
  permission: "tokens:manage",
  input: createInput,
  target: (input) => ({ type: "apiToken", id: input.name }),
  async handler({ name, scope, expiresOn }, { user }) {
    const input = { name, scope, expiresAt: new Date(`${expiresOn}T23:59:59Z`), createdById: user.id };
    const checked = createApiTokenInput.safeParse(input);
    if (!checked.success) throw new UserFacingError(`Expiry ${checked.error.issues[0].message}.`, 422);
    const token = await createApiToken(getPrisma(), input);
    // The only time the plaintext leaves the server; it is not stored.
    return { id: token.id, token: token.token, expiresAt: token.expiresAt.toISOString() };
  },
};

const revokeInput = z.object({ id: z.string().min(1).max(64) });

export const revokeTokenAction: ActionDefinition<typeof revokeInput, { id: string }> = {
  name: "token.revoke",
  permission: "tokens:manage",
  input: revokeInput,
  target: (input) => ({ type: "apiToken", id: input.id }),
  async handler({ id }) {
    const revoked = await revokeApiToken(getPrisma(), id);
    if (!revoked) throw new UserFacingError("This token does not exist.", 404);
    return { id: revoked.id };
  },
};
