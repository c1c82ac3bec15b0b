import { apiRoute } from "@/lib/api/route";
import { ingestHistoryEndpoint, postAuditImport } from "@/lib/usage/import-api";

export const GET = apiRoute(ingestHistoryEndpoint);
export const POST = postAuditImport;
