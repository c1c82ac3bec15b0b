import { apiRoute } from "@/lib/api/route";
import { inventoryExportEndpoint } from "@/lib/api/campaigns";

export const GET = apiRoute(inventoryExportEndpoint);
