import { apiRoute } from "@/lib/api/route";
import { listIdentitiesEndpoint } from "@/lib/api/identities";

export const GET = apiRoute(listIdentitiesEndpoint);
