import { apiRoute } from "@/lib/api/route";
import { createCampaignEndpoint, listCampaignsEndpoint } from "@/lib/api/campaigns";

export const GET = apiRoute(listCampaignsEndpoint);
export const POST = apiRoute(createCampaignEndpoint);
