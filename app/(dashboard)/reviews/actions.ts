"use server";

import { revalidatePath } from "next/cache";
import type { z } from "zod";
import { authorizedAction } from "@/lib/auth/server-action";
import { applyAction, bulkApproveAction, decideAction, retryAction, rollbackAction } from "./definitions";

// Every review page shows item states (the inbox, the item), so each action refreshes them all.
const bulk = authorizedAction(bulkApproveAction);
const decide = authorizedAction(decideAction);
const apply = authorizedAction(applyAction);
const retry = authorizedAction(retryAction);
const rollback = authorizedAction(rollbackAction);

/** Approves each of the selected low-risk items on its own; the answer says which were refused and why. */
export async function bulkApproveItems(input: z.input<typeof bulkApproveAction.input>) {
  const result = await bulk(input);
  revalidatePath("/reviews", "layout");
  return result;
}

/** Records the decision (if the item is still pending) and previews carrying it out with a server-side dry run. */
export async function decideAndPreview(input: z.input<typeof decideAction.input>) {
  const result = await decide(input);
  revalidatePath("/reviews", "layout");
  return result;
}

/** Applies a confirmed preview: the changes, then the SubjectAccessReview verification. */
export async function applyDecision(input: z.input<typeof applyAction.input>) {
  const result = await apply(input);
  revalidatePath("/reviews", "layout");
  return result;
}

/** After a failure: a fresh preview of the same decision, to confirm and apply again. */
export async function retryDecision(input: z.input<typeof retryAction.input>) {
  const result = await retry(input);
  revalidatePath("/reviews", "layout");
  return result;
}

/** Restores what a change set changed, as it was before. */
export async function rollbackDecision(input: z.input<typeof rollbackAction.input>) {
  const result = await rollback(input);
  revalidatePath("/reviews", "layout");
  return result;
}
