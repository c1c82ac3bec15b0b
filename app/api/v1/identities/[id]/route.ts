import { apiRoute } from "@/lib/api/route";
import { getIdentityEndpoint } from "@/lib/api/identities";

export const GET = apiRoute(getIdentityEndpoint);
