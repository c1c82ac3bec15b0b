"use server";

import { revalidatePath } from "next/cache";
import type { z } from "zod";
import { authorizedAction } from "@/lib/auth/server-action";
import { createRuleAction, createTeamAction, deleteRuleAction } from "./definitions";

const createTeamCall = authorizedAction(createTeamAction);
const createRuleCall = authorizedAction(createRuleAction);
const deleteRuleCall = authorizedAction(deleteRuleAction);

export async function createTeamServerAction(input: z.input<typeof createTeamAction.input>) {
  const result = await createTeamCall(input);
  if (result.ok) revalidatePath("/teams");
  return result;
}

// Rules change owners, which the inventory and identity pages show too.
export async function createOwnershipRuleServerAction(input: z.input<typeof createRuleAction.input>) {
  const result = await createRuleCall(input);
  if (result.ok) revalidatePath("/", "layout");
  return result;
}

export async function deleteOwnershipRuleServerAction(input: z.input<typeof deleteRuleAction.input>) {
  const result = await deleteRuleCall(input);
  if (result.ok) revalidatePath("/", "layout");
  return result;
}
