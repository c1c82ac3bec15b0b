import { apiRoute } from "@/lib/api/route";
import { rollbackChangeSetEndpoint } from "@/lib/api/campaigns";

export const POST = apiRoute(rollbackChangeSetEndpoint);
