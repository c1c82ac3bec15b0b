import { apiRoute } from "@/lib/api/route";
import { decideItemEndpoint } from "@/lib/api/campaigns";

export const POST = apiRoute(decideItemEndpoint);
