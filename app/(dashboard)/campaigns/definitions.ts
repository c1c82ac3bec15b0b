import { z } from "zod";
import type { ActionDefinition } from "@/lib/auth/action";
import { getPrisma } from "@/lib/db";
import { cancelCampaign, closeCampaign } from "@/lib/campaigns/close-campaign";
import { stopCampaignSchedule } from "@/lib/campaigns/stop-schedule";
import { createCampaign } from "@/lib/campaigns/create-campaign";
import { launchCampaign } from "@/lib/campaigns/launch-campaign";
import { reassignItem } from "@/lib/campaigns/reassign-item";
import { campaignInputSchema } from "@/lib/campaigns/schemas";

// The campaign pages' actions, apart from actions.ts ("use server" files may export only functions) so they can be
// tested. The lib functions check campaigns:manage again and look every campaign, item and team up themselves.

const id = z.string().min(1).max(64);

// A past deadline is the form's field error here rather than the lib's message for the whole form.
const createInput = campaignInputSchema.refine((input) => !input.deadline || input.deadline.getTime() > Date.now(), {
  message: "The deadline must be in the future.",
  path: ["deadline"],
});

export const createCampaignAction: ActionDefinition<typeof createInput, { id: string; items: number }> = {
  name: "campaign.create",
  permission: "campaigns:manage",
  input: createInput,
  async handler(input, who) {
    // createCampaign parses its input again: the deadline goes back to the ISO text it accepts.
    const created = await createCampaign(getPrisma(), who, { ...input, deadline: input.deadline?.toISOString() });
    return { id: created.id, items: created.items };
  },
};

const campaignInput = z.object({ campaignId: id });

export const launchCampaignAction: ActionDefinition<typeof campaignInput, { items: number }> = {
  name: "campaign.launch",
  permission: "campaigns:manage",
  input: campaignInput,
  target: (input) => ({ type: "campaign", id: input.campaignId }),
  handler: async ({ campaignId }, who) => ({ items: (await launchCampaign(getPrisma(), who, campaignId)).items }),
};

export const closeCampaignAction: ActionDefinition<typeof campaignInput, null> = {
  name: "campaign.close",
  permission: "campaigns:manage",
  input: campaignInput,
  target: (input) => ({ type: "campaign", id: input.campaignId }),
  handler: async ({ campaignId }, who) => (await closeCampaign(getPrisma(), who, campaignId), null),
};

export const cancelCampaignAction: ActionDefinition<typeof campaignInput, null> = {
  name: "campaign.cancel",
  permission: "campaigns:manage",
  input: campaignInput,
  target: (input) => ({ type: "campaign", id: input.campaignId }),
  handler: async ({ campaignId }, who) => (await cancelCampaign(getPrisma(), who, campaignId), null),
};

export const stopScheduleAction: ActionDefinition<typeof campaignInput, null> = {
  name: "campaign.schedule.stop",
  permission: "campaigns:manage",
  input: campaignInput,
  target: (input) => ({ type: "campaign", id: input.campaignId }),
  handler: async ({ campaignId }, who) => (await stopCampaignSchedule(getPrisma(), who, campaignId), null),
};

const reassignInput = z.object({ itemId: id, teamId: id, expectedVersion: z.number().int().min(0) });

export const reassignItemAction: ActionDefinition<typeof reassignInput, { version: number }> = {
  name: "campaign.item.reassign",
  permission: "campaigns:manage",
  input: reassignInput,
  target: (input) => ({ type: "reviewItem", id: input.itemId }),
  handler: ({ itemId, teamId, expectedVersion }, who) => reassignItem(getPrisma(), who, itemId, { teamId, expectedVersion }),
};
