import { apiRoute } from "@/lib/api/route";
import { campaignExportEndpoint } from "@/lib/api/campaigns";

// The campaign's decisions as a CSV download, streamed page by page.
export const GET = apiRoute(campaignExportEndpoint);
