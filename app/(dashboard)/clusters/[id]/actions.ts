"use server";

import { revalidatePath } from "next/cache";
import type { z } from "zod";
import { authorizedAction } from "@/lib/auth/server-action";
import { issueWebhookTokenAction, updateSettingsAction } from "./definitions";

const issueWebhookToken = authorizedAction(issueWebhookTokenAction);
const updateSettings = authorizedAction(updateSettingsAction);

/** A new ingest token for the cluster's audit webhook (revoking the previous one) and the kubeconfig carrying it. */
export async function issueAuditWebhookToken(input: z.input<typeof issueWebhookTokenAction.input>) {
  const result = await issueWebhookToken(input);
  if (result.ok) revalidatePath(`/clusters/${input.clusterId}`);
  return result;
}

/** Changes some of the cluster's analysis settings (null resets one); the findings are re-analysed before it answers. */
export async function updateClusterSettingsAction(input: z.input<typeof updateSettingsAction.input>) {
  const result = await updateSettings(input);
  if (result.ok) revalidatePath(`/clusters/${input.clusterId}`);
  return result;
}
