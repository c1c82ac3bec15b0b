import { apiRoute } from "@/lib/api/route";
import { previewDecisionEndpoint } from "@/lib/api/campaigns";

export const POST = apiRoute(previewDecisionEndpoint);
