"use server";

import { revalidatePath } from "next/cache";
import type { z } from "zod";
import { authorizedAction } from "@/lib/auth/server-action";
import { cancelCampaignAction, closeCampaignAction, createCampaignAction, launchCampaignAction, reassignItemAction, stopScheduleAction } from "./definitions";

const create = authorizedAction(createCampaignAction);
const launch = authorizedAction(launchCampaignAction);
const close = authorizedAction(closeCampaignAction);
const cancel = authorizedAction(cancelCampaignAction);
const reassign = authorizedAction(reassignItemAction);
const stopSchedule = authorizedAction(stopScheduleAction);

/** Creates a campaign (a draft, or launched at once); field errors come back per field path ("scope.clusterIds"). */
export async function createCampaignServerAction(input: z.input<typeof createCampaignAction.input>) {
  const result = await create(input);
  if (result.ok) revalidatePath("/campaigns");
  return result;
}

export async function launchCampaignServerAction(input: z.input<typeof launchCampaignAction.input>) {
  const result = await launch(input);
  if (result.ok) revalidatePath(`/campaigns/${input.campaignId}`);
  return result;
}

export async function closeCampaignServerAction(input: z.input<typeof closeCampaignAction.input>) {
  const result = await close(input);
  if (result.ok) revalidatePath(`/campaigns/${input.campaignId}`);
  return result;
}

export async function cancelCampaignServerAction(input: z.input<typeof cancelCampaignAction.input>) {
  const result = await cancel(input);
  if (result.ok) revalidatePath(`/campaigns/${input.campaignId}`);
  return result;
}

export async function stopScheduleServerAction(input: z.input<typeof stopScheduleAction.input>) {
  const result = await stopSchedule(input);
  if (result.ok) revalidatePath("/campaigns", "layout");
  return result;
}

/** Hands an undecided item to another team; a stale version (decided or reassigned meanwhile) answers 409. */
export async function reassignItemServerAction(input: z.input<typeof reassignItemAction.input>) {
  const result = await reassign(input);
  if (result.ok) revalidatePath("/campaigns", "layout");
  return result;
}
