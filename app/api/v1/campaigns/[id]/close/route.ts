import { apiRoute } from "@/lib/api/route";
import { closeCampaignEndpoint } from "@/lib/api/campaigns";

export const POST = apiRoute(closeCampaignEndpoint);
