"use server";

import { revalidatePath } from "next/cache";
import type { z } from "zod";
import { authorizedAction } from "@/lib/auth/server-action";
import { issueWebhookTokenAction } from "./definitions";

const issueWebhookToken = authorizedAction(issueWebhookTokenAction);

/** A new ingest token for the cluster's audit webhook (revoking the previous one) and the kubeconfig carrying it. */
export async function issueAuditWebhookToken(input: z.input<typeof issueWebhookTokenAction.input>) {
  const result = await issueWebhookToken(input);
  if (result.ok) revalidatePath(`/clusters/${input.clusterId}`);
  return result;
}
