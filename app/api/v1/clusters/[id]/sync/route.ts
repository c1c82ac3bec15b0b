import { apiRoute } from "@/lib/api/route";
import { syncNowEndpoint } from "@/lib/api/clusters";

export const POST = apiRoute(syncNowEndpoint);
