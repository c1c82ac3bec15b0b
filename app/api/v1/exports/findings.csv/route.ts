import { apiRoute } from "@/lib/api/route";
import { findingsExportEndpoint } from "@/lib/api/campaigns";

export const GET = apiRoute(findingsExportEndpoint);
