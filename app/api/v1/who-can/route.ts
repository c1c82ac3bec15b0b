import { apiRoute } from "@/lib/api/route";
import { whoCanEndpoint } from "@/lib/api/who-can";

export const GET = apiRoute(whoCanEndpoint);
