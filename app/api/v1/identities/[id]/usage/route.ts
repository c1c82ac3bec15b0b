import { apiRoute } from "@/lib/api/route";
import { identityUsageEndpoint } from "@/lib/api/identities";

export const GET = apiRoute(identityUsageEndpoint);
