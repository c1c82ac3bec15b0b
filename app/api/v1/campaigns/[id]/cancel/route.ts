import { apiRoute } from "@/lib/api/route";
import { cancelCampaignEndpoint } from "@/lib/api/campaigns";

export const POST = apiRoute(cancelCampaignEndpoint);
