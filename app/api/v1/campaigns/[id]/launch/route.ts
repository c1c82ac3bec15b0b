import { apiRoute } from "@/lib/api/route";
import { launchCampaignEndpoint } from "@/lib/api/campaigns";

export const POST = apiRoute(launchCampaignEndpoint);
