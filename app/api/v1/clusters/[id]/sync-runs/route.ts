import { apiRoute } from "@/lib/api/route";
import { syncRunsEndpoint } from "@/lib/api/clusters";

export const GET = apiRoute(syncRunsEndpoint);
