import { apiRoute } from "@/lib/api/route";
import { getCampaignItemEndpoint } from "@/lib/api/campaigns";

export const GET = apiRoute(getCampaignItemEndpoint);
