import { z } from "zod";
import type { ActionDefinition } from "@/lib/auth/action";
import { UserFacingError } from "@/lib/auth/errors";
import { getPrisma } from "@/lib/db";
import { clusterSettingsInput, updateClusterSettings, type ClusterSettingsUpdate } from "@/lib/clusters/update-cluster-settings";
import { issueIngestToken } from "@/lib/usage/ingest-tokens";
import { webhookKubeconfig } from "@/lib/usage/webhook-setup";

// The cluster page's actions, apart from actions.ts ("use server" files may export only functions) so they can be tested.

const webhookTokenInput = z.object({
  clusterId: z.string().min(1).max(64),
  keywardUrl: z
    .url({ protocol: /^https?$/, error: "Enter Keyward's http(s) URL as the API server reaches it." })
    .max(2048)
    .transform((url) => url.replace(/\/+$/, "")),
  caPem: z
    .string()
    .trim()
    .max(64_000)
    .refine((pem) => pem === "" || pem.includes("BEGIN CERTIFICATE"), "Paste a PEM certificate, or leave it empty.")
    .optional(),
});

export const issueWebhookTokenAction: ActionDefinition<typeof webhookTokenInput, { kubeconfig: string }> = {
  name: "cluster.audit_webhook_token",
  permission: "clusters:manage",
  input: webhookTokenInput,
  target: (input) => ({ type: "cluster", id: input.clusterId }),
  async handler({ clusterId, keywardUrl, caPem }, { actor }) {
    const db = getPrisma();
    if (!(await db.cluster.findUnique({ where: { id: clusterId }, select: { id: true } }))) throw new UserFacingError("This cluster does not exist.", 404);
    const { token } = await issueIngestToken(db, clusterId, actor);
    // The only time the token leaves the server: Keyward stores its hash.
    return { kubeconfig: webhookKubeconfig({ keywardUrl, clusterId, token, caPem: caPem || undefined }) };
  },
};

const settingsInput = clusterSettingsInput.extend({ clusterId: z.string().min(1).max(64) });

export const updateSettingsAction: ActionDefinition<typeof settingsInput, ClusterSettingsUpdate> = {
  name: "cluster.settings_update",
  permission: "clusters:manage",
  input: settingsInput,
  target: (input) => ({ type: "cluster", id: input.clusterId }),
  handler: ({ clusterId, ...settings }, { actor }) => updateClusterSettings(getPrisma(), actor, clusterId, settings),
};
