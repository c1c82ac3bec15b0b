import { apiRoute } from "@/lib/api/route";
import { getCampaignEndpoint } from "@/lib/api/campaigns";

export const GET = apiRoute(getCampaignEndpoint);
