"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { authorizedAction } from "@/lib/auth/server-action";
import { UserFacingError } from "@/lib/auth/errors";
import { apiTokenScopeSchema, createApiToken, createApiTokenInput, revokeApiToken } from "@/lib/auth/api-tokens";
import { getPrisma } from "@/lib/db";

const createInput = z.object({
  name: z.string().trim().min(1, "Name the client that will use the token").max(100),
  scope: apiTokenScopeSchema,
  /** A calendar day (yyyy-mm-dd): the token stops working at the end of it, UTC. */
  expiresOn: z.iso.date(),
});

const create = authorizedAction({
  name: "token.create",
  permission: "tokens:manage",
  input: createInput,
  target: (input) => ({ type: "apiToken", id: input.name }),
  async handler({ name, scope, expiresOn }, { user }) {
    const input = { name, scope, expiresAt: new Date(`${expiresOn}T23:59:59Z`), createdById: user.id };
    const checked = createApiTokenInput.safeParse(input);
    if (!checked.success) throw new UserFacingError(`Expiry ${checked.error.issues[0].message}.`, 422);
    const token = await createApiToken(getPrisma(), input);
    revalidatePath("/admin/tokens");
    // The only time the plaintext leaves the server; it is not stored.
    return { id: token.id, token: token.token, expiresAt: token.expiresAt.toISOString() };
  },
});

const revokeInput = z.object({ id: z.string().min(1).max(64) });

const revoke = authorizedAction({
  name: "token.revoke",
  permission: "tokens:manage",
  input: revokeInput,
  target: (input) => ({ type: "apiToken", id: input.id }),
  async handler({ id }) {
    const revoked = await revokeApiToken(getPrisma(), id);
    if (!revoked) throw new UserFacingError("This token does not exist.", 404);
    revalidatePath("/admin/tokens");
    return { id: revoked.id };
  },
});

export async function createApiTokenAction(input: z.input<typeof createInput>) {
  return create(input);
}

export async function revokeApiTokenAction(input: z.input<typeof revokeInput>) {
  return revoke(input);
}
