import { apiRoute } from "@/lib/api/route";
import { stopCampaignScheduleEndpoint } from "@/lib/api/campaigns";

export const POST = apiRoute(stopCampaignScheduleEndpoint);
