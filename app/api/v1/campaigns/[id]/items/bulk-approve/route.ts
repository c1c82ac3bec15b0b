import { apiRoute } from "@/lib/api/route";
import { bulkApproveEndpoint } from "@/lib/api/campaigns";

export const POST = apiRoute(bulkApproveEndpoint);
