import { apiRoute } from "@/lib/api/route";
import { listCampaignItemsEndpoint } from "@/lib/api/campaigns";

export const GET = apiRoute(listCampaignItemsEndpoint);
