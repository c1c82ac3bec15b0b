import { apiRoute } from "@/lib/api/route";
import { applyDecisionEndpoint } from "@/lib/api/campaigns";

export const POST = apiRoute(applyDecisionEndpoint);
