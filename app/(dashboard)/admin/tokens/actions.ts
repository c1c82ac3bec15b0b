"use server";

import { revalidatePath } from "next/cache";
import type { z } from "zod";
import { authorizedAction } from "@/lib/auth/server-action";
import { createTokenAction, revokeTokenAction } from "./definitions";

const create = authorizedAction(createTokenAction);
const revoke = authorizedAction(revokeTokenAction);

export async function createApiTokenAction(input: z.input<typeof createTokenAction.input>) {
  const result = await create(input);
  if (result.ok) revalidatePath("/admin/tokens");
  return result;
}

export async function revokeApiTokenAction(input: z.input<typeof revokeTokenAction.input>) {
  const result = await revoke(input);
  if (result.ok) revalidatePath("/admin/tokens");
  return result;
}
