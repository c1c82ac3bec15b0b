import { apiRoute } from "@/lib/api/route";
import { testConnectionEndpoint } from "@/lib/api/clusters";

export const POST = apiRoute(testConnectionEndpoint);
